"""Reads for the insights: a practice's rules and fitted curves, one episode's insights, and the
caseload's need, each in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
from django.db.models import Max

from spacebetween import clock
from spacebetween.accounts.models import User
from spacebetween.clients.models import Attendance, Episode
from spacebetween.core import mechanisms, trajectories
from spacebetween.core.instruments import Instrument
from spacebetween.exercises.selectors import entries_before_sessions
from spacebetween.insights.analysis import (
    OPEN_RUPTURE,
    OUTCOME_CONSTRUCTS,
    PROCESS_CONSTRUCTS,
    Alert,
    EpisodeInsight,
    analyse_episode,
)
from spacebetween.insights.models import (
    EpisodeSignal,
    ExpectedRecoveryFit,
    InsightSettings,
    SignalLevel,
    StaleEpisode,
)
from spacebetween.insights.series import ABOUT_LAST_SESSION, EpisodeScores, load_episode_scores, primary_scale
from spacebetween.measures.models import Response
from spacebetween.measures.selectors import instruments_for
from spacebetween.practice.models import Practice
from spacebetween.safety.models import RiskFlag


def insight_settings(practice: Practice) -> InsightSettings:
    """The practice's rules; the defaults until an admin changes them (nothing is written on read)."""
    found = InsightSettings.objects.filter(practice=practice).first()
    return found if found is not None else InsightSettings(practice=practice)


def current_fits(practice: Practice) -> dict[str, trajectories.ExpectedRecovery]:
    """The newest expected-recovery fit per instrument, in one query."""
    fits: dict[str, trajectories.ExpectedRecovery] = {}
    for row in ExpectedRecoveryFit.objects.filter(practice=practice).order_by(
        "instrument_id", "-fitted_at", "-pk"
    ):
        if row.instrument_id not in fits:
            fits[row.instrument_id] = trajectories.ExpectedRecovery.from_json(row.parameters)
    return fits


def episode_insights(
    episodes: Sequence[Episode], practice: Practice, instruments: Mapping[str, Instrument] | None = None
) -> dict[int, EpisodeInsight]:
    """Insights for episodes the caller may already see (access is the caller's job)."""
    instruments = instruments if instruments is not None else instruments_for(practice)
    scores = load_episode_scores(episodes, instruments, time_zone=practice.time_zone)
    settings = insight_settings(practice)
    fits = current_fits(practice)
    return {
        pk: analyse_episode(entry, instruments, settings=settings, fits=fits) for pk, entry in scores.items()
    }


def _stored_alert(row: EpisodeSignal) -> Alert:
    return Alert(
        level=SignalLevel(row.level),
        kind=row.kind,
        instrument_id=row.instrument_id,
        session_number=row.session_number,
        value=row.value,
        threshold=row.threshold,
        explanation=row.explanation,
    )


def current_alerts(
    episodes: Sequence[Episode],
    practice: Practice,
    *,
    computed: Mapping[int, EpisodeInsight] | None = None,
) -> dict[int, list[Alert]]:
    """The signals every page shows, per episode: the ones `insights.services` computed and stored
    when the episode's answers or sessions changed, read here, never recomputed. Where none can be
    current, they are computed in memory now by the same function (`analysis.analyse_episode`) and
    nothing is written: an episode still marked stale (changes the worker has not yet taken in), and
    an ended episode (ended episodes keep no stored signals). `computed` passes insights the caller
    already has (the client page draws its charts from them). Two queries, plus the analysis's own
    for stale or ended episodes not in `computed`."""
    ids = [e.pk for e in episodes]
    if not ids:
        return {}
    stale = set(StaleEpisode.objects.filter(episode_id__in=ids).values_list("episode_id", flat=True))
    live = [e for e in episodes if e.pk in stale or e.ended_on is not None]
    live_ids = {e.pk for e in live}
    alerts: dict[int, list[Alert]] = {pk: [] for pk in ids}
    # The stored rows were written in the order the analysis gave them (insert order = pk).
    for row in EpisodeSignal.objects.filter(episode_id__in=[pk for pk in ids if pk not in live_ids]).order_by(
        "pk"
    ):
        alerts[row.episode_id].append(_stored_alert(row))
    if live:
        known = computed or {}
        missing = [e for e in live if e.pk not in known]
        fresh = episode_insights(missing, practice) if missing else {}
        for e in live:
            insight = known.get(e.pk) or fresh.get(e.pk)
            alerts[e.pk] = list(insight.alerts) if insight is not None else []
    return alerts


