"""From an episode's insights to the charts and plain-language alerts of the client page and the PDF
report: one place, so that the page and the report always show the same thing. And what the practice
outcomes page shows beside the aggregates (`practice_outcomes_page`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from spacebetween.accounts.models import User
from spacebetween.clients.models import Episode
from spacebetween.core import alliance as alliance_core
from spacebetween.core import mechanisms, mentalizing, trajectories
from spacebetween.core.instruments import Instrument
from spacebetween.insights import charts, outcomes, selectors
from spacebetween.insights.analysis import Alert, AllianceInsight, EpisodeInsight, OutcomeInsight
from spacebetween.insights.charts.svg import number
from spacebetween.practice.models import Practice
from spacebetween.relationship import selectors as relationship
from spacebetween.relationship.measures import Feeling

MARKER_OF_SIGNAL = {
    trajectories.SignalKind.NOT_ON_TRACK: ("not_on_track", "Not on track"),
    trajectories.SignalKind.RELIABLE_DETERIORATION: ("deterioration", "Reliable deterioration"),
    trajectories.SignalKind.SUDDEN_GAIN: ("sudden_gain", "Sudden gain"),
}
FEELING_LABELS = dict(Feeling.choices)
# Which counter-transference check-ins a view draws (see `episode_view`).
CheckinChoice = Literal["all", "shared", "none"]


@dataclass(frozen=True)
class OutcomeView:
    chart: charts.Chart
    band_note: str
    rc_note: str


@dataclass(frozen=True)
class EpisodeView:
    """What the page shows for one episode."""

    outcomes: list[OutcomeView]
    space_between: charts.Chart | None
    space_between_notes: list[str]
    process: charts.Chart | None
    alerts: list[Alert]
    has_scores: bool
    rules: list[str] = field(default_factory=list)
    # The therapist's view in its own unit, beside `space_between`, when it is on another metric.
    therapist_view: charts.Chart | None = None
    # The RFQ-8's two scales as distances from genuine mentalizing (never "higher is better").
    mentalizing: charts.Chart | None = None
    mentalizing_note: str = ""
    checkins_shown: int = 0  # counter-transference check-ins drawn (feelings and intensity, never the note)
    # Ruptures and transference themes under the space-between chart: the client page only, never a
    # report or the client's copy (docs/insights.md, "Ruptures and themes").
    timeline: relationship.Timeline | None = None


def _outcome_view(
    o: OutcomeInsight, sessions: list[int], *, risk_marks: bool = True, for_client: bool = False
) -> OutcomeView:
    """`for_client`: the client's copy of a report, which shows their scores, the expected range and the
    zone of no reliable change, but no internal signal (no "Not on track" marker) and no caseness line
    (its label is a diagnostic one, e.g. "probable generalized anxiety disorder")."""
    markers = [
        charts.Marker(s.session_number, MARKER_OF_SIGNAL[s.kind][1], MARKER_OF_SIGNAL[s.kind][0])
        for s in o.signals
        if s.kind in MARKER_OF_SIGNAL and not for_client
    ]
    cutoffs = []
    if o.scale.caseness is not None and not for_client:
        cutoffs.append(charts.Cutoff(float(o.scale.caseness.cutoff), o.scale.caseness.label or "caseness"))
    chart = charts.trajectory_chart(
        title=o.instrument.title,
        scale_min=float(o.scale.range[0]),
        scale_max=float(o.scale.range[1]),
        higher_is_better=o.higher_is_better,
        scores=[(p.session_number, p.score) for p in o.points],
        expected=o.expected,
        reliable_change=o.reliable_zone,
        cutoffs=cutoffs,
        sessions=sessions,
        markers=markers,
        band_note=(
            f"{round(o.fit.coverage * 100)}%, {o.fit.n_episodes} completed episodes"
            if o.fit is not None
            else ""
        ),
        risk_sessions=[p.session_number for p in o.points if p.risk] if risk_marks else [],
    )
    rc_note = (
        f"Reliable change on the {o.instrument.title}: {o.rc_points:g} points or more from the intake score "
        "(the shaded zone around the intake is no reliable change)."
        if o.rc_points is not None
        else f"The {o.instrument.title} definition gives no reliable-change threshold: no change signals."
    )
    if o.scale.caseness is not None and not for_client:
        # Which cut-off the dashed line is: the definition's primary one, with its source (practice
        # outcomes may count another, e.g. NHS Talking Therapies caseness; insights.outcomes).
        rc_note += f" Dashed line: {o.scale.caseness.describe()}."
    band_note = o.band_note
    if for_client:
        band_note = (
            "The grey band is the range in which similar courses at this practice went."
            if o.fit is not None
            else ""
        )
    return OutcomeView(chart=chart, band_note=band_note, rc_note=rc_note)


def _short_title(title: str) -> str:
    """A long title's abbreviation ("Working Alliance ... (WAI-SR), client form" → "WAI-SR"), so that a
    legend entry is never cut short; else the title."""
    if len(title) <= 40:
        return title
    found = re.search(r"\(([^()]{2,20})\)", title)
    return found.group(1) if found else title.replace("not a validated instrument", "not validated")


def _alliance_markers(a: AllianceInsight) -> list[charts.Marker]:
    markers = []
    for event in a.events:
        if event.kind == alliance_core.AllianceEventKind.RUPTURE:
            markers.append(charts.Marker(event.session_number, "Possible rupture", "rupture"))
        else:
            markers.append(charts.Marker(event.session_number, "Repair", "repair"))
    return markers


def _space_between(
    a: AllianceInsight,
    insight: EpisodeInsight,
    *,
    with_ratings: bool,
    checkins: CheckinChoice,
    for_client: bool = False,
    timeline: relationship.Timeline | None = None,
) -> tuple[charts.Chart, list[str], charts.Chart | None]:
    """One chart with the gap where both views share one validated metric; else the client's view and
    the therapist's, each in its own unit, side by side with no gap (docs/insights.md)."""
    notes = [
        f"A possible rupture: the client's {a.instrument.title} falls {a.rules.drop_points:g} points or more "
        f"below their own running baseline (the mean of up to {a.rules.baseline_window} earlier scores; "
        f"threshold: {a.drop_source})"
        + (f", or below {a.rules.floor:g}" if a.rules.floor is not None else "")
        + ". A repair: a later score back at or above that baseline."
    ]
    why_not = a.not_shared
    if why_not is None:
        notes.append(
            f"The gap is the client's {a.instrument.title} minus yours ({a.therapist_measure}), both on one "
            f"validated metric, in {a.client_metric.unit}; a gap moving {number(a.gap_points)} "
            f"{a.client_metric.unit} or more from the pair's usual gap on {a.rules.gap_sessions} paired "
            "sessions in a row is flagged as a possible rupture."
        )
    elif a.therapist_scores:
        notes.append(
            f"Your side is the {a.therapist_measure or 'session rating'}, on another metric than the "
            f"client's {a.instrument.title} ({why_not}), so the two views are shown side by side, each in "
            "its own unit, with no gap between them and no gap rule. Only a validated therapist form on "
            "the same items, answers and scoring as the client's (e.g. the WAI-SR-T beside the WAI-SR) "
            "has a gap."
        )
    shown = [
        (
            c.session_number,
            ", ".join(FEELING_LABELS.get(f, f) for f in c.feelings) or "none noted",
            c.intensity,
        )
        for c in insight.checkins
        if checkins == "all" or (checkins == "shared" and c.shared)
    ]
    if for_client:
        title = "How our work together felt to you"
    elif with_ratings and a.therapist_scores:
        title = "The space between: the client's and the therapist's view of the relationship"
    else:
        title = "The space between: the client's view of the relationship"
    unit, low, high = a.client_metric.unit, a.client_metric.minimum, a.client_metric.maximum
    theirs = a.therapist_scores if with_ratings else []
    client_label = f"Client: {_short_title(a.instrument.title)}"
    therapist_label = f"Therapist: {_short_title(a.therapist_measure or 'session rating')}"
    markers = [] if for_client else _alliance_markers(a)
    marks = timeline.chart_marks() if timeline is not None and not for_client else []
    if why_not is None and theirs:
        # One validated metric: one axis in its points, the gap signed client minus therapist.
        chart = charts.space_between_chart(
            title=f"{title} ({unit})",
            client=a.client_scores,
            therapist=theirs,
            client_label=client_label,
            therapist_label=therapist_label,
            unit=unit,
            scale_min=low,
            scale_max=high,
            gap_rule=(
                f"Possible rupture: the gap moves {number(a.gap_points)} {unit} or more from its usual "
                f"level on {a.rules.gap_sessions} paired sessions"
            ),
            markers=markers,
            checkins=shown,
            timeline=marks,
        )
        return chart, notes, None
    # Unlike measures: one chart per view, each in its own unit, no gap.
    metric = a.therapist_metric
    own = (theirs or shown) and metric is not None
    chart = charts.space_between_chart(
        title=f"{title} ({unit})" if not theirs else f"The space between: the client's view ({unit})",
        client=a.client_scores,
        therapist=[],
        client_label=client_label,
        therapist_label=therapist_label,
        unit=unit,
        scale_min=low,
        scale_max=high,
        markers=markers,
        checkins=[] if own else shown,
        timeline=marks,
    )
    if not own or metric is None:
        return chart, notes, None
    therapist_chart = charts.space_between_chart(
        title=f"Beside it, the therapist's view ({metric.unit}: another metric, so no gap)",
        client=[],
        therapist=theirs,
        client_label=client_label,
        therapist_label=therapist_label,
        unit=metric.unit,
        scale_min=metric.minimum,
        scale_max=metric.maximum,
        checkins=shown,
    )
    return chart, notes, therapist_chart


