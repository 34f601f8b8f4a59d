"""From an episode's insights to the charts and plain-language alerts of the client page and the PDF
report: one place, so that the page and the report always show the same thing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from spacebetween.accounts.models import User
from spacebetween.clients.models import Episode
from spacebetween.core import alliance as alliance_core
from spacebetween.core import trajectories
from spacebetween.insights import charts, selectors
from spacebetween.insights.analysis import Alert, AllianceInsight, EpisodeInsight, OutcomeInsight
from spacebetween.practice.models import Practice
from spacebetween.relationship.measures import Feeling

MARKER_OF_SIGNAL = {
    trajectories.SignalKind.NOT_ON_TRACK: ("not_on_track", "Not on track"),
    trajectories.SignalKind.RELIABLE_DETERIORATION: ("deterioration", "Reliable deterioration"),
    trajectories.SignalKind.SUDDEN_GAIN: ("sudden_gain", "Sudden gain"),
}
FEELING_LABELS = dict(Feeling.choices)


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


def _outcome_view(o: OutcomeInsight, sessions: list[int], *, risk_marks: bool = True) -> OutcomeView:
    markers = [
        charts.Marker(s.session_number, MARKER_OF_SIGNAL[s.kind][1], MARKER_OF_SIGNAL[s.kind][0])
        for s in o.signals
        if s.kind in MARKER_OF_SIGNAL
    ]
    cutoffs = []
    if o.scale.caseness is not None:
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
    return OutcomeView(chart=chart, band_note=o.band_note, rc_note=rc_note)


def _alliance_markers(a: AllianceInsight) -> list[charts.Marker]:
    markers = []
    for event in a.events:
        if event.kind == alliance_core.AllianceEventKind.RUPTURE:
            markers.append(charts.Marker(event.session_number, "Possible rupture", "rupture"))
        else:
            markers.append(charts.Marker(event.session_number, "Repair", "repair"))
    return markers


def _space_between(
    a: AllianceInsight, insight: EpisodeInsight, *, with_checkins: bool
) -> tuple[charts.Chart, list[str]]:
    notes = [
        f"A possible rupture: the client's {a.instrument.title} falls {a.rules.drop_points:g} points or more "
        f"below their own running baseline (the mean of up to {a.rules.baseline_window} earlier scores; "
        f"threshold: {a.drop_source})"
        + (f", or below {a.rules.floor:g}" if a.rules.floor is not None else "")
        + ". A repair: a later score back at or above that baseline."
    ]
    if a.therapist_validated:
        notes.append(
            f"The gap compares the client's view with yours ({a.therapist_measure}) in percent of each "
            f"scale's range; a gap widening by {a.rules.gap_points:g} points over {a.rules.gap_sessions} "
            "sessions is flagged."
        )
        gap_note = "Gap: client minus therapist, percent of scale range."
    else:
        notes.append(
            f"Your side is the {a.therapist_measure or 'session rating'}: not a validated alliance measure, "
            "so the gap is shown as a prompt for reflection, not measured or flagged. Importing a validated "
            "therapist alliance form switches the gap rule on."
        )
        gap_note = "Gap shown for reflection only: your side is not a validated alliance measure."
    checkins = (
        [
            (
                c.session_number,
                ", ".join(FEELING_LABELS.get(f, f) for f in c.feelings) or "none noted",
                c.intensity,
            )
            for c in insight.checkins
        ]
        if with_checkins
        else []
    )
    chart = charts.space_between_chart(
        title="The space between: the client's and your view of the relationship",
        client=a.client_percent,
        therapist=a.therapist_percent if with_checkins else [],
        client_label=f"Client: {a.instrument.title}",
        therapist_label=f"Therapist: {a.therapist_measure or 'session rating'}",
        show_gap=with_checkins and bool(a.therapist_percent),
        gap_note=gap_note,
        markers=_alliance_markers(a),
        checkins=checkins,
    )
    return chart, notes


def episode_view(
    insight: EpisodeInsight,
    *,
    therapist_side: bool,
    risk_marks: bool = True,
    alerts: Sequence[Alert] | None = None,
) -> EpisodeView:
    """Charts and alerts for one episode; `alerts` are the signals to show (`selectors.current_alerts`:
    the stored ones), the insight's own when None. Without `therapist_side` the therapist's own ratings and
    counter-transference check-ins are left out: they are shown to the treating therapist only (and
    never in the client's copy of a report). `risk_marks` rings the scores that came with a risk
    answer: for clinicians, not in the client's copy (a client never sees a risk flag)."""
    sessions = list(range(1, insight.scores.sessions_attended + 1))
    outcomes = [_outcome_view(o, sessions, risk_marks=risk_marks) for o in insight.outcomes if o.points]
    space_between: charts.Chart | None = None
    notes: list[str] = []
    if insight.alliance is not None and insight.alliance.client_points:
        space_between, notes = _space_between(insight.alliance, insight, with_checkins=therapist_side)
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
        process=process,
        alerts=list(insight.alerts if alerts is None else alerts),
        has_scores=bool(insight.scores.series),
    )


def episode_views(
    user: User, episodes: Sequence[Episode], practice: Practice, *, for_client: bool = False
) -> list[tuple[int, EpisodeView]]:
    """(episode id, view) for episodes the user may already see; the therapist's side only for the
    treating therapist, and never `for_client`. The charts are drawn from the episodes' scores; the
    signals are the stored ones (`selectors.current_alerts`), so every page shows what was computed
    once."""
    insights = selectors.episode_insights(episodes, practice)
    alerts = selectors.current_alerts(episodes, practice, computed=insights)
    return [
        (
            pk,
            episode_view(
                insight,
                therapist_side=not for_client and insight.scores.episode.therapist_id == user.pk,
                risk_marks=not for_client,
                alerts=alerts.get(pk),
            ),
        )
        for pk, insight in insights.items()
    ]
