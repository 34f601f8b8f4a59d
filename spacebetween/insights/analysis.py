"""One episode's insights: its scores run through the same core functions as the network batch.

Used by the client page and the PDF report (live, for what is shown) and by `services.refresh_*`
(which stores the current signals so that the caseload can order need in a fixed number of queries).
No database access here: the callers load `series.EpisodeScores`, the practice's settings and its
fitted curves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from spacebetween.core import alliance as alliance_core
from spacebetween.core import trajectories
from spacebetween.core.change import parameters_from_scale
from spacebetween.core.instruments import Instrument, Scale
from spacebetween.core.mentalizing import DeviationScale, deviation_scales
from spacebetween.insights.models import InsightSettings, SignalLevel
from spacebetween.insights.series import (
    ABOUT_LAST_SESSION,
    CheckIn,
    EpisodeScores,
    ScorePoint,
    percent_of_scale,
    primary_scale,
)

# What the client page charts as the course of treatment, and what it sets beside it.
OUTCOME_CONSTRUCTS = frozenset({"depression", "anxiety", "distress", "wellbeing"})
# The ingredients of change the issue names (mindfulness, self-compassion, emotion regulation,
# mentalization, stress, flexibility), plus resilience.
PROCESS_CONSTRUCTS = frozenset(
    {
        "mindfulness",
        "self_compassion",
        "emotion_regulation",
        "mentalizing",
        "stress",
        "psychological_flexibility",
        "resilience",
    }
)

LEVEL_OF_SIGNAL = {
    trajectories.SignalKind.NOT_ON_TRACK: SignalLevel.ALERT,
    trajectories.SignalKind.RELIABLE_DETERIORATION: SignalLevel.ALERT,
    trajectories.SignalKind.NO_RELIABLE_IMPROVEMENT: SignalLevel.ALERT,
    trajectories.SignalKind.NOT_A_CASE_AT_INTAKE: SignalLevel.NOTE,
    trajectories.SignalKind.OVERDUE: SignalLevel.OVERDUE,
    trajectories.SignalKind.SUDDEN_GAIN: SignalLevel.NOTE,
}
OPEN_RUPTURE = "open_rupture"
ALERT_LABELS = {
    SignalLevel.ALERT: "Needs attention:",
    SignalLevel.OVERDUE: "Overdue:",
    SignalLevel.NOTE: "Note:",
}


@dataclass(frozen=True)
class Alert:
    """One thing to tell the therapist, in plain words with its rule."""

    level: SignalLevel
    kind: str
    instrument_id: str
    session_number: int
    value: float
    threshold: float | None
    explanation: str

    @property
    def label(self) -> str:
        return ALERT_LABELS[self.level]


@dataclass
class OutcomeInsight:
    instrument: Instrument
    scale: Scale
    points: list[ScorePoint]
    rc_points: float | None
    signals: list[trajectories.Signal] = field(default_factory=list)
    expected: list[tuple[int, float, float, float]] = field(default_factory=list)  # session, mean, low, high
    fit: trajectories.ExpectedRecovery | None = None
    band_note: str = ""

    @property
    def higher_is_better(self) -> bool:
        return self.scale.direction == "higher_is_better"

    @property
    def intake(self) -> float | None:
        return self.points[0].score if self.points else None

    @property
    def reliable_zone(self) -> tuple[float, float] | None:
        """Scores within this zone around the intake are no reliable change."""
        if self.rc_points is None or self.intake is None:
            return None
        return (self.intake - self.rc_points, self.intake + self.rc_points)


@dataclass
class AllianceInsight:
    instrument: Instrument
    client_points: list[ScorePoint]  # the instrument's points
    client_metric: alliance_core.AllianceMetric
    therapist_scores: list[tuple[int, float]]  # in the therapist measure's own points
    therapist_metric: alliance_core.AllianceMetric | None
    therapist_measure: str
    therapist_validated: bool
    rules: alliance_core.AllianceRules
    drop_source: str
    events: list[alliance_core.AllianceEvent] = field(default_factory=list)

    @property
    def client_scores(self) -> list[tuple[int, float]]:
        return [(p.session_number, p.score) for p in self.client_points]

    @property
    def not_shared(self) -> str | None:
        """None when the two views share one validated metric (a gap has a unit), else why not."""
        if self.therapist_metric is None:
            return "there is no therapist rating"
        return alliance_core.why_not_shared(self.client_metric, self.therapist_metric)

    @property
    def gap_points(self) -> float:
        """The gap rule's threshold in the shared metric's points (the setting is percent of its range)."""
        return self.rules.gap_points / 100.0 * self.client_metric.span

    @property
    def open_rupture(self) -> alliance_core.AllianceEvent | None:
        last: alliance_core.AllianceEvent | None = None
        for event in self.events:
            last = event
        return last if last is not None and last.kind == alliance_core.AllianceEventKind.RUPTURE else None


@dataclass
class EpisodeInsight:
    scores: EpisodeScores
    outcomes: list[OutcomeInsight]
    alliance: AllianceInsight | None
    process: list[tuple[str, list[tuple[int, float]]]]  # (title, percent-of-range points)
    checkins: list[CheckIn]
    alerts: list[Alert]
    # Scales read as distances from genuine mentalizing (RFQ-8), in their own points (0-3).
    mentalizing: list[tuple[DeviationScale, list[tuple[int, float]]]] = field(default_factory=list)


def _panel(points: Sequence[ScorePoint]) -> trajectories.Panel:
    return trajectories.Panel.from_long(
        np.zeros(len(points), dtype=np.int64),
        np.array([p.session_number for p in points], dtype=np.int64),
        np.array([p.score for p in points], dtype=np.float64),
    )


def signal_rules(settings: InsightSettings) -> trajectories.SignalRules:
    return trajectories.SignalRules(
        no_improvement_by_session=settings.no_improvement_by_session,
        overdue_after_days=settings.overdue_after_days,
    )


def _expected_points(
    fit: trajectories.ExpectedRecovery, intake: float, last_session: int
) -> list[tuple[int, float, float, float]]:
    sessions = np.arange(2, min(fit.max_session, max(last_session, 2) + 2) + 1)
    if sessions.size == 0:
        return []
    intakes = np.full(sessions.shape, intake)
    mean = fit.expected(intakes, sessions)
    low, high = fit.band(intakes, sessions)
    return [
        (int(s), float(m), float(lo), float(hi))
        for s, m, lo, hi in zip(sessions, mean, low, high, strict=True)
        if np.isfinite(lo) and np.isfinite(hi)
    ]


def _outcome(
    instrument: Instrument,
    points: list[ScorePoint],
    *,
    fit: trajectories.ExpectedRecovery | None,
    settings: InsightSettings,
    fit_minimum: int,
) -> OutcomeInsight:
    scale = primary_scale(instrument)
    params = parameters_from_scale(scale)
    insight = OutcomeInsight(instrument, scale, points, params.reliable_change_points(), fit=fit)
    if fit is None:
        insight.band_note = (
            f"No expected range yet: it is fitted on this practice's own completed episodes once there are "
            f"{fit_minimum} with {instrument.title} scores (spacebetween insights refresh)."
        )
    else:
        insight.band_note = (
            f"Expected range ({round(fit.coverage * 100)}% of similar courses) fitted on this practice's "
            f"{fit.n_episodes} completed episodes; clients who stopped early are not in it."
        )
    if not points:
        return insight
    if fit is not None:
        insight.expected = _expected_points(fit, points[0].score, points[-1].session_number)
    # Every rule runs whatever the definition gives: not on track needs only the fitted range (K10, WHO-5),
    # the change signals only a reliable change. The batch makes the same call (trajectories.scale_signals).
    found = trajectories.scale_signals(_panel(points), scale, model=fit, rules=signal_rules(settings))
    insight.signals = found.for_row(0)
    return insight


def alliance_rules(settings: InsightSettings, scale: Scale) -> tuple[alliance_core.AllianceRules, str]:
    """The practice's rupture rules for this alliance scale, and where the drop threshold came from."""
    low, high = scale.range
    drop, source = alliance_core.drop_threshold(
        chosen=settings.alliance_drop_points,
        chosen_by="set by the practice",
        published=parameters_from_scale(scale).reliable_change_points(),
        minimum=low,
        maximum=high,
    )
    rules = alliance_core.AllianceRules(
        drop_points=drop,
        floor=settings.alliance_floor,
        gap_points=settings.alliance_gap_points,
        gap_sessions=settings.alliance_gap_sessions,
    )
    return rules, source