MENTALIZING_NOTE = (
    "RFQ-8 (Fonagy et al. 2016): low scores on both scales are what the authors describe as genuine "
    "mentalizing; high certainty leans toward hypermentalizing and high uncertainty toward hypomentalizing, "
    "so neither scale is 'higher is better' and a rise in certainty is not shown as improvement. No "
    f"published cut-off marks where the genuine region ends. {mentalizing.CAVEAT}"
)


def _mentalizing(insight: EpisodeInsight, sessions: list[int]) -> charts.Chart | None:
    """The RFQ-8 as its authors describe it (core.mentalizing): 0 on both scales is genuine
    mentalizing; certainty drawn above the zero line (toward hypermentalizing), uncertainty below it
    (toward hypomentalizing), so a rise in certainty never reads as improvement."""
    if not insight.mentalizing:
        return None
    return charts.deviation_chart(
        title="Mentalizing (RFQ-8): distance from genuine mentalizing on each scale",
        series=[(d.label, d.pole, d.side, points) for d, points in insight.mentalizing],
        scale_max=3.0,
        unit="RFQ points",
        zero_label=f"0: genuine mentalizing ({mentalizing.SOURCE.split(',')[0]})",
        sessions=sessions,
    )


def episode_view(
    insight: EpisodeInsight,
    *,
    therapist_side: bool,
    risk_marks: bool = True,
    alerts: Sequence[Alert] | None = None,
    checkins: CheckinChoice | None = None,
    for_client: bool = False,
    timeline: relationship.Timeline | None = None,
) -> EpisodeView:
    """Charts and alerts for one episode; `alerts` are the signals to show (`selectors.current_alerts`:
    the stored ones), the insight's own when None. Without `therapist_side` the therapist's own ratings
    are left out. `checkins` says which counter-transference check-ins are drawn: "all" (the treating
    therapist's own page, or a report they chose to include them in), "shared" (those the therapist
    shared with their supervisor: the supervision copy) or "none"; by default "all" with the
    therapist's side and "none" without. `risk_marks` rings the scores that came with a risk answer:
    for clinicians, not in the client's copy (a client never sees a risk flag). `for_client` leaves out
    every internal signal and diagnostic label (see `_outcome_view`) and the rupture marks."""
    if checkins is None:
        checkins = "all" if therapist_side else "none"
    if for_client:
        therapist_side, checkins, risk_marks, timeline = False, "none", False, None
    sessions = list(range(1, insight.scores.sessions_attended + 1))
    outcomes = [
        _outcome_view(o, sessions, risk_marks=risk_marks, for_client=for_client)
        for o in insight.outcomes
        if o.points
    ]
    space_between: charts.Chart | None = None
    therapist_view: charts.Chart | None = None
    notes: list[str] = []
    shown = 0
    if insight.alliance is not None and insight.alliance.client_points:
        space_between, notes, therapist_view = _space_between(
            insight.alliance,
            insight,
            with_ratings=therapist_side,
            checkins=checkins,
            for_client=for_client,
            timeline=timeline,
        )
        if for_client:
            notes = []
        shown = sum(1 for c in insight.checkins if checkins == "all" or (checkins == "shared" and c.shared))
    process = (
        charts.process_chart(
            title="Ingredients of change (percent of each scale's range; higher is better)",
            series=insight.process,
            sessions=sessions,
        )
        if insight.process
        else None
    )
    return EpisodeView(
        outcomes=outcomes,
        space_between=space_between,
        space_between_notes=notes,
        therapist_view=therapist_view,
        mentalizing=_mentalizing(insight, sessions),
        mentalizing_note=MENTALIZING_NOTE if insight.mentalizing else "",
        process=process,
        alerts=[] if for_client else list(insight.alerts if alerts is None else alerts),
        has_scores=bool(insight.scores.series),
        checkins_shown=shown if space_between is not None else 0,
        timeline=timeline,
    )


