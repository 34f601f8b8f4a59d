"""Reads: an episode's formulation versions, two of them side by side, and its goals with their
ratings by session number. Callers pass an episode they already fetched through `clients.access`
(the treating therapist, or a supervisor for an episode shared for supervision); a client and an admin
never reach these pages (`accounts.decorators.clinician_required`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from spacebetween import clock
from spacebetween.clients.models import Attendance, Episode, Session
from spacebetween.core.formulation import FIELDS, FieldChange, compare
from spacebetween.core.goals import GoalChange, goal_change
from spacebetween.core.reconsolidation import (
    JUXTAPOSITION,
    MARKERS,
    OCCASIONS,
    RESULTS,
    STEP_IDS,
    STEP_LABELS,
    STEPS,
    FollowUp,
    follow_ups,
)
from spacebetween.formulation.models import (
    FormulationVersion,
    Goal,
    MarkerCheck,
    ReconsolidationStep,
    ReconsolidationWork,
)
from spacebetween.measures.selectors import assignments_for_episode, episode_plan_rows, instruments_for


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


def latest_versions(episodes: Sequence[Episode]) -> dict[int, FormulationVersion]:
    """Each episode's newest version, by episode id, in one query whatever the caseload (search)."""
    latest: dict[int, FormulationVersion] = {}
    rows = FormulationVersion.objects.filter(episode__in=episodes).order_by("episode_id", "-number")
    for version in rows:
        latest.setdefault(version.episode_id, version)
    return latest


def grouped(version: FormulationVersion) -> list[Group]:
    """A version's parts under their headings, in reading order."""
    groups: list[Group] = []
    for field, label, title in FIELDS:
        if not groups or groups[-1].title != title:
            groups.append(Group(title, []))
        groups[-1].parts.append(Part(label, str(version.content.get(field, ""))))
    return groups


@dataclass(frozen=True)
class Cited:
    """A session a formulation version cites as evidence in the notes; its progress note is linked."""

    session: Session
    number: int | None  # its number among the episode's held sessions, None if it did not take place


def evidence(episode: Episode, chosen: Sequence[FormulationVersion]) -> dict[int, list[Cited]]:
    """{version id: the sessions it cites, in session order}, in one query. A cited session since
    deleted is left out."""
    wanted = {pk for version in chosen for pk in version.evidence}
    if not wanted:
        return {version.pk: [] for version in chosen}
    numbers = {s.pk: n for n, s in enumerate(held_sessions(episode), start=1)}
    found = {s.pk: s for s in Session.objects.filter(episode=episode, pk__in=wanted)}
    return {
        version.pk: [Cited(found[pk], numbers.get(pk)) for pk in version.evidence if pk in found]
        for version in chosen
    }


