"""One measure over the sessions: the scores, the expected course with its band, the zone of no
reliable change around the intake score, labelled cut-off lines, risk answers and session events."""

from __future__ import annotations

import math
from collections.abc import Sequence

from spacebetween.insights.charts.legend import (
    Entry,
    box_swatch,
    draw_legend,
    line_swatch,
    marker_entries,
    no_swatch,
)
from spacebetween.insights.charts.plot import (
    LEGEND_TOP,
    NO_SCORES,
    PLOT_LEFT,
    PLOT_RIGHT,
    PLOT_WIDTH,
    SERIES_STYLES,
    Chart,
    Cutoff,
    Frame,
    Marker,
    axes,
    chart_id_of,
    check_markers,
    check_series,
    check_sessions,
    check_value,
    draw_series,
    events_by_session,
    make_chart,
    marked,
    marker_symbols,
    no_data,
    sessions_spanned,
    value_y,
)
from spacebetween.insights.charts.svg import (
    BAND,
    DARK,
    INK,
    MID,
    el,
    hatch,
    line_path,
    number,
    path_data,
    plural,
    shorten,
    svg_title,
)

# A score whose answers held a risk answer (PHQ-9 item 9 and the like): a ring around the point, named
# in its tooltip, the legend, the table and the summary, so it is never told by colour alone.
RISK_ANSWER = "Risk answer"
RISK_RING_RADIUS = 8.5

Expected = tuple[int, float, float, float]  # session, mean, low and high end of the band


def trajectory_chart(
    *,
    title: str,
    scale_min: float,
    scale_max: float,
    higher_is_better: bool,
    scores: Sequence[tuple[int, float]],
    expected: Sequence[Expected] = (),
    reliable_change: tuple[float, float] | None = None,
    cutoffs: Sequence[Cutoff] = (),
    sessions: Sequence[int] = (),
    markers: Sequence[Marker] = (),
    band_note: str = "",
    max_gap: int = 2,
    risk_sessions: Sequence[int] = (),
) -> Chart:
    """One measure over the sessions: its scores, the expected course with its band, the zone of no
    reliable change around the intake score, labelled cut-off lines and session events.
    `risk_sessions`: sessions whose score came with a risk answer, ringed (RISK_ANSWER)."""
    scores, expected, risk = _checked(
        scale_min, scale_max, scores, expected, cutoffs, sessions, markers, risk_sessions
    )
    inputs = (title, scale_min, scale_max, higher_is_better, scores, expected, reliable_change, cutoffs)
    chart_id = chart_id_of("trajectory", *inputs, sessions, markers, band_note, max_gap, risk)
    hatch_id = f"{chart_id}-hatch"
    frame = Frame(
        scale_min,
        scale_max,
        sessions_spanned(
            [s for s, _ in scores], [e[0] for e in expected], sessions, [m.session_number for m in markers]
        ),
    )
    body = (
        _bands(frame, expected, reliable_change, hatch_id)
        + axes(frame, sessions, number)
        + _cutoff_lines(frame, cutoffs)
        + _expected_line(frame, expected)
        + _points(frame, scores, risk, max_gap)
        + marker_symbols(markers, frame.sessions)
    )
    legend = _legend(
        title,
        scores,
        expected,
        band_note,
        reliable_change,
        hatch_id,
        cutoffs,
        markers,
        risk,
        higher_is_better,
    )
    legend_parts, bottom = draw_legend(legend, LEGEND_TOP)
    return make_chart(
        chart_id,
        title=title,
        summary=_summary(title, scores, markers, risk, higher_is_better),
        height=bottom + 8,
        body=body + legend_parts,
        defs=[hatch(hatch_id)] if reliable_change is not None else [],
        headers=("Session", "Score", "Expected", "Expected range", "Events"),
        rows=_table(scores, expected, markers, risk),
    )


