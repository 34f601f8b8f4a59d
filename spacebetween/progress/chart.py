"""A small line chart of one questionnaire's scores for the client's own view: the scores in the order
they were given, on the questionnaire's whole range, drawn with the session charts' SVG primitives
(`insights.charts.svg`: escaped elements, greys, presentation attributes only, no script or style, as
the site's Content-Security-Policy asks). No bands, cut-offs or expected range: the client's view shows
their answers, not the practice's reading of them (docs/between-sessions.md, "The client's own view").
The table beside it on the page carries the same data with the dates."""

from __future__ import annotations

from collections.abc import Sequence

from spacebetween.insights.charts.svg import DARK, GRID, INK, WHITE, el, path_data, svg_title

WIDTH, HEIGHT = 320, 150
LEFT, RIGHT, TOP, BOTTOM = 44, 306, 12, 118


def score_chart(*, label: str, scores: Sequence[float], low: float, high: float, shown: Sequence[str]) -> str:
    """`scores` oldest first, each inside [low, high]; `shown` the same scores as the page writes them.
    Raises ValueError on an empty series, a score outside the range or lengths that differ."""
    if not scores or len(scores) != len(shown):
        raise ValueError("one shown score per score, at least one")
    if high <= low or any(not low <= s <= high for s in scores):
        raise ValueError(f"scores must lie in {low}-{high}")

    def x(i: int) -> float:
        return float(LEFT + (RIGHT - LEFT) * (i / (len(scores) - 1) if len(scores) > 1 else 0.5))

    def y(v: float) -> float:
        return float(BOTTOM - (BOTTOM - TOP) * (v - low) / (high - low))

    parts = []
    parts.append(el("line", x1=LEFT, y1=y((low + high) / 2), x2=RIGHT, y2=y((low + high) / 2), stroke=GRID))
    for tick in (low, high):  # the questionnaire's lowest and highest possible score
        parts += [
            el("line", x1=LEFT, y1=y(tick), x2=RIGHT, y2=y(tick), stroke=GRID),
            el("text", text=f"{tick:g}", x=LEFT - 6, y=y(tick) + 4, text_anchor="end"),
        ]
    parts.append(el("line", x1=LEFT, y1=BOTTOM, x2=RIGHT, y2=BOTTOM, stroke=INK))
    points = [(x(i), y(v)) for i, v in enumerate(scores)]
    if len(points) > 1:
        parts.append(el("path", d=path_data(points), fill="none", stroke=INK, stroke_width="2"))
    for n, ((px, py), text) in enumerate(zip(points, shown, strict=True), start=1):
        parts.append(el("circle", svg_title(f"Answer {n}: {text}"), cx=px, cy=py, r="4", fill=INK))
    parts.append(
        el(
            "text",
            text="Your answers, oldest to latest",
            x=(LEFT + RIGHT) / 2,
            y=HEIGHT - 8,
            text_anchor="middle",
            fill=DARK,
        )
    )
    title = f"{label}: your scores over time"
    desc = f"From {shown[0]} to {shown[-1]}" if len(shown) > 1 else f"One answer so far: {shown[0]}"
    return el(
        "svg",
        el("title", text=title),
        el("desc", text=f"{desc}, on a scale from {low:g} to {high:g}."),
        el("rect", x="0", y="0", width=str(WIDTH), height=str(HEIGHT), fill=WHITE),
        *parts,
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {WIDTH} {HEIGHT}",
        width="100%",
        role="img",
        aria_label=f"{title}. {desc}.",
        class_="sb-chart progress-chart",
        font_family="DejaVu Sans, Verdana, sans-serif",
        font_size="13",
        fill=INK,
    )