def episode_views(
    user: User,
    episodes: Sequence[Episode],
    practice: Practice,
    *,
    for_client: bool = False,
    report: str | None = None,
    include_checkins: bool = False,
    instruments: Mapping[str, Instrument] | None = None,
) -> list[tuple[int, EpisodeView]]:
    """(episode id, view) for episodes the user may already see. The charts are drawn from the episodes'
    scores; the signals are the stored ones (`selectors.current_alerts`), so every page shows what was
    computed once.

    * The client page (`report` None): the therapist's side (ratings and check-ins) for the treating
      therapist only.
    * A report "session" (the treating therapist's): their ratings; their check-ins only where they
      chose to include them in this report (`include_checkins`).
    * A report "supervision": the therapist's ratings and only the check-ins the therapist shared with
      their supervisor, whoever downloads it.
    * The client's copy (`for_client`, or `report` "client"): no therapist side, no signal, no
      diagnostic label.

    `instruments`: the practice's (`measures.selectors.instruments_for`), when the caller has them."""
    for_client = for_client or report == "client"
    insights = selectors.episode_insights(episodes, practice, instruments)
    alerts = selectors.current_alerts(episodes, practice, computed=insights)
    # The client page only: the ruptures the chart found, with the therapist's rupture notes and themes.
    timelines = (
        {}
        if report is not None or for_client
        else relationship.timelines(user, episodes, _detected(insights))
    )
    views = []
    for pk, insight in insights.items():
        treating = insight.scores.episode.therapist_id == user.pk
        checkins: CheckinChoice = "none"
        therapist_side = False
        if report == "supervision":
            therapist_side, checkins = True, "shared"
        elif treating and report is None:
            therapist_side, checkins = True, "all"
        elif treating and report == "session":
            therapist_side, checkins = True, "all" if include_checkins else "none"
        views.append(
            (
                pk,
                episode_view(
                    insight,
                    therapist_side=therapist_side,
                    risk_marks=not for_client,
                    alerts=alerts.get(pk),
                    checkins=checkins,
                    for_client=for_client,
                    timeline=timelines.get(pk),
                ),
            )
        )
    return views


