"""Issue #17, part 5: the reconsolidation work "shown on the client's timeline". On the client page
each episode lists its work's dated events (steps A-D, marker checks, follow-ups due or overdue),
each linked to the work's page, never the client's words; the reads are audited by the work's id
(as the workspace does); a supervisor sees it on a shared episode, a colleague not at all; and the
page's query count does not grow with the events."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Episode
from spacebetween.formulation import services
from spacebetween.formulation.models import ReconsolidationWork
from tests.conftest import FakeClock, signed_in

pytestmark = pytest.mark.django_db

MARKERS = {"no_retrigger": "yes", "symptom_ceased": "partly", "effortless": "not_checked"}


def _work(alice: User, episode: Episode) -> ReconsolidationWork:
    return services.reconsolidation_start(
        actor=alice,
        episode=episode,
        symptom="Goes silent in arguments",
        emotional_truth="Speaking up makes people leave",
    )


def _through_d(alice: User, work: ReconsolidationWork, clock: FakeClock) -> None:
    clock.set(dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC))
    for step, day in (("retrieval", 8), ("disconfirmation", 15), ("juxtaposition", 22)):
        services.reconsolidation_step_add(
            actor=alice, work=work, step=step, occurred_on=dt.date(2026, 9, day), text=f"{step} words"
        )


def _page(user: User, episode: Episode) -> str:
    response = signed_in(user).get(f"/clients/{episode.client_id}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_events_are_on_the_client_page_oldest_first_with_a_link(
    alice: User, episode: Episode, clock: FakeClock
) -> None:
    clock.set(dt.datetime(2026, 9, 5, 12, 0, tzinfo=dt.UTC))
    work = _work(alice, episode)
    _through_d(alice, work, clock)
    services.marker_check_add(
        actor=alice, work=work, occasion="session", checked_on=dt.date(2026, 9, 29), results=MARKERS
    )
    clock.set(dt.datetime(2026, 12, 24, 12, 0, tzinfo=dt.UTC))  # the 3-month follow-up (22 Dec) is due
    page = _page(alice, episode)
    assert "Memory-reconsolidation work" in page
    assert f'href="/episodes/{episode.pk}/reconsolidation/{work.pk}/"' in page
    order = [
        "5 Sep 2026</th>",
        "A. Symptom and its emotional truth",
        "B. Retrieval",
        "C. Disconfirming knowledge",
        "D. Juxtaposition",
        "E. Verification markers: at a later session",
        "22 Dec 2026</th>",
    ]
    positions = [page.index(text) for text in order]
    assert positions == sorted(positions)
    assert "3-month follow-up: <strong>due</strong>" in page
    assert "no longer re-triggered by its former cues: yes" in page
    # never the client's words on this page: they are on the work's own page
    assert "Speaking up makes people leave" not in page and "retrieval words" not in page


def test_an_overdue_follow_up_reads_overdue(alice: User, episode: Episode, clock: FakeClock) -> None:
    clock.set(dt.datetime(2026, 9, 5, 12, 0, tzinfo=dt.UTC))
    _through_d(alice, _work(alice, episode), clock)
    clock.set(dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC))
    page = _page(alice, episode)
    assert "3-month follow-up: <strong>overdue</strong>" in page
    assert "6-month follow-up: <strong>" not in page  # upcoming: not yet an event


def test_the_reads_are_audited_by_id(alice: User, episode: Episode, clock: FakeClock) -> None:
    clock.set(dt.datetime(2026, 9, 5, 12, 0, tzinfo=dt.UTC))
    work = _work(alice, episode)
    _through_d(alice, work, clock)
    _page(alice, episode)
    reads = AuditEvent.objects.filter(action="R", actor_id=alice.pk)
    assert [e.entity_id for e in reads.filter(entity_type="ReconsolidationWork")] == [str(work.pk)]
    # the work, as the workspace page audits it: one row per work, however many events it shows
    assert not reads.filter(entity_type="ReconsolidationStep").exists()
    assert reads.filter(entity_type="Client").exists()  # the client page's own reads


def test_a_supervisor_sees_it_on_a_shared_episode_a_colleague_never(
    alice: User, sam: User, bob: User, shared_episode: Episode, clock: FakeClock
) -> None:
    clock.set(dt.datetime(2026, 9, 5, 12, 0, tzinfo=dt.UTC))
    work = _work(alice, shared_episode)
    assert f"/reconsolidation/{work.pk}/" in _page(sam, shared_episode)
    assert signed_in(bob).get(f"/clients/{shared_episode.client_id}/").status_code == 404


def test_no_work_no_section(alice: User, episode: Episode) -> None:
    page = _page(alice, episode)
    assert "Carol Jones" in page and "Formulation and goals" in page  # the client page
    assert "Memory-reconsolidation work" not in page


def test_the_page_needs_the_same_queries_for_one_event_and_many(
    alice: User, episode: Episode, clock: FakeClock
) -> None:
    clock.set(dt.datetime(2026, 9, 30, 12, 0, tzinfo=dt.UTC))
    work = _work(alice, episode)
    http = signed_in(alice)
    url = f"/clients/{episode.client_id}/"

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert http.get(url).status_code == 200
        return len(ctx.captured_queries)

    def step(kind: str, day: int) -> None:
        services.reconsolidation_step_add(
            actor=alice, work=work, step=kind, occurred_on=dt.date(2026, 9, day), text="words"
        )

    step("retrieval", 8)
    few = queries()
    step("disconfirmation", 15)
    step("juxtaposition", 22)
    for day in (29, 30):  # two checks: still the same queries
        services.marker_check_add(
            actor=alice, work=work, occasion="session", checked_on=dt.date(2026, 9, day), results=MARKERS
        )
    assert queries() == few
    assert "E. Verification markers" in http.get(url).content.decode()
