"""Reads. The therapist's side shows, per episode, what was set, how often it was done and the
entries the client shared (a private entry: only that it was done, never its content); the client's
side, their own open exercises and the pages shared with them. Scope comes from `exercises.access`."""

from __future__ import annotations

import datetime as dt
import json
import math
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Max, QuerySet

from spacebetween import clock, crypto
from spacebetween.accounts.models import CLINICAL_ROLES, User
from spacebetween.clients.models import Episode
from spacebetween.exercises import catalogue, own, own_pages
from spacebetween.exercises.access import assignments_for, readings_for
from spacebetween.exercises.models import ExerciseAssignment, ExerciseEntry, ReadingShare
from spacebetween.exercises.services import entry_context, is_open, practice_today


@dataclass(frozen=True)
class EntryView:
    entry: ExerciseEntry
    answers: list[tuple[str, str]] | None  # (question, answer); None for a private entry


@dataclass(frozen=True)
class AssignmentView:
    assignment: ExerciseAssignment
    exercise: catalogue.Exercise
    done: int
    last_done_at: dt.datetime | None
    open: bool
    entries: list[EntryView] = field(default_factory=list)


@dataclass(frozen=True)
class ReadingView:
    share: ReadingShare
    page: catalogue.Page


@dataclass(frozen=True)
class BetweenSessions:
    assignments: list[AssignmentView]
    readings: list[ReadingView]


def _shown(field_: catalogue.Field, value: object) -> str:
    if field_.kind == "intensity":
        return f"{value} out of 100"
    if field_.kind == "scale10":
        return f"{value} out of 10"
    if field_.kind == "minutes":
        return f"{value} minute{'' if value == 1 else 's'}"
    return str(value)


def entry_answers(assignment: ExerciseAssignment, entry: ExerciseEntry) -> list[tuple[str, str]]:
    answers = json.loads(crypto.decrypt(entry.content, context=entry_context(assignment.pk)))
    exercise = own.exercise_of(assignment)
    return [(f.label, _shown(f, answers[f.name])) for f in exercise.fields if f.name in answers]


def _views(assignments: Iterable[ExerciseAssignment], today: dict[int, dt.date]) -> list[AssignmentView]:
    return [
        AssignmentView(
            a,
            own.exercise_of(a),
            a.done,  # type: ignore[attr-defined]
            a.last_done_at,  # type: ignore[attr-defined]
            is_open(a, today[a.episode_id]),
        )
        for a in assignments
    ]


def _annotated(user: User) -> QuerySet[ExerciseAssignment]:
    return (
        assignments_for(user)
        .select_related("episode__client__practice", "practice_exercise")
        .annotate(done=Count("entries"), last_done_at=Max("entries__recorded_at"))
    )


def between_sessions_for(
    user: User, episodes: Iterable[Episode], *, now: dt.datetime | None = None
) -> dict[int, BetweenSessions]:
    """Per episode the clinician may read: what is set, how often done, the pages shared and read.
    Never content: two queries whatever the number of episodes."""
    now = now or clock.now()
    ids = [e.pk for e in episodes]
    if user.role not in CLINICAL_ROLES or not ids:
        return {}
    assignments = list(_annotated(user).filter(episode_id__in=ids))
    today = {a.episode_id: practice_today(a.episode, now) for a in assignments}
    shares = readings_for(user).filter(episode_id__in=ids).select_related("practice_page")
    found = {pk: BetweenSessions([], []) for pk in ids}
    for view in _views(assignments, today):
        found[view.assignment.episode_id].assignments.append(view)
    for share in shares:
        found[share.episode_id].readings.append(ReadingView(share, own_pages.page_of(share)))
    return found


def episode_entries(user: User, episode: Episode, *, now: dt.datetime | None = None) -> BetweenSessions:
    """One episode in full for a clinician who may read it: every entry, the shared ones decrypted."""
    now = now or clock.now()
    summary = between_sessions_for(user, [episode], now=now).get(episode.pk, BetweenSessions([], []))
    entries: dict[int, list[ExerciseEntry]] = {}
    for entry in ExerciseEntry.objects.filter(assignment__in=[a.assignment for a in summary.assignments]):
        entries.setdefault(entry.assignment_id, []).append(entry)
    for view in summary.assignments:
        view.entries.extend(
            EntryView(e, None if e.private else entry_answers(view.assignment, e))
            for e in entries.get(view.assignment.pk, [])
        )
    return summary


def portal_between_sessions(user: User, *, now: dt.datetime | None = None) -> BetweenSessions:
    """The client's own open exercises and the pages shared with them (their own record only)."""
    now = now or clock.now()
    assignments = list(_annotated(user).filter(withdrawn_at__isnull=True, episode__ended_on__isnull=True))
    today = {a.episode_id: practice_today(a.episode, now) for a in assignments}
    views = [v for v in _views(assignments, today) if v.open]
    readings = [
        ReadingView(s, own_pages.page_of(s)) for s in readings_for(user).select_related("practice_page")
    ]
    return BetweenSessions(views, readings)


def own_entries(assignment: ExerciseAssignment) -> list[EntryView]:
    """The client's own entries in one exercise (the caller has checked it is theirs)."""
    return [EntryView(e, entry_answers(assignment, e)) for e in assignment.entries.all()]


# --- practice as a process variable (insights.selectors.practice_mechanisms) ---

PRACTICE_WINDOW_DAYS = 7


def entries_before_sessions(
    attended: Mapping[int, Sequence[dt.datetime]], *, time_zone: str, days: int = PRACTICE_WINDOW_DAYS
) -> dict[int, list[float]]:
    """Per episode, per attended session in order: how many exercise entries the client recorded in
    the `days` before the session began. NaN where no exercise was set for any of those days: not
    being asked is not the same as not practising. Private entries count (only that one was done is
    used, never what it says). Two queries."""
    zone = zoneinfo.ZoneInfo(time_zone)
    windows: dict[int, list[tuple[dt.datetime, dt.date, dt.date, dt.datetime | None]]] = {}
    for a in ExerciseAssignment.objects.filter(episode_id__in=list(attended)):
        windows.setdefault(a.episode_id, []).append((a.assigned_at, a.starts_on, a.ends_on, a.withdrawn_at))
    done: dict[int, list[dt.datetime]] = {}
    for episode_id, at in ExerciseEntry.objects.filter(assignment__episode_id__in=list(attended)).values_list(
        "assignment__episode_id", "recorded_at"
    ):
        done.setdefault(episode_id, []).append(at)
    found: dict[int, list[float]] = {}
    for episode_id, starts in attended.items():
        row: list[float] = []
        for start in starts:
            since = start - dt.timedelta(days=days)
            first, last = since.astimezone(zone).date(), start.astimezone(zone).date()
            asked = any(
                assigned < start and (stopped is None or stopped > since) and opens <= last and ends >= first
                for assigned, opens, ends, stopped in windows.get(episode_id, [])
            )
            row.append(
                float(sum(since <= at < start for at in done.get(episode_id, []))) if asked else math.nan
            )
        found[episode_id] = row
    return found