def _detected(insights: Mapping[int, EpisodeInsight]) -> dict[int, list[tuple[int, bool]]]:
    """Per episode, (session number, True for a possible rupture / False for a repair) as detected."""
    return {
        pk: [(e.session_number, e.kind == alliance_core.AllianceEventKind.RUPTURE) for e in i.alliance.events]
        for pk, i in insights.items()
        if i.alliance is not None
    }


def practice_outcomes_page(user: User, result: outcomes.PracticeOutcomes) -> dict[str, Any]:
    """The practice outcomes page's context: the aggregates, their chart beside the national figures,
    the rules they follow, and the practice's process-outcome associations; never a name."""
    chart = charts.outcome_bars(
        title="Outcomes of finished episodes beside the latest national figures",
        rows=outcomes.benchmark_rows(result),
        benchmark_label="England, latest national figure",
        practice_label="This practice",
        missing_text=outcomes.SUPPRESSED,
    )
    return {
        "outcomes": result,
        "chart": chart,
        "columns": outcomes.OUTCOMES.values(),
        "benchmarks": outcomes.NATIONAL_BENCHMARKS,
        "small_cell": outcomes.SMALL_CELL,
        "finished_course_sessions": outcomes.FINISHED_COURSE_SESSIONS,
        "caseness_rule": outcomes.caseness_rule(),
        "mechanisms": selectors.practice_mechanisms(user.practice),
        "mechanisms_min_clients": mechanisms.MIN_CLIENTS,
        "mechanisms_min_pairs": mechanisms.MIN_PAIRS_PER_CLIENT,
        "mechanisms_planned_effect": mechanisms.PLANNED_EFFECT,
        "mechanisms_practice": selectors.PRACTICE_PROCESS,
    }
