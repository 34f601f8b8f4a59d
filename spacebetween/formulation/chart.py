"""The goals chart: each goal's 0-10 ratings over the sessions, drawn with the session charts' kit
(`insights.charts`: greys, a dash pattern and point shape per line, a title, a description and the data
as a table), so that it reads like the standard measures' charts shown beside it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from spacebetween.core.goals import GOAL_MAX, GOAL_MIN
from spacebetween.insights.charts import NO_SCORES, Chart
from spacebetween.insights.charts.legend import Entry, draw_legend, line_swatch
from spacebetween.insights.charts.plot import (
    LEGEND_TOP,
    SERIES_STYLES,
    Frame,
    axes,
    chart_id_of,
    check_series,
    check_sessions,
    draw_series,
    make_chart,
    no_data,
    sessions_spanned,
)
from spacebetween.insights.charts.svg import signed

Series = Sequence[tuple[str, Sequence[tuple[int, int]]]]


def goals_chart(*, title: str, goals: Series, sessions: Sequence[int] = ()) -> Chart:
    """`goals`: (label, [(session number, rating 0-10)]) per goal; `sessions`: the session numbers
    held, for the ticks. Raises ValueError on a rating outside 0-10 or a session rated twice."""
    named = [(label, sorted(points)) for label, points in goals]
    for label, points in named:
        check_series(label, points, GOAL_MIN, GOAL_MAX)
    check_sessions("sessions", sessions)
    chart_id = chart_id_of("goals", title, named, list(sessions))
    frame = Frame(GOAL_MIN, GOAL_MAX, sessions_spanned(sessions, *[[s for s, _ in p] for _, p in named]))
    body = axes(frame, sessions, lambda v: f"{v:g}")
    legend: list[Entry] = []
    for i, (label, points) in enumerate(named):
        style = SERIES_STYLES[i % len(SERIES_STYLES)]
        body += draw_series(
            frame,
            points,
            style=style,
            css=f"sb-series sb-series-{i}",
            max_gap=len(sessions) + 1,  # a goal is rated at chosen sessions: join them all
            describe=_describe(label),
        )
        legend.append((line_swatch(*style), label))
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
        headers=["Session"] + [label for label, _ in named],
        rows=[
            [str(s)] + [str(d[s]) if s in d else "" for d in lookup]
            for s in sorted({s for d in lookup for s in d})
        ],
    )


def _describe(label: str) -> Callable[[int, float], str]:
    return lambda s, v: f"Session {s}, {label}: {v:g} out of 10"


def _summary(named: Sequence[tuple[str, list[tuple[int, int]]]]) -> str:
    rated = [(label, points) for label, points in named if points]
    if not rated:
        return f"{NO_SCORES}: no goal has been rated."
    parts = [
        f"{label} from {pts[0][1]} at session {pts[0][0]} to {pts[-1][1]} at session {pts[-1][0]} "
        f"({signed(pts[-1][1] - pts[0][1])})"
        if len(pts) > 1
        else f"{label} {pts[0][1]} at session {pts[0][0]}"
        for label, pts in rated
    ]
    return "Goal ratings out of 10: " + "; ".join(parts) + "."