@dataclass(frozen=True)
class Comparison:
    before: FormulationVersion
    after: FormulationVersion
    rows: list[FieldChange]
    before_evidence: list[Cited]
    after_evidence: list[Cited]

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
    cited = evidence(episode, [a, b])
    return Comparison(
        a,
        b,
        compare(a.content, b.content, before_measures=a.measures, after_measures=b.measures),
        cited[a.pk],
        cited[b.pk],
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


def episode_instruments(episode: Episode) -> dict[str, str]:
    """The instruments the episode uses (its measurement plan, and any questionnaire assigned in it)
    that the practice can still use: {id: title}."""
    available = instruments_for(episode.client.practice)
    used = {row.instrument_id for row in episode_plan_rows(episode)}
    used |= set(assignments_for_episode(episode).values_list("instrument_id", flat=True))
    return {iid: available[iid].title for iid in sorted(used) if iid in available}


# ------------------------------------------------------------------------------ memory reconsolidation


@dataclass(frozen=True)
class Event:
    """One dated event of a piece of reconsolidation work, for its timeline."""

    on: dt.date
    letter: str  # the step's letter, A-E
    title: str
    text: str
    results: list[tuple[str, str]]  # (marker label, result label), for a marker check


@dataclass(frozen=True)
class WorkView:
    work: ReconsolidationWork
    number: int  # 1, 2, ... in the episode
    steps: list[ReconsolidationStep]
    checks: list[MarkerCheck]
    follow_ups: list[FollowUp]
    next_step: str | None  # the step to record next (B, C, D), None once D is there (D may repeat)
    juxtaposed: bool

    @property
    def events(self) -> list[Event]:
        """Steps and marker checks as dated events, oldest first (step A dated when it was written)."""
        markers, results = dict(MARKERS), dict(RESULTS)
        letters = {s: letter for s, letter, _ in STEPS}
        events = [
            Event(self.work.created_at.date(), "A", "Symptom and its emotional truth", self.work.symptom, [])
        ]
        events += [Event(s.occurred_on, letters[s.step], STEP_LABELS[s.step], s.text, []) for s in self.steps]
        events += [
            Event(
                c.checked_on,
                "E",
                f"Verification markers: {dict(OCCASIONS)[c.occasion].lower()}",
                c.note,
                [(markers[m], results[r]) for m, r in c.results()],
            )
            for c in self.checks
        ]
        return sorted(events, key=lambda e: (e.on, e.letter))


def reconsolidation_works(episode: Episode, *, now: dt.datetime | None = None) -> list[WorkView]:
    """The episode's reconsolidation work, first started first, each with its steps, its marker checks
    and its follow-ups (due / overdue from the latest juxtaposition)."""
    today = timezone.localdate(now or clock.now())
    works = (
        ReconsolidationWork.objects.filter(episode=episode)
        .select_related("formulation")
        .prefetch_related("steps", "checks")
        .order_by("created_at", "pk")
    )
    result = []
    for number, work in enumerate(works, start=1):
        steps = sorted(work.steps.all(), key=lambda s: s.number)
        checks = sorted(work.checks.all(), key=lambda c: (c.checked_on, c.number))
        juxtapositions = [s.occurred_on for s in steps if s.step == JUXTAPOSITION]
        kinds = {s.step for s in steps}
        following = next((s for s in STEP_IDS if s not in kinds), None)
        result.append(
            WorkView(
                work,
                number,
                steps,
                checks,
                follow_ups(max(juxtapositions, default=None), today, {c.occasion for c in checks}),
                following,
                bool(juxtapositions),
            )
        )
    return result


def reconsolidation_work(episode: Episode, work_id: int) -> WorkView | None:
    return next((w for w in reconsolidation_works(episode) if w.work.pk == work_id), None)


@dataclass(frozen=True)
class TimelineEntry:
    """One dated event of the episode's reconsolidation work on the client page's timeline: a step, a
    marker check, or a follow-up due or overdue. Titles and marker results only, never the text (that
    is on the work's own page)."""

    on: dt.date
    work: ReconsolidationWork
    number: int  # the work's number in the episode
    letter: str  # A-E, or "" for a follow-up
    title: str
    results: list[tuple[str, str]]  # (marker label, result label), for a marker check
    status: str  # "", or the follow-up's "due" / "overdue"


def timeline_entries(works: Sequence[WorkView]) -> list[TimelineEntry]:
    """Every step, marker check and follow-up due or overdue of `works`, oldest first. Follow-ups still
    upcoming or done are left out: the check itself is on the timeline once it is recorded."""
    markers, results = dict(MARKERS), dict(RESULTS)
    letters = {s: letter for s, letter, _ in STEPS}
    entries: list[TimelineEntry] = []
    for view in works:
        work, number = view.work, view.number
        entries.append(
            TimelineEntry(
                work.created_at.date(), work, number, "A", "Symptom and its emotional truth", [], ""
            )
        )
        entries += [
            TimelineEntry(s.occurred_on, work, number, letters[s.step], STEP_LABELS[s.step], [], "")
            for s in view.steps
        ]
        entries += [
            TimelineEntry(
                c.checked_on,
                work,
                number,
                "E",
                f"Verification markers: {dict(OCCASIONS)[c.occasion].lower()}",
                [(markers[m], results[r]) for m, r in c.results()],
                "",
            )
            for c in view.checks
        ]
        entries += [
            TimelineEntry(f.due_on, work, number, "", f.label, [], f.status)
            for f in view.follow_ups
            if f.status in ("due", "overdue")
        ]
    return sorted(entries, key=lambda e: (e.on, e.number, e.letter or "F"))