@dataclass(frozen=True)
class FitSummary:
    instrument_id: str
    n_episodes: int
    n_scores: int
    fitted_at: dt.datetime


def fit_summaries(practice: Practice) -> list[FitSummary]:
    """The curve in use per instrument (the newest fit), for the admin's page; one query."""
    seen: dict[str, FitSummary] = {}
    for row in ExpectedRecoveryFit.objects.filter(practice=practice).order_by(
        "instrument_id", "-fitted_at", "-pk"
    ):
        seen.setdefault(
            row.instrument_id, FitSummary(row.instrument_id, row.n_episodes, row.n_scores, row.fitted_at)
        )
    return list(seen.values())


# --- what moves with change across the practice's clients ---


def _matrix(entries: Sequence[EpisodeScores], instrument_id: str, width: int) -> np.ndarray:
    """One instrument's scores: a row per episode, a column per session (NaN = not measured)."""
    matrix = np.full((len(entries), width), np.nan)
    for row, entry in enumerate(entries):
        for point in entry.series.get(instrument_id, []):
            if point.session_number <= width:
                matrix[row, point.session_number - 1] = point.score
    return matrix


def practice_mechanisms(practice: Practice) -> list[mechanisms.LaggedAssociation]:
    """For each ingredient and alliance measure the practice has used, its within-client lagged
    association with next-session change on each outcome measure, pooled across clients
    (core.mechanisms; no claim when data are too few). Rows are episodes; each carries its client's id,
    so a client with several episodes counts once (one slope, an intercept per episode). Aggregates
    only; three queries."""
    instruments = instruments_for(practice)
    episodes = list(Episode.objects.filter(client__practice=practice))
    scores = list(load_episode_scores(episodes, instruments, time_zone=practice.time_zone).values())
    used = {i for entry in scores for i in entry.series}
    outcome_ids = sorted(i for i in used if instruments[i].construct in OUTCOME_CONSTRUCTS)
    process_ids = sorted(
        i for i in used if instruments[i].construct in PROCESS_CONSTRUCTS | ABOUT_LAST_SESSION
    )
    width = max((p.session_number for e in scores for s in e.series.values() for p in s), default=0)
    clients = [entry.episode.client_id for entry in scores]
    practised = _practice_matrix(scores, width, practice.time_zone)
    processes = [(instruments[i].title, _matrix(scores, i, width)) for i in process_ids]
    # Between-session practice joins the table only once enough clients were set exercises: a
    # practice that does not use them is not shown a row of "no claim" (docs/insights.md).
    if len({c for c, row in zip(clients, practised, strict=True) if not np.isnan(row).all()}) >= (
        mechanisms.MIN_CLIENTS
    ):
        processes.append((PRACTICE_PROCESS, practised))
    results = []
    for outcome_id in outcome_ids:
        symptom = _matrix(scores, outcome_id, width)
        outcome = instruments[outcome_id]
        for process_name, process in processes:
            results.append(
                mechanisms.lagged_association(
                    process,
                    symptom,
                    process_name=process_name,
                    outcome_name=outcome.title,
                    symptom_higher_is_better=primary_scale(outcome).direction == "higher_is_better",
                    clients=clients,
                    min_clients=mechanisms.MIN_CLIENTS,
                )
            )
    return results


PRACTICE_PROCESS = "Exercises done in the week before the session"


def _practice_matrix(entries: Sequence[EpisodeScores], width: int, time_zone: str) -> np.ndarray:
    """Between-session practice as a process variable: per episode and attended session, the exercise
    entries of the week before it (exercises.selectors.entries_before_sessions; NaN = none was set)."""
    counts = entries_before_sessions({e.episode.pk: e.attended for e in entries}, time_zone=time_zone)
    matrix = np.full((len(entries), width), np.nan)
    for row, entry in enumerate(entries):
        values = counts.get(entry.episode.pk, [])[:width]
        matrix[row, : len(values)] = values
    return matrix


# --- the caseload, ordered by need ---


@dataclass(frozen=True)
class Reason:
    level: int  # 1 = open risk flag; then SignalLevel values
    text: str