def _alliance(instrument: Instrument, scores: EpisodeScores, settings: InsightSettings) -> AllianceInsight:
    scale = primary_scale(instrument)
    points = scores.series.get(instrument.id, [])
    rules, source = alliance_rules(settings, scale)
    insight = AllianceInsight(
        instrument=instrument,
        client_points=points,
        client_metric=alliance_core.metric_of(instrument),
        therapist_scores=[(p.session_number, p.score) for p in scores.therapist],
        therapist_metric=scores.therapist_metric,
        therapist_measure=scores.therapist_measure,
        therapist_validated=scores.therapist_validated,
        rules=rules,
        drop_source=source,
    )
    if not points:
        return insight
    width = max([p.session_number for p in points] + [p.session_number for p in scores.therapist])
    client = np.full((1, width), np.nan)
    for p in points:
        client[0, p.session_number - 1] = p.score
    therapist = None
    if scores.therapist and insight.not_shared is None:
        # The gap rule needs both views on one validated metric: never the session rating, never a
        # therapist form with other items, answers or scoring (core.alliance.why_not_shared).
        therapist = np.full((1, width), np.nan)
        for p in scores.therapist:
            therapist[0, p.session_number - 1] = p.score
    low, high = scale.range
    events = alliance_core.alliance_events(
        client,
        rules,
        therapist=therapist,
        client_metric=insight.client_metric,
        therapist_metric=scores.therapist_metric if therapist is not None else None,
        client_minimum=low,
        client_maximum=high,
    )
    insight.events = events.for_row(0)
    return insight