def _checked(
    scale_min: float,
    scale_max: float,
    scores: Sequence[tuple[int, float]],
    expected: Sequence[Expected],
    cutoffs: Sequence[Cutoff],
    sessions: Sequence[int],
    markers: Sequence[Marker],
    risk_sessions: Sequence[int],
) -> tuple[list[tuple[int, float]], list[Expected], list[int]]:
    """The scores, the expected course and the risk sessions in session order, once they are checked."""
    if not (math.isfinite(scale_min) and math.isfinite(scale_max) and scale_max > scale_min):
        raise ValueError(f"the scale must run from a lower to a higher number, not {scale_min}–{scale_max}")
    in_order, course = sorted(scores), sorted(expected)
    check_series("scores", in_order, scale_min, scale_max)
    check_sessions("expected", [e[0] for e in course])
    for s, mean, low, high in course:
        for value in (mean, low, high):
            check_value("expected", value, -math.inf, math.inf, s)
        if not low <= mean <= high:
            raise ValueError(
                f"expected: at session {s} the band {number(low)}–{number(high)} excludes {number(mean)}"
            )
    for cut in cutoffs:
        check_value(f"cut-off {cut.label!r}", cut.value, scale_min, scale_max)
    check_sessions("sessions", sessions)
    check_markers(markers)
    risk = sorted(set(risk_sessions))
    check_sessions("risk_sessions", risk)
    unscored = [s for s in risk if s not in dict(in_order)]
    if unscored:
        raise ValueError(f"risk_sessions: no score at session {unscored[0]} to mark")
    return in_order, course, risk


# ---------------------------------------------------------------------------------------- drawing


def _bands(
    frame: Frame, expected: Sequence[Expected], reliable_change: tuple[float, float] | None, hatch_id: str
) -> list[str]:
    """Under everything else: the expected range (grey) and the zone of no reliable change (hatched)."""
    parts = []
    if expected:
        band = [frame.point(s, high) for s, _, _, high in expected] + [
            frame.point(s, low) for s, _, low, _ in reversed(expected)
        ]
        parts.append(el("path", d=path_data(band, close=True), fill=BAND, class_="sb-expected-band"))
    if reliable_change is not None:
        zone_low, zone_high = sorted(reliable_change)
        (_, top), (_, bottom) = frame.point(1, zone_high), frame.point(1, zone_low)
        parts.append(
            el(
                "rect",
                x=PLOT_LEFT,
                y=top,
                width=PLOT_WIDTH,
                height=bottom - top,
                fill=f"url(#{hatch_id})",
                class_="sb-reliable-zone",
            )
        )
    return parts


def _cutoff_lines(frame: Frame, cutoffs: Sequence[Cutoff]) -> list[str]:
    """A dashed line across the plot at each cut-off, its name and value written above it at the right."""
    parts = []
    for cut in sorted(cutoffs, key=lambda c: c.value):
        y = value_y(cut.value, frame.low, frame.high)
        parts += [
            el(
                "line",
                x1=PLOT_LEFT,
                y1=y,
                x2=PLOT_RIGHT,
                y2=y,
                stroke=DARK,
                stroke_width="1.5",
                stroke_dasharray="2 2",
                class_="sb-cutoff",
            ),
            el(
                "text",
                text=shorten(f"{cut.label} ({number(cut.value)})", 48),
                x=PLOT_RIGHT - 3,
                y=y - 4,
                text_anchor="end",
                fill=DARK,
                class_="sb-cutoff-label",
            ),
        ]
    return parts


def _expected_line(frame: Frame, expected: Sequence[Expected]) -> list[str]:
    if not expected:
        return []
    course = [frame.point(s, m) for s, m, _, _ in expected]
    return [line_path(course, dash="7 4", stroke=DARK, width="1.5", css="sb-expected")]


def _risk_ring(x: float, y: float, tooltip: str = "") -> str:
    return el(
        "circle",
        svg_title(tooltip) if tooltip else "",
        cx=x,
        cy=y,
        r=RISK_RING_RADIUS,
        fill="none",
        stroke=INK,
        stroke_width="2.5",
        class_="sb-risk",
    )


