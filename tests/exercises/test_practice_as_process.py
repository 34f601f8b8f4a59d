"""Between-session practice as a process variable in "what moves with change": the exercise entries of
the week before each session (exercises.selectors.entries_before_sessions), put through the same
within-client lagged model as the measures (insights.selectors.practice_mechanisms), and shown only
once enough clients were set exercises."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

import pytest
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.clients.models import Episode
from spacebetween.core import mechanisms
from spacebetween.exercises.models import ExerciseAssignment, ExerciseEntry
from spacebetween.exercises.selectors import entries_before_sessions
from spacebetween.insights.selectors import PRACTICE_PROCESS, practice_mechanisms
from tests.conftest import signed_in
from tests.insights.conftest import session_start

pytestmark = pytest.mark.django_db


def _set(episode: Episode, alice: User, opens: dt.datetime, days: int) -> ExerciseAssignment:
    return ExerciseAssignment.objects.create(
        episode=episode,
        exercise="emotion-check-in",
        frequency="daily",
        starts_on=opens.date(),
        ends_on=opens.date() + dt.timedelta(days=days),
        assigned_by=alice,
        assigned_at=opens,
    )


def _done(assignment: ExerciseAssignment, before: dt.datetime, count: int) -> None:
    for n in range(count):  # spread over the week before `before`
        ExerciseEntry.objects.create(
            assignment=assignment, recorded_at=before - dt.timedelta(days=1 + n % 6, hours=n), content="x"
        )


def test_entries_of_the_week_before_each_session_and_none_before_anything_was_set(
    alice: User, course: Callable[..., Episode]
) -> None:
    episode = course("Practice", phq9=[15, 14, 13, 12, 11])
    starts = [session_start(k, 5) for k in range(1, 6)]
    assignment = _set(episode, alice, starts[1] + dt.timedelta(hours=2), days=30)  # after session 2
    _done(assignment, starts[2], 3)
    _done(assignment, starts[4], 1)
    ExerciseEntry.objects.create(  # eight days before session 5: not in its week
        assignment=assignment, recorded_at=starts[4] - dt.timedelta(days=8), content="x"
    )
    (row,) = entries_before_sessions({episode.pk: starts}, time_zone="Europe/London").values()
    assert math.isnan(row[0]) and math.isnan(row[1])  # nothing was set yet: unknown, not zero
    assert row[2:] == [3.0, 1.0, 1.0]  # session 4's week holds the entry eight days before session 5


def _practice_led_courses(alice: User, course: Callable[..., Episode], clients: int) -> None:
    """As the alliance-led courses of tests/insights/test_report.py: PHQ-9 falls a point a session plus
    half the week's practice above the client's own usual number of entries, with a small wobble."""
    base = [4, -4, 2, -2, 0, 0, 3, -3, 1, -1]
    for c in range(clients):
        wobble = [1, -1, 0, 1, -1, 0, 1, 0, -1] if c % 2 else [-1, 0, 1, -1, 1, 0, 0, 1, -1]
        d = base[c % 5 :] + base[: c % 5]
        phq = [24]
        for t in range(9):
            phq.append(phq[-1] - 1 - d[t] // 2 - wobble[t])
        episode = course(f"P{c}", phq9=phq)
        assignment = _set(episode, alice, session_start(1, 10) - dt.timedelta(days=8), days=80)
        for k in range(1, 11):
            _done(assignment, session_start(k, 10), 4 + d[k - 1])


def test_practice_joins_the_table_once_enough_clients_have_it(
    alice: User, admin: User, course: Callable[..., Episode], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mechanisms, "MIN_CLIENTS", 3)
    _practice_led_courses(alice, course, 3)
    (found,) = [m for m in practice_mechanisms(admin.practice) if m.process == PRACTICE_PROCESS]
    assert "PHQ-9" in found.outcome
    assert (found.n_clients, found.n_pairs) == (3, 27)
    assert found.raw_ci_low is not None and found.raw_ci_high is not None
    assert found.raw_ci_low < 0.5 < found.raw_ci_high  # half a point per entry above the usual
    body = signed_in(admin).get(reverse("practice_outcomes")).content.decode()
    assert f'<th scope="row" data-label="Measure">{PRACTICE_PROCESS}</th>' in body
    monkeypatch.setattr(mechanisms, "MIN_CLIENTS", 4)  # too few clients with exercises: no row at all
    assert [m.process for m in practice_mechanisms(admin.practice)] == []
