"""Process measures: several ingredient measures on one axis, in percent of each scale's range."""

from __future__ import annotations

from collections.abc import Sequence

from spacebetween.insights.charts.legend import Entry, draw_legend, line_swatch
from spacebetween.insights.charts.plot import (
    LEGEND_TOP,
    NO_SCORES,
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
from spacebetween.insights.charts.svg import percent, plural

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
    legend: list[Entry] = []
    for i, (name, points) in enumerate(named):
        style = SERIES_STYLES[i % len(SERIES_STYLES)]
        body += draw_series(
            frame,
            points,
            style=style,
            css=f"sb-series sb-series-{i}",
            max_gap=max_gap,
            describe=percent_tooltip(name),
        )
        legend.append((line_swatch(*style), name))
    if not any(points for _, points in named):
        body.append(no_data(NO_SCORES))
    legend_parts, bottom = draw_legend(legend, LEGEND_TOP)

    lookup = [dict(points) for _, points in named]
    return make_chart(
        chart_id,
        title=title,
        summary=_summary(named),
        height=bottom + 8,
        body=body + legend_parts,
        headers=["Session"] + [name for name, _ in named],
        rows=[
            [str(s)] + [percent(d[s]) if s in d else "" for d in lookup]
            for s in sorted({s for d in lookup for s in d})
        ],
    )


def _summary(named: Named) -> str:
    with_scores = [(name, points) for name, points in named if points]
    if not with_scores:
        return f"{NO_SCORES} on these measures."
    latest = ", ".join(f"{name} {percent(pts[-1][1])} at session {pts[-1][0]}" for name, pts in with_scores)
    return f"{plural(len(with_scores), 'measure')} in percent of their scale's range, latest: {latest}."
