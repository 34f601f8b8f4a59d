"""The reconsolidation pages: started, taken through its steps to the markers by the treating therapist;
read by a supervisor on a shared episode (403 on a write); bad input a 400 that changes nothing; every
page read audited."""

from __future__ import annotations

import datetime as dt

import pytest

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Episode
from spacebetween.formulation import services
from spacebetween.formulation.models import MarkerCheck, ReconsolidationStep, ReconsolidationWork
from tests.conftest import FakeClock, signed_in

pytestmark = pytest.mark.django_db

MARKERS = {"no_retrigger": "yes", "symptom_ceased": "partly", "effortless": "not_checked"}


def test_the_workflow_through_the_pages(alice: User, episode: Episode, clock: FakeClock) -> None:
    clock.set(dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC))
    http = signed_in(alice)
    version = services.formulation_revise(actor=alice, episode=episode, fields={"ccrt_wish": "To be heard"})
    response = http.post(
        f"/episodes/{episode.pk}/reconsolidation/new/",
        {
            "symptom": "Goes silent in arguments",
            "emotional_truth": "Speaking up makes people leave",
            "formulation": version.pk,
            "measures": ["phq9"],
        },
    )
    work = ReconsolidationWork.objects.get()
    assert response.status_code == 302 and work.formulation == version and work.measures == ["phq9"]
    url = f"/episodes/{episode.pk}/reconsolidation/{work.pk}/"
    for step, day in (
        ("retrieval", "2026-09-08"),
        ("disconfirmation", "2026-09-15"),
        ("juxtaposition", "2026-09-22"),
    ):
        assert (
            http.post(url + "steps/", {"step": step, "occurred_on": day, "text": f"{step} words"}).status_code
            == 302
        )
    assert (
        http.post(
            url + "markers/", {"occasion": "session", "checked_on": "2026-09-29", **MARKERS}
        ).status_code
        == 302
    )
    page = http.get(url).content.decode()
    assert "Speaking up makes people leave" in page and "Version 1" in page
    assert "3-month follow-up: 22 Dec 2026" in page and "Upcoming" in page
    assert (
        page.index("retrieval words")
        < page.index("disconfirmation words")
        < page.index("juxtaposition words")
    )
    assert "Partly" in page and "Not checked" in page
    workspace = http.get(f"/episodes/{episode.pk}/workspace/").content.decode()
    assert "Goes silent in arguments" in workspace and "1 marker check" in workspace
    assert AuditEvent.objects.filter(action="R", entity_type="MarkerCheck").exists()
    assert AuditEvent.objects.filter(action="R", entity_type="ReconsolidationStep").count() >= 3


def test_bad_input_is_400_and_changes_nothing(alice: User, episode: Episode) -> None:
    http = signed_in(alice)
    response = http.post(
        f"/episodes/{episode.pk}/reconsolidation/new/", {"symptom": "", "emotional_truth": "x"}
    )
    assert response.status_code == 400 and "Error" in response.content.decode()
    assert not ReconsolidationWork.objects.exists()
    work = services.reconsolidation_start(actor=alice, episode=episode, symptom="S", emotional_truth="T")
    url = f"/episodes/{episode.pk}/reconsolidation/{work.pk}/"
    response = http.post(url + "steps/", {"step": "juxtaposition", "occurred_on": "2026-09-08", "text": "x"})
    assert response.status_code == 400 and "Record step C" in response.content.decode()
    response = http.post(url + "markers/", {"occasion": "session", "checked_on": "2026-09-08", **MARKERS})
    assert response.status_code == 400
    assert not ReconsolidationStep.objects.exists() and not MarkerCheck.objects.exists()


def test_a_supervisor_reads_a_shared_episode_but_cannot_write(
    alice: User, sam: User, bob: User, shared_episode: Episode
) -> None:
    work = services.reconsolidation_start(
        actor=alice,
        episode=shared_episode,
        symptom="Panic at the door",
        emotional_truth="Out there is danger",
    )
    url = f"/episodes/{shared_episode.pk}/reconsolidation/{work.pk}/"
    page = signed_in(sam).get(url)
    assert page.status_code == 200 and "Out there is danger" in page.content.decode()
    assert "Shared with you for supervision" in page.content.decode()
    assert "Record the step" not in page.content.decode()
    post = signed_in(sam).post(
        url + "steps/", {"step": "retrieval", "occurred_on": "2026-09-08", "text": "x"}
    )
    assert post.status_code == 403 and not ReconsolidationStep.objects.exists()
    assert signed_in(bob).get(url).status_code == 404
    assert AuditEvent.objects.filter(actor_id=sam.pk, action="R", entity_type="ReconsolidationWork").exists()
