"""New answers mark their episode's signals stale through `measures.events.answers_stored`, which
insights listens to: the mark is written inside the writer's transaction, so it commits with the
answers or not at all; and the worker's job stamps the signals it refreshes with its own `now`."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from spacebetween.answering import services as answering
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Attendance, Episode
from spacebetween.insights import services
from spacebetween.insights.models import EpisodeSignal, StaleEpisode
from spacebetween.measures.events import answers_stored
from spacebetween.measures.models import Response
from spacebetween.relationship import services as relationship
from tests.insights.conftest import answers_for, session_start
from tests.relationship.conftest import RATING

pytestmark = pytest.mark.django_db


def _submit(alice, episode: Episode, **kwargs: object) -> Response:
    when = session_start(2, 2) - dt.timedelta(hours=14)
    assignment = answering.assignment_create(
        actor=alice, episode=episode, instrument_id="phq9", due_at=when - dt.timedelta(hours=1), now=when
    )
    return answering.response_submit(
        assignment=assignment,
        answers=answers_for("phq9", 12),
        via="link",
        now=when,
        **kwargs,  # type: ignore[arg-type]
    )


def test_an_answer_sends_answers_stored_inside_its_own_transaction(alice, course) -> None:
    episode = course("Quiet", sessions=2)
    services.refresh_stale()  # the sessions marked it (clients.events.course_changed); refreshed
    assert not StaleEpisode.objects.exists()
    seen: list[tuple[int, bool, int]] = []

    def listener(sender: object, *, episode_id: int, **kwargs: object) -> None:
        seen.append((episode_id, connection.in_atomic_block, Response.objects.count()))

    answers_stored.connect(listener)
    try:
        _submit(alice, episode)
    finally:
        answers_stored.disconnect(listener)

    assert seen == [(episode.pk, True, 1)]  # the response is written, not yet committed
    assert StaleEpisode.objects.filter(episode=episode).exists()


def test_an_answer_that_fails_to_commit_leaves_no_stale_mark(alice, course) -> None:
    episode = course("Quiet", sessions=2)
    services.refresh_stale()  # the sessions marked it (clients.events.course_changed); refreshed

    def audit_fails(response: Response) -> None:
        raise RuntimeError("the audit append failed")

    with pytest.raises(RuntimeError):
        _submit(alice, episode, audit_stored=audit_fails)

    assert not Response.objects.exists()
    assert not StaleEpisode.objects.exists()  # rolled back with the response


def test_a_session_rating_marks_its_episode_stale(alice, course) -> None:
    episode = course("Quiet", sessions=2)
    session = episode.sessions.order_by("starts_at").last()
    assert session is not None
    relationship.reflection_record(actor=alice, session=session, answers=RATING)
    assert StaleEpisode.objects.filter(episode=episode).exists()


def test_a_session_or_the_end_of_an_episode_marks_it_stale(alice, course) -> None:
    # A session marked attended moves scores to other sessions (and "no reliable improvement by
    # session N" counts sessions); an end turns later answers into follow-ups: the stored signals
    # are stale until the worker refreshes them, and the pages compute them in memory meanwhile.
    episode = course("Quiet", sessions=2)
    assert StaleEpisode.objects.filter(episode=episode).exists()
    services.refresh_stale()
    session = episode.sessions.order_by("starts_at").last()
    assert session is not None
    clinical.session_update(
        actor=alice,
        session=session,
        starts_at=session.starts_at,
        duration_minutes=session.duration_minutes,
        format=session.format,
        attendance=Attendance.CANCELLED,
        participants=[episode.client],
    )
    assert StaleEpisode.objects.filter(episode=episode).exists()
    services.refresh_stale()
    clinical.episode_close(actor=alice, episode=episode, ended_on=dt.date.today(), end_reason="completed")
    assert StaleEpisode.objects.filter(episode=episode).exists()


def test_the_worker_job_computes_the_signals_at_its_own_now(alice, course) -> None:
    episode = course("Worse", phq9=[10, 12, 14, 15, 17])
    now = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert services.refresh_stale_due(now=now) == 1
    signal = EpisodeSignal.objects.get(episode=episode, kind="reliable_deterioration")
    assert signal.computed_at == now
    assert not StaleEpisode.objects.exists()