def analyse_episode(
    scores: EpisodeScores,
    instruments: Mapping[str, Instrument],
    *,
    settings: InsightSettings,
    fits: Mapping[str, trajectories.ExpectedRecovery],
    fit_minimum: int = trajectories.MIN_EPISODES_TO_FIT,
) -> EpisodeInsight:
    outcomes: list[OutcomeInsight] = []
    process: list[tuple[str, list[tuple[int, float]]]] = []
    mentalizing: list[tuple[DeviationScale, list[tuple[int, float]]]] = []
    alliance: AllianceInsight | None = None
    for instrument_id in sorted(scores.series, key=lambda i: instruments[i].title):
        instrument = instruments[instrument_id]
        points = scores.series[instrument_id]
        if instrument.construct in OUTCOME_CONSTRUCTS:
            outcomes.append(
                _outcome(
                    instrument,
                    points,
                    fit=fits.get(instrument_id),
                    settings=settings,
                    fit_minimum=fit_minimum,
                )
            )
        elif instrument.construct in ABOUT_LAST_SESSION and instrument.respondent == "client":
            if alliance is None:
                alliance = _alliance(instrument, scores, settings)
        elif instrument.construct in PROCESS_CONSTRUCTS and deviation_scales(instrument_id):
            # The RFQ-8: certainty and uncertainty are distances from genuine mentalizing, not "higher
            # is better" (core.mentalizing): charted on their own, never on the shared axis below.
            mentalizing += [
                (deviation, [(p.session_number, p.score) for p in points])
                for deviation in deviation_scales(instrument_id)
                for points in (scores.scale_series.get((instrument_id, deviation.scale_id), []),)
            ]
        elif instrument.construct in PROCESS_CONSTRUCTS:
            scale = primary_scale(instrument)
            # One direction on the shared axis: higher is always more of the quality (DERS-16, PSS-10
            # and AAQ-II count difficulties, so they are turned round and labelled as such).
            turned = scale.direction == "lower_is_better"
            title = f"{instrument.title} (turned round: higher is better)" if turned else instrument.title
            process.append(
                (
                    title,
                    [
                        (p.session_number, 100.0 - pct if turned else pct)
                        for p in points
                        for pct in (percent_of_scale(p.score, scale),)
                    ],
                )
            )
    return EpisodeInsight(
        scores=scores,
        outcomes=outcomes,
        alliance=alliance,
        process=process,
        mentalizing=mentalizing,
        checkins=scores.checkins,
        alerts=_alerts(outcomes, alliance),
    )


def _alerts(outcomes: Sequence[OutcomeInsight], alliance: AllianceInsight | None) -> list[Alert]:
    alerts = [
        Alert(
            level=LEVEL_OF_SIGNAL[signal.kind],
            kind=str(signal.kind),
            instrument_id=o.instrument.id,
            session_number=signal.session_number,
            value=signal.value,
            threshold=signal.threshold,
            explanation=signal.explain(o.instrument.title),
        )
        for o in outcomes
        for signal in o.signals
    ]
    rupture = alliance.open_rupture if alliance is not None else None
    if alliance is not None and rupture is not None:
        alerts.append(
            Alert(
                level=SignalLevel.ALERT,
                kind=OPEN_RUPTURE,
                instrument_id=alliance.instrument.id,
                session_number=rupture.session_number,
                value=rupture.value,
                threshold=rupture.baseline,
                explanation=rupture.explain(alliance.instrument.title)
                + " Possible rupture: worth exploring together; not repaired yet.",
            )
        )
    return sorted(alerts, key=lambda a: (a.level, a.instrument_id, a.session_number))
