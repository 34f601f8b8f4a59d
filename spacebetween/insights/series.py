"""From stored answers to score series by session number: the one place that decides which session
a questionnaire belongs to.

The rule (docs/insights.md, "Which session a score belongs to"): symptom and process measures are
answered before a session, so a score submitted after session k-1 started and before session k
starts is session k's (the intake score, before the first session, is session 1's). Alliance
measures rate the session just had, so a score submitted after session k started and before
session k+1 starts is about session k. Only attended sessions count. When two scores of one
instrument fall to the same session, the later one stands: it is the client's most recent state.
Scores submitted after the episode's end date are follow-ups, not part of the course.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from spacebetween.clients.models import Episode
from spacebetween.clients.selectors import attended_sessions
from spacebetween.core.alliance import ALLIANCE_CONSTRUCTS, AllianceMetric, metric_of
from spacebetween.core.instruments import Instrument, Scale
from spacebetween.core.mentalizing import deviation_scales
from spacebetween.measures.models import Response
from spacebetween.relationship.measures import SESSION_RATING
from spacebetween.relationship.models import MeasureKind, SessionReflection

# Constructs whose questionnaires rate the session just had (answered after it).
ABOUT_LAST_SESSION = ALLIANCE_CONSTRUCTS


def session_number(
    starts: Sequence[dt.datetime], submitted_at: dt.datetime, *, about_last_session: bool
) -> int:
    """The session a score belongs to, by the rule above; 0 = before any session for a measure that
    rates the last session (it belongs to none). `starts` are attended sessions, in order."""
    started_before = bisect.bisect_right(starts, submitted_at)
    return started_before if about_last_session else started_before + 1


def primary_scale(instrument: Instrument) -> Scale:
    """The scale a trajectory follows: the first one of the definition (the total, where there is one)."""
    return instrument.scales[0]


def percent_of_scale(value: float, scale: Scale) -> float:
    """A score as percent of its scale's range (POMP; Cohen et al. 1999), so that two measures of
    different lengths can share an axis."""
    low, high = scale.range
    return 100.0 * (value - low) / (high - low)


@dataclass(frozen=True)
class ScorePoint:
    session_number: int
    score: float
    submitted_at: dt.datetime
    risk: bool = False  # a risk answer (Response.any_risk) in this session's answers to the measure


@dataclass(frozen=True)
class CheckIn:
    session_number: int
    feelings: tuple[str, ...]
    intensity: int | None
    shared: bool = False  # the therapist shared it with their supervisor (SessionReflection)


@dataclass
class EpisodeScores:
    """Everything measured in one episode, by session number."""

    episode: Episode
    attended: list[dt.datetime] = field(default_factory=list)  # starts of attended sessions, in order
    series: dict[str, list[ScorePoint]] = field(default_factory=dict)  # instrument id -> by session
    follow_ups: dict[str, list[ScorePoint]] = field(default_factory=dict)  # session_number 0
    # (instrument id, scale id) -> by session, for scales charted on their own (core.mentalizing)
    scale_series: dict[tuple[str, str], list[ScorePoint]] = field(default_factory=dict)
    # The therapist's view of the relationship per session, in its own measure's points (the session
    # rating's 0-10 mean, or a therapist form's total), with that measure's metric: never rescaled, so
    # it is compared with the client's view only where both share one metric (core.alliance).
    therapist: list[ScorePoint] = field(default_factory=list)
    therapist_validated: bool = False
    therapist_measure: str = ""
    therapist_metric: AllianceMetric | None = None
    checkins: list[CheckIn] = field(default_factory=list)

    @property
    def sessions_attended(self) -> int:
        return len(self.attended)


def is_follow_up(episode: Episode, submitted_at: dt.datetime, time_zone: str) -> bool:
    if episode.ended_on is None:
        return False
    return submitted_at.astimezone(ZoneInfo(time_zone)).date() > episode.ended_on


def _latest_per_session(points: Iterable[ScorePoint]) -> list[ScorePoint]:
    by_session: dict[int, ScorePoint] = {}
    risky: set[int] = set()
    for point in sorted(points, key=lambda p: p.submitted_at):
        by_session[point.session_number] = point
        if point.risk:
            risky.add(point.session_number)
    # The later score stands, but a risk answer in an earlier one of the same session is not hidden.
    return [replace(by_session[k], risk=k in risky) for k in sorted(by_session)]


# The session rating's metric: the mean of its 0-10 answers, NOT a validated instrument.
SESSION_RATING_METRIC = AllianceMetric(
    unit="session rating points (0–10)",
    minimum=float(SESSION_RATING.minimum),
    maximum=float(SESSION_RATING.maximum),
    items=len(SESSION_RATING.items),
    answers=tuple(float(v) for v in range(SESSION_RATING.minimum, SESSION_RATING.maximum + 1)),
    method="mean",
    validated=False,
)


def _therapist_score(
    reflection: SessionReflection, instruments: Mapping[str, Instrument]
) -> tuple[float, AllianceMetric] | None:
    """The therapist's view in its own measure's points, and that measure's metric."""
    if reflection.measure_kind == MeasureKind.SESSION_RATING:
        values = [float(v) for v in reflection.answers.values() if v is not None]
        if not values:
            return None
        return sum(values) / len(values), SESSION_RATING_METRIC
    instrument = instruments.get(reflection.measure_id)
    if instrument is None:
        return None
    scale = primary_scale(instrument)
    score = reflection.scores.get(scale.id)
    return None if score is None else (float(score), metric_of(instrument, validated=reflection.validated))


