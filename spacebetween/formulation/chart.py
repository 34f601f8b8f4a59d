"""The goals chart: each goal's 0-10 ratings over the sessions, drawn with the session charts' kit
(`insights.charts`: greys, a dash pattern and point shape per line, a title, a description and the data
as a table), so that it reads like the standard measures' charts shown beside it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from spacebetween.core.goals import GOAL_MAX, GOAL_MIN
from spacebetween.insights.charts import NO_SCORES, Chart
from spacebetween.insights.charts.plot import (
    Frame,
    axes,
    chart_id_of,
    check_series,
    check_sessions,
    sessions_spanned,
)
from spacebetween.insights.charts.process import lines_chart
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
    return lines_chart(
        chart_id,
        frame,
        body,
        named,
        title=title,
        summary=_summary(named),
        max_gap=len(sessions) + 1,  # a goal is rated at chosen sessions: join them all
        describe=_describe,
        cell=lambda v: f"{v:g}",
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
