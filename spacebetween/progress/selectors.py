"""Reads for the client's own view of their progress, and for practice per week on the client page.

Scope comes from `clients.access` (and `exercises.access` on it): a client reaches only their own
record through their portal login; a clinician only the episodes they may read. Nothing here reads a
signal, a band, a cut-off or a note: the client's view shows what the client gave (their scores,
their goals in their own words and their ratings, what they practised) and nothing the practice
derived from it (docs/between-sessions.md, "The client's own view").
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db.models import Prefetch

from spacebetween import clock
from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Entity
from spacebetween.clients.access import clients_for, episodes_for
from spacebetween.clients.models import Client, Episode
from spacebetween.core import instruments
from spacebetween.core.weekly import per_week
from spacebetween.exercises.access import assignments_for
from spacebetween.exercises.models import ExerciseEntry
from spacebetween.exercises.selectors import AssignmentView, portal_between_sessions
from spacebetween.formulation.models import Goal, GoalRating
from spacebetween.measures.models import Response
from spacebetween.progress.chart import score_chart
from spacebetween.progress.models import ProgressViewSetting
from spacebetween.progress.wording import PLAIN, PlainMeasure, shown_score
from spacebetween.safety.plans import current_plan

# Weeks of practice shown, on the client page and in the portal: about two months, enough to see a
# habit form or fade (Lally et al. 2010 found a median of 66 days to automaticity).
PRACTICE_WEEKS = 8


def progress_shown(client: Client | None) -> bool:
    """Whether the client sees their own progress in the portal: yes unless a therapist turned it off."""
    if client is None:
        return False
    return not ProgressViewSetting.objects.filter(client_id=client.pk, shown=False).exists()


@dataclass(frozen=True)
class ScorePoint:
    response_id: int
    answered_at: dt.datetime
    value: float
    score: str  # as the client reads it (wording.shown_score)


@dataclass(frozen=True)
class MeasureProgress:
    instrument_id: str
    plain: PlainMeasure
    points: list[ScorePoint]  # oldest first
    chart: str  # a small SVG of the scores (progress.chart), text alternatives included

    @property
    def first(self) -> ScorePoint:
        return self.points[0]

    @property
    def latest(self) -> ScorePoint:
        return self.points[-1]


@dataclass(frozen=True)
class GoalView:
    goal: Goal
    first: GoalRating | None
    latest: GoalRating | None


@dataclass(frozen=True)
class PracticeWeeks:
    weeks: list[tuple[dt.date, int]]  # (Monday, exercises done), oldest first

    @property
    def total(self) -> int:
        return sum(count for _, count in self.weeks)


@dataclass(frozen=True)
class OwnProgress:
    client: Client | None
    shown: bool
    measures: list[MeasureProgress]
    goals: list[GoalView]
    exercises: list[AssignmentView]
    practice: PracticeWeeks | None
    has_safety_plan: bool

    @property
    def read(self) -> list[tuple[Entity, object]]:
        """(entity, id) of each record the page shows, for the audit log; ids only."""
        shown: list[tuple[Entity, object]] = [(Entity.CLIENT, self.client.pk)] if self.client else []
        shown += [(Entity.RESPONSE, p.response_id) for m in self.measures for p in m.points]
        shown += [(Entity.GOAL, g.goal.pk) for g in self.goals]
        shown += [(Entity.EXERCISE_ASSIGNMENT, a.assignment.pk) for a in self.exercises]
        return shown


def _today(user: User, now: dt.datetime) -> dt.date:
    return now.astimezone(zoneinfo.ZoneInfo(user.practice.time_zone)).date()


def _weeks(user: User, entries: list[dt.datetime], last_day: dt.date) -> PracticeWeeks:
    zone = zoneinfo.ZoneInfo(user.practice.time_zone)
    days = [recorded.astimezone(zone).date() for recorded in entries]
    return PracticeWeeks(per_week(days, last_day=last_day, weeks=PRACTICE_WEEKS))


def _window_start(last_day: dt.date) -> dt.datetime:
    """A day before the first Monday shown, in UTC: wide enough for any practice's time zone."""
    first_monday = last_day - dt.timedelta(days=last_day.weekday(), weeks=PRACTICE_WEEKS - 1)
    return dt.datetime.combine(first_monday - dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def practice_per_week(
    user: User, episode: Episode, *, now: dt.datetime | None = None
) -> PracticeWeeks | None:
    """For the client page, beside the measures: the episode's exercise entries per week (private ones
    counted, as the therapist already sees that they were done), up to today or the episode's end.
    None when the episode has no exercise the user may read. Two queries at most, however long the
    course."""
    now = now or clock.now()
    last_day = _today(user, now)
    if episode.ended_on is not None:
        last_day = min(last_day, episode.ended_on)
    entries = list(
        ExerciseEntry.objects.filter(
            assignment__in=assignments_for(user).filter(episode_id=episode.pk),
            recorded_at__gte=_window_start(last_day),
        ).values_list("recorded_at", flat=True)
    )
    if not entries and not assignments_for(user).filter(episode_id=episode.pk).exists():
        return None
    return _weeks(user, entries, last_day)


def _measures(user: User) -> list[MeasureProgress]:
    responses = (
        Response.objects.filter(assignment__episode__in=episodes_for(user), instrument_id__in=list(PLAIN))
        .only("pk", "instrument_id", "submitted_at", "scores")
        .order_by("submitted_at", "pk")
    )
    found: dict[str, list[ScorePoint]] = {}
    for response in responses:
        plain = PLAIN[response.instrument_id]
        value = (response.scores.get(plain.scale) or {}).get("score")
        if value is None:  # too many items left unanswered to score
            continue
        shown = shown_score(float(value), plain.decimals)
        point = ScorePoint(response.pk, response.submitted_at, float(value), shown)
        found.setdefault(response.instrument_id, []).append(point)
    order = list(PLAIN)
    return [_measure(iid, points) for iid, points in sorted(found.items(), key=lambda i: order.index(i[0]))]


def _measure(instrument_id: str, points: list[ScorePoint]) -> MeasureProgress:
    plain = PLAIN[instrument_id]
    low, high = instruments.get(instrument_id, include_licensed=True).scale(plain.scale).range
    chart = score_chart(
        label=plain.short,
        scores=[p.value for p in points],
        low=low,
        high=high,
        shown=[p.score for p in points],
    )
    return MeasureProgress(instrument_id, plain, points, chart)


def _goals(user: User) -> list[GoalView]:
    """The goals of the client's open episodes, in the order they were set, each with its first and
    latest rating (by the session it was rated at)."""
    ratings = GoalRating.objects.select_related("session").order_by("session__starts_at", "pk")
    goals = (
        Goal.objects.filter(episode__in=episodes_for(user).filter(ended_on__isnull=True))
        .prefetch_related(Prefetch("ratings", queryset=ratings))
        .order_by("created_at", "pk")
    )
    views = []
    for goal in goals:
        rated = list(goal.ratings.all())
        views.append(GoalView(goal, rated[0] if rated else None, rated[-1] if rated else None))
    return views


def own_progress(user: User, *, now: dt.datetime | None = None) -> OwnProgress:
    """A signed-in client's own progress: their questionnaire scores over time, their goals, their
    open exercises and practice per week, and whether they have a safety plan. When their therapist
    has turned the view off, nothing but that."""
    now = now or clock.now()
    client = clients_for(user).filter(portal_user_id=user.pk).first() if user.role == Role.CLIENT else None
    if client is None or not progress_shown(client):
        return OwnProgress(client, False, [], [], [], None, False)
    entries = list(
        ExerciseEntry.objects.filter(
            assignment__in=assignments_for(user), recorded_at__gte=_window_start(_today(user, now))
        ).values_list("recorded_at", flat=True)
    )
    exercises = portal_between_sessions(user, now=now).assignments
    practice = _weeks(user, entries, _today(user, now)) if entries or exercises else None
    return OwnProgress(
        client=client,
        shown=True,
        measures=_measures(user),
        goals=_goals(user),
        exercises=exercises,
        practice=practice,
        has_safety_plan=current_plan(client) is not None,
    )