def load_episode_scores(
    episodes: Sequence[Episode], instruments: Mapping[str, Instrument], *, time_zone: str
) -> dict[int, EpisodeScores]:
    """Scores of these episodes by session number, in three queries whatever their number."""
    result = {e.pk: EpisodeScores(episode=e) for e in episodes}
    if not result:
        return result
    ids = list(result)
    session_numbers: dict[int, int] = {}  # session id -> its number among attended sessions
    for episode_id, attended in attended_sessions(ids).items():
        for number, (sid, starts_at) in enumerate(attended, start=1):
            result[episode_id].attended.append(starts_at)
            session_numbers[sid] = number

    raw: dict[tuple[int, str], list[ScorePoint]] = defaultdict(list)
    follow: dict[tuple[int, str], list[ScorePoint]] = defaultdict(list)
    by_scale: dict[tuple[int, str, str], list[ScorePoint]] = defaultdict(list)
    for episode_id, instrument_id, scores, submitted_at, any_risk in (
        Response.objects.filter(assignment__episode_id__in=ids)
        .order_by("submitted_at", "pk")
        .values_list("assignment__episode_id", "instrument_id", "scores", "submitted_at", "any_risk")
    ):
        instrument = instruments.get(instrument_id)
        if instrument is None:  # an imported definition since removed: nothing to chart it with
            continue
        scale = primary_scale(instrument)
        value = (scores.get(scale.id) or {}).get("score")
        if value is None:  # not scorable (e.g. too many items missing): no point on the curve
            continue
        entry = result[episode_id]
        if is_follow_up(entry.episode, submitted_at, time_zone):
            follow[(episode_id, instrument_id)].append(ScorePoint(0, float(value), submitted_at, any_risk))
            continue
        number = session_number(
            entry.attended, submitted_at, about_last_session=instrument.construct in ABOUT_LAST_SESSION
        )
        if number >= 1:
            raw[(episode_id, instrument_id)].append(ScorePoint(number, float(value), submitted_at, any_risk))
            # Scales read as distances from an optimal region (the RFQ-8's two): each charted, not only
            # the first (core.mentalizing).
            for deviation in deviation_scales(instrument_id):
                other = (scores.get(deviation.scale_id) or {}).get("score")
                if other is not None:
                    by_scale[(episode_id, instrument_id, deviation.scale_id)].append(
                        ScorePoint(number, float(other), submitted_at, any_risk)
                    )
    for (episode_id, instrument_id), points in raw.items():
        result[episode_id].series[instrument_id] = _latest_per_session(points)
    for (episode_id, instrument_id, scale_id), points in by_scale.items():
        result[episode_id].scale_series[(instrument_id, scale_id)] = _latest_per_session(points)
    for (episode_id, instrument_id), points in follow.items():
        result[episode_id].follow_ups[instrument_id] = points

    therapist_metrics: dict[int, AllianceMetric] = {}
    for reflection in (
        SessionReflection.objects.filter(session__episode_id__in=ids)
        .order_by("recorded_at", "pk")
        .select_related("session")
    ):
        entry = result[reflection.session.episode_id]
        attended_number = session_numbers.get(reflection.session_id)
        if attended_number is None:  # a reflection on a session not (or no longer) marked attended
            continue
        number = attended_number
        entry.checkins.append(
            CheckIn(
                number, tuple(reflection.feelings), reflection.intensity, reflection.shared_with_supervisor
            )
        )
        scored = _therapist_score(reflection, instruments)
        if scored is not None:
            point = ScorePoint(number, scored[0], reflection.recorded_at)
            entry.therapist.append(point)
            therapist_metrics[id(point)] = scored[1]
            entry.therapist_validated = reflection.validated
            entry.therapist_metric = scored[1]
            entry.therapist_measure = (
                SESSION_RATING.title
                if reflection.measure_kind == MeasureKind.SESSION_RATING
                else instruments[reflection.measure_id].title
            )
    for entry in result.values():
        # One metric per series: if the practice changed the therapist's measure mid-episode, only the
        # ratings on the latest one are kept (two metrics cannot share an axis).
        entry.therapist = _latest_per_session(
            p for p in entry.therapist if therapist_metrics[id(p)] == entry.therapist_metric
        )
        entry.checkins.sort(key=lambda c: c.session_number)
    return result