@dataclass
class Need:
    episode: Episode
    reasons: list[Reason] = field(default_factory=list)

    @property
    def level(self) -> int:
        return min((r.level for r in self.reasons), default=SignalLevel.NOTE + 1)


RISK_LEVEL = 1
# Within a level, the most pressing first: off the expected course, then worse, then not yet better.
KIND_ORDER = {
    str(kind): i
    for i, kind in enumerate(
        [
            trajectories.SignalKind.NOT_ON_TRACK,
            trajectories.SignalKind.RELIABLE_DETERIORATION,
            OPEN_RUPTURE,
            trajectories.SignalKind.NO_RELIABLE_IMPROVEMENT,
        ]
    )
}


def _overdue_episode_ids(
    episodes: Sequence[Episode], *, after_days: int, now: dt.datetime, time_zone: str
) -> dict[int, int]:
    """Open episodes whose measures are overdue: {episode id: days since the latest answer, -1 for
    none}. The day count is the core's rule (`trajectories.overdue`, calendar days in the practice's
    time zone); the caseload adds that sessions went on since the latest answer, or that there is no
    answer at all although sessions have started (the network batch has no sessions to check). Two
    queries."""
    ids = [e.pk for e in episodes]
    latest = dict(
        Response.objects.filter(assignment__episode_id__in=ids)
        .values_list("assignment__episode_id")
        .annotate(last=Max("submitted_at"))
        .values_list("assignment__episode_id", "last")
    )
    last_session = dict(
        Episode.objects.filter(pk__in=ids, sessions__attendance=Attendance.ATTENDED)
        .values_list("pk")
        .annotate(last=Max("sessions__starts_at"))
        .values_list("pk", "last")
    )
    zone = ZoneInfo(time_zone)
    answered = [pk for pk in ids if pk in latest and pk in last_session and last_session[pk] > latest[pk]]
    last_day = np.array([latest[pk].astimezone(zone).date() for pk in answered], dtype="datetime64[D]")
    today = np.datetime64(now.astimezone(zone).date(), "D")
    late = trajectories.overdue(last_day, today, after_days=after_days)
    days = trajectories.days_since(last_day, today)
    overdue = {pk: int(d) for pk, is_late, d in zip(answered, late, days, strict=True) if is_late}
    overdue.update({pk: -1 for pk in ids if pk in last_session and pk not in latest})
    return overdue


def caseload_by_need(
    user: User, episodes: Sequence[Episode], *, practice: Practice, now: dt.datetime | None = None
) -> list[Need]:
    """The episodes in order of need (issue #5: risk flags, then not on track and ruptures, then
    overdue measures, then the rest by name), each with why, from the signals as `current_alerts`
    gives them (nothing is written). Six queries whatever their number, and the analysis's own
    for episodes still marked stale."""
    now = now or clock.now()
    needs = {e.pk: Need(e) for e in episodes}
    ids = list(needs)
    for episode_id, raised_at in (
        RiskFlag.objects.filter(episode_id__in=ids, acknowledged_at__isnull=True)
        .order_by("raised_at")
        .values_list("episode_id", "raised_at")
    ):
        needs[episode_id].reasons.append(
            Reason(RISK_LEVEL, f"Risk answer not yet acknowledged (raised {raised_at:%d %b %Y})")
        )
    current = current_alerts(episodes, practice)
    signals = sorted(
        ((pk, alert) for pk, found in current.items() for alert in found),
        key=lambda s: (s[1].level, KIND_ORDER.get(s[1].kind, len(KIND_ORDER)), s[1].instrument_id),
    )
    for pk, alert in signals:
        needs[pk].reasons.append(Reason(alert.level, alert.explanation))
    settings = insight_settings(practice)
    overdue = _overdue_episode_ids(
        episodes, after_days=settings.overdue_after_days, now=now, time_zone=practice.time_zone
    )
    for pk, days in overdue.items():
        text = (
            "No questionnaire answered yet although sessions have started"
            if days < 0
            else f"Measures overdue: last answered {days} days ago, sessions since"
        )
        needs[pk].reasons.append(Reason(SignalLevel.OVERDUE, text))
    ordered = sorted(
        needs.values(),
        key=lambda n: (n.level, n.episode.client.family_name, n.episode.client.given_name, n.episode.pk),
    )
    return ordered
