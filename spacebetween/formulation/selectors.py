"""Reads: an episode's formulation versions, two of them side by side, and its goals with their
ratings by session number. Callers pass an episode they already fetched through `clients.access`
(the treating therapist, or a supervisor for an episode shared for supervision); a client and an admin
never reach these pages (`accounts.decorators.clinician_required`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from spacebetween import clock
from spacebetween.clients.models import Attendance, Episode, Session
from spacebetween.core.formulation import FIELDS, FieldChange, compare
from spacebetween.core.goals import GoalChange, goal_change
from spacebetween.formulation.models import FormulationVersion, Goal


@dataclass(frozen=True)
class Part:
    label: str
    text: str


@dataclass(frozen=True)
class Group:
    title: str
    parts: list[Part]


def versions(episode: Episode) -> list[FormulationVersion]:
    """Every version, newest first."""
    return list(
        FormulationVersion.objects.filter(episode=episode).select_related("author").order_by("-number")
    )


def grouped(version: FormulationVersion) -> list[Group]:
    """A version's parts under their headings, in reading order."""
    groups: list[Group] = []
    for field, label, title in FIELDS:
        if not groups or groups[-1].title != title:
            groups.append(Group(title, []))
        groups[-1].parts.append(Part(label, str(version.content.get(field, ""))))
    return groups


@dataclass(frozen=True)
class Comparison:
    before: FormulationVersion
    after: FormulationVersion
    rows: list[FieldChange]

    @property
    def changed_count(self) -> int:
        return sum(1 for row in self.rows if row.changed)


def comparison(episode: Episode, before: int | None, after: int | None) -> Comparison | None:
    """Versions `before` and `after` (by number) side by side; by default the latest and the one before
    it. None when the episode has fewer than two versions or a number is not one of its versions."""
    found = {v.number: v for v in FormulationVersion.objects.filter(episode=episode)}
    if len(found) < 2:
        return None
    latest = max(found)
    after = latest if after is None else after
    before = (after - 1) if before is None else before
    if before not in found or after not in found or before == after:
        return None
    a, b = found[before], found[after]
    return Comparison(
        a, b, compare(a.content, b.content, before_measures=a.measures, after_measures=b.measures)
    )


def held_sessions(episode: Episode, *, now: dt.datetime | None = None) -> list[Session]:
    """The episode's sessions that have taken place, in order: a goal is rated at one of them, and its
    position is the session number on the chart."""
    now = now or clock.now()
    return list(
        Session.objects.filter(episode=episode, starts_at__lte=now)
        .exclude(attendance__in=[Attendance.CANCELLED, Attendance.DID_NOT_ATTEND])
        .order_by("starts_at", "pk")
    )


@dataclass(frozen=True)
class GoalProgress:
    goal: Goal
    number: int  # 1, 2, ... in the order goals were set
    points: list[tuple[int, int]]  # (session number, rating), in session order
    change: GoalChange | None


def goal_progress(episode: Episode, sessions: Sequence[Session]) -> list[GoalProgress]:
    """Every goal of the episode (active first-set first, closed too) with its ratings by session
    number among `sessions` (held_sessions) and its change from first to latest rating."""
    numbers = {s.pk: i for i, s in enumerate(sessions, start=1)}
    result = []
    goals = Goal.objects.filter(episode=episode).prefetch_related("ratings").order_by("created_at", "pk")
    for index, goal in enumerate(goals, start=1):
        points = sorted(
            (numbers[r.session_id], r.score) for r in goal.ratings.all() if r.session_id in numbers
        )
        result.append(GoalProgress(goal, index, points, goal_change(points)))
    return result


def active_goals(episode: Episode) -> list[Goal]:
    return list(Goal.objects.filter(episode=episode, closed_at__isnull=True).order_by("created_at", "pk"))