def _points(
    frame: Frame, scores: Sequence[tuple[int, float]], risk: Sequence[int], max_gap: int
) -> list[str]:
    """The scores' line and points, a ring round each score with a risk answer; or "No scores yet"."""
    parts = draw_series(
        frame,
        scores,
        style=SERIES_STYLES[0],
        css="sb-score",
        max_gap=max_gap,
        describe=lambda s, v: f"Session {s}: {number(v)}" + ("; risk answer" if s in risk else ""),
    )
    by_score = dict(scores)
    parts += [
        _risk_ring(*frame.point(s, by_score[s]), tooltip=f"Session {s}: {RISK_ANSWER.lower()}") for s in risk
    ]
    if not scores:
        parts.append(no_data(NO_SCORES))
    return parts


# ---------------------------------------------------------------------------------------- legend and text


def _legend(
    title: str,
    scores: Sequence[tuple[int, float]],
    expected: Sequence[Expected],
    band_note: str,
    reliable_change: tuple[float, float] | None,
    hatch_id: str,
    cutoffs: Sequence[Cutoff],
    markers: Sequence[Marker],
    risk: Sequence[int],
    higher_is_better: bool,
) -> list[Entry]:
    entries: list[Entry] = []
    if scores:
        entries.append((line_swatch(*SERIES_STYLES[0]), f"Score ({title})"))
    if expected:
        entries.append((box_swatch(BAND), "Expected range" + (f" ({band_note})" if band_note else "")))
    if reliable_change is not None:
        zone_low, zone_high = sorted(reliable_change)
        entries.append(
            (
                box_swatch(f"url(#{hatch_id})", MID),
                f"No reliable change: {number(zone_low)}–{number(zone_high)}, around the intake score",
            )
        )
    if cutoffs:
        entries.append((line_swatch("2 2", None, "1.5"), "Cut-off (named on the line)"))
    if expected:
        entries.append((line_swatch("7 4", None, "1.5"), "Expected course"))
    entries += marker_entries(markers)
    if risk:
        entries.append((lambda x, y: _risk_ring(x + 14, y), f"{RISK_ANSWER} (ringed score)"))
    entries.append((no_swatch, "Higher scores are better" if higher_is_better else "Lower scores are better"))
    return entries


def _table(
    scores: Sequence[tuple[int, float]],
    expected: Sequence[Expected],
    markers: Sequence[Marker],
    risk: Sequence[int],
) -> list[tuple[str, ...]]:
    """A row for each session with a score, an expected value or an event (risk answers among them)."""
    by_score = dict(scores)
    by_expected = {s: (m, low, high) for s, m, low, high in expected}
    events = events_by_session(markers)
    for s in risk:
        events[s] = "; ".join(e for e in (RISK_ANSWER, events.get(s, "")) if e)
    return [
        (
            str(s),
            number(by_score[s]) if s in by_score else "",
            number(by_expected[s][0]) if s in by_expected else "",
            f"{number(by_expected[s][1])}–{number(by_expected[s][2])}" if s in by_expected else "",
            events.get(s, ""),
        )
        for s in sorted(set(by_score) | set(by_expected) | set(events))
    ]


def _summary(
    title: str,
    scores: Sequence[tuple[int, float]],
    markers: Sequence[Marker],
    risk: Sequence[int],
    higher_is_better: bool,
) -> str:
    if not scores:
        return f"{NO_SCORES} on the {title}."
    (first_s, first_v), (last_s, last_v) = scores[0], scores[-1]
    course = (
        f"from {number(first_v)} at session {first_s} to {number(last_v)} at session {last_s}"
        if len(scores) > 1
        else f"{number(first_v)} at session {first_s}"
    )
    better = "higher" if higher_is_better else "lower"
    risky = (
        f"; {RISK_ANSWER.lower()} at session{'s' if len(risk) > 1 else ''} {', '.join(map(str, risk))}"
        if risk
        else ""
    )
    return f"{title}: {plural(len(scores), 'score')}, {course} ({better} is better){marked(markers)}{risky}."
