"""Issue #17, part 2: a formulation "linked to the evidence in notes". Revising it, the therapist
picks sessions of the episode whose notes bear on it; each version keeps its own (ids, in session
order); the workspace and the compare view link to those sessions' progress notes; a session of
another episode is refused, naming the field, and nothing is saved."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError

from spacebetween.accounts.models import User
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Client, Episode, Session
from spacebetween.formulation import services
from spacebetween.formulation.models import FormulationVersion
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def _other_session(alice: User, client_record: Client) -> Session:
    other = clinical.episode_open(
        actor=alice, client=client_record, referral_reason="Later", started_on=dt.date(2026, 9, 2)
    )
    return clinical.session_create(
        actor=alice, episode=other, starts_at=dt.datetime(2026, 9, 9, 10, 0, tzinfo=dt.UTC)
    )


def test_each_version_keeps_its_own_evidence_in_session_order(
    alice: User, episode: Episode, held: list[Session]
) -> None:
    first = services.formulation_revise(
        actor=alice, episode=episode, fields={"ccrt_wish": "To be heard"}, evidence=[held[2].pk, held[0].pk]
    )
    second = services.formulation_revise(
        actor=alice, episode=episode, fields={"ccrt_wish": "To be heard"}, evidence=[held[1].pk]
    )  # only the evidence changed: still a new version
    first.refresh_from_db()
    assert first.evidence == [held[0].pk, held[2].pk]
    assert second.number == 2 and second.evidence == [held[1].pk]


def test_a_session_of_another_episode_is_refused_and_nothing_saved(
    alice: User, episode: Episode, held: list[Session], client_record: Client
) -> None:
    stranger = _other_session(alice, client_record)
    bad_lists: list[list[object]] = [[stranger.pk], [held[0].pk, 999999], ["1"]]
    for bad in bad_lists:
        with pytest.raises(ValidationError) as refused:
            services.formulation_revise(
                actor=alice,
                episode=episode,
                fields={"ccrt_wish": "To be heard"},
                evidence=bad,  # type: ignore[arg-type]
            )
        assert "evidence" in refused.value.message_dict
    assert not FormulationVersion.objects.exists()


def test_the_pages_link_each_version_to_its_progress_notes(
    alice: User, episode: Episode, held: list[Session]
) -> None:
    http = signed_in(alice)
    url = f"/episodes/{episode.pk}/formulation/revise/"
    form = http.get(url).content.decode()
    assert "Evidence in the notes" in form and f'value="{held[1].pk}"' in form
    assert http.post(url, {"ccrt_wish": "To be heard", "evidence": [held[0].pk]}).status_code == 302
    assert http.post(url, {"ccrt_wish": "To be heard", "evidence": [held[2].pk]}).status_code == 302
    assert [v.evidence for v in FormulationVersion.objects.order_by("number")] == [[held[0].pk], [held[2].pk]]
    workspace = http.get(f"/episodes/{episode.pk}/workspace/").content.decode()
    assert f'href="/sessions/{held[2].pk}/progress-note/"' in workspace  # the latest version's
    assert f'href="/sessions/{held[0].pk}/progress-note/"' not in workspace
    assert re.search(r"Session 3, <time[^>]*>Tue 22 Sep 2026</time>: progress note", workspace)
    compare = http.get(f"/episodes/{episode.pk}/formulation/compare/").content.decode()
    assert compare.index(f"/sessions/{held[0].pk}/progress-note/") < compare.index(
        f"/sessions/{held[2].pk}/progress-note/"
    )  # version 1's, then version 2's, side by side


def test_the_form_refuses_a_session_it_did_not_offer(
    alice: User, episode: Episode, held: list[Session], client_record: Client
) -> None:
    stranger = _other_session(alice, client_record)
    response = signed_in(alice).post(
        f"/episodes/{episode.pk}/formulation/revise/", {"ccrt_wish": "To be heard", "evidence": [stranger.pk]}
    )
    assert response.status_code == 400
    assert "Evidence in the notes" in response.content.decode()
    assert not FormulationVersion.objects.exists()
