"""Process measures: several ingredient measures on one axis, in percent of each scale's range (higher
is better); and scales read as distances from an optimal region (`deviation_chart`: the RFQ-8), which
never go on that axis."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from spacebetween.insights.charts.legend import Entry, draw_legend, line_swatch
from spacebetween.insights.charts.plot import (
    LEGEND_TOP,
    NO_SCORES,
    PLOT_BOTTOM,
    PLOT_LEFT,
    PLOT_RIGHT,
    PLOT_TOP,
    SERIES_STYLES,
    Chart,
    Frame,
    axes,
    chart_id_of,
    check_series,
    check_sessions,
    draw_series,
    make_chart,
    no_data,
    percent_tooltip,
    sessions_spanned,
)
from spacebetween.insights.charts.svg import DARK, INK, el, number, percent, plural

Named = list[tuple[str, list[tuple[int, float]]]]


def process_chart(
    *,
    title: str,
    series: Sequence[tuple[str, Sequence[tuple[int, float]]]],
    sessions: Sequence[int] = (),
    max_gap: int = 2,
) -> Chart:
    """Several ingredient measures on one axis, each in percent of its scale's range; each line has its
    own dash pattern and point shape (six distinct styles, then they repeat)."""
    named = [(name, sorted(points)) for name, points in series]
    for name, points in named:
        check_series(name, points, 0, 100)
    check_sessions("sessions", sessions)
    chart_id = chart_id_of("process", title, named, sessions, max_gap)
    frame = Frame(0, 100, sessions_spanned(sessions, *[[s for s, _ in points] for _, points in named]))
    body = axes(frame, sessions, lambda v: f"{v:g}%")
    return lines_chart(
        chart_id,
        frame,
        body,
        named,
        title=title,
        summary=_summary(named),
        max_gap=max_gap,
        describe=percent_tooltip,
        cell=percent,
    )


def lines_chart(
    chart_id: str,
    frame: Frame,
    body: list[str],
    named: Sequence[tuple[str, Sequence[tuple[int, float]]]],
    *,
    title: str,
    summary: str,
    max_gap: int,
    describe: Callable[[str], Callable[[int, float], str]],
    cell: Callable[[float], str],
) -> Chart:
    """Several named series on one axis already drawn in `body`: a line each (its own dash pattern and
    point shape, `describe(name)` wording each point), the legend, and the data as a table with
    `cell` wording each value. The ingredients chart and the goals chart (`formulation.chart`)."""
    legend: list[Entry] = []
    for i, (name, points) in enumerate(named):
        style = SERIES_STYLES[i % len(SERIES_STYLES)]
        body += draw_series(
            frame,
            points,
            style=style,
            css=f"sb-series sb-series-{i}",
            max_gap=max_gap,
            describe=describe(name),
        )
        legend.append((line_swatch(*style), name))
    if not any(points for _, points in named):
        body.append(no_data(NO_SCORES))
    legend_parts, bottom = draw_legend(legend, LEGEND_TOP)
    lookup = [dict(points) for _, points in named]
    return make_chart(
        chart_id,
        title=title,
        summary=summary,
        height=bottom + 8,
        body=body + legend_parts,
        headers=["Session"] + [name for name, _ in named],
        rows=[
            [str(s)] + [cell(d[s]) if s in d else "" for d in lookup]
            for s in sorted({s for d in lookup for s in d})
        ],
    )


def _summary(named: Named) -> str:
    with_scores = [(name, points) for name, points in named if points]
    if not with_scores:
        return f"{NO_SCORES} on these measures."
    latest = ", ".join(f"{name} {percent(pts[-1][1])} at session {pts[-1][0]}" for name, pts in with_scores)
    return f"{plural(len(with_scores), 'measure')} in percent of their scale's range, latest: {latest}."


Deviation = tuple[
    str, str, int, Sequence[tuple[int, float]]
]  # label, pole, side (+1 above, -1 below), points


def _describe_distance(session: int, value: float, *, label: str, pole: str, unit: str) -> str:
    return f"Session {session}, {label}: {number(abs(value))} {unit} from 0, toward {pole}"


def deviation_chart(
    *,
    title: str,
    series: Sequence[Deviation],
    scale_max: float,
    unit: str,
    zero_label: str,
    sessions: Sequence[int] = (),
    max_gap: int = 2,
) -> Chart:
    """Scales read as distances from an optimal region at 0 (the RFQ-8's certainty and uncertainty,
    core.mentalizing): one zero line, each scale drawn away from it toward its own pole (side +1 above,
    -1 below), in its own points (`unit`, 0 to `scale_max`). No direction is called better: a rise on
    either scale is a move away from 0, and the axis reads the distance, not a gain."""
    named = [(label, pole, side, sorted(points)) for label, pole, side, points in series]
    if not (scale_max > 0):
        raise ValueError(f"scale_max must be above 0, not {scale_max!r}")
    for label, _, side, points in named:
        if side not in (1, -1):
            raise ValueError(f"{label}: side must be 1 (above the zero line) or -1 (below), not {side!r}")
        check_series(label, points, 0, scale_max)
    check_sessions("sessions", sessions)
    chart_id = chart_id_of("deviation", title, named, scale_max, unit, zero_label, sessions, max_gap)
    frame = Frame(-scale_max, scale_max, sessions_spanned(sessions, *[[s for s, _ in p] for *_, p in named]))
    body = axes(frame, sessions, lambda v: f"{abs(v):g}")
    zero_y = frame.point(1, 0)[1]
    body.append(el("line", x1=PLOT_LEFT, y1=zero_y, x2=PLOT_RIGHT, y2=zero_y, stroke=INK, class_="sb-zero"))
    body.append(el("text", text=zero_label, x=PLOT_RIGHT - 4, y=zero_y - 5, text_anchor="end", fill=DARK))
    for label, pole, side, _ in named:
        y = PLOT_TOP + 14 if side > 0 else PLOT_BOTTOM - 6
        body.append(
            el("text", text=f"{label}: toward {pole}", x=PLOT_LEFT + 6, y=y, fill=DARK, class_="sb-pole")
        )
    legend: list[Entry] = []
    for i, (label, pole, side, points) in enumerate(named):
        style = SERIES_STYLES[i % len(SERIES_STYLES)]
        body += draw_series(
            frame,
            [(s, side * v) for s, v in points],
            style=style,
            css=f"sb-series sb-series-{i}",
            max_gap=max_gap,
            describe=functools.partial(_describe_distance, label=label, pole=pole, unit=unit),
        )
        legend.append((line_swatch(*style), f"{label} ({unit}; higher = toward {pole})"))
    if not any(points for *_, points in named):
        body.append(no_data(NO_SCORES))
    legend_parts, bottom = draw_legend(legend, LEGEND_TOP)
    lookup = [dict(points) for *_, points in named]
    return make_chart(
        chart_id,
        title=title,
        summary=_deviation_summary(named, unit),
        height=bottom + 8,
        body=body + legend_parts,
        headers=["Session"] + [f"{label} ({unit}, toward {pole})" for label, pole, _, _ in named],
        rows=[
            [str(s)] + [number(d[s]) if s in d else "" for d in lookup]
            for s in sorted({s for d in lookup for s in d})
        ],
    )


def _deviation_summary(named: Sequence[tuple[str, str, int, list[tuple[int, float]]]], unit: str) -> str:
    with_scores = [(label, pole, pts) for label, pole, _, pts in named if pts]
    if not with_scores:
        return f"{NO_SCORES} on these scales."
    latest = ", ".join(
        f"{label} {number(pts[-1][1])} {unit} toward {pole} at session {pts[-1][0]}"
        for label, pole, pts in with_scores
    )
    return (
        f"Distance from 0 on each scale, latest: {latest}. A rise on either scale is a move away from 0, "
        "not an improvement."
    )
