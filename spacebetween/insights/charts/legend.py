"""The legend under a chart: one entry a line, each a swatch (a key drawn at the line's left) and a label."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from spacebetween.insights.charts.plot import LINE_HEIGHT, MARKER_KINDS, PLOT_LEFT, Marker
from spacebetween.insights.charts.svg import el, line_path, shorten, symbol

Swatch = Callable[[float, float], str]  # draws a legend key with its left end at x, centred on y
Entry = tuple[Swatch, str]


def line_swatch(dash: str, shape: str | None, width: str = "2") -> Swatch:
    def draw(x: float, y: float) -> str:
        key = line_path([(x, y), (x + 28, y)], dash=dash, width=width)
        return key + (symbol(shape, x + 14, y) if shape else "")

    return draw


def box_swatch(fill: str, stroke: str = "none") -> Swatch:
    return lambda x, y: el("rect", x=x, y=y - 6, width="28", height="12", fill=fill, stroke=stroke)


def symbol_swatch(shape: str) -> Swatch:
    return lambda x, y: symbol(shape, x + 14, y)


def no_swatch(x: float, y: float) -> str:
    return ""


def marker_entries(markers: Sequence[Marker]) -> list[Entry]:
    """One entry for each kind of session event the chart shows, in MARKER_KINDS' order."""
    kinds = [k for k in MARKER_KINDS if any(m.kind == k for m in markers)]
    return [(symbol_swatch(MARKER_KINDS[k][0]), MARKER_KINDS[k][1]) for k in kinds]


def draw_legend(entries: Sequence[Entry], top: float, left: float = PLOT_LEFT) -> tuple[list[str], float]:
    """One entry a line (long labels would not fit two columns on a phone); returns parts and bottom."""
    parts = []
    for i, (swatch, label) in enumerate(entries):
        y = top + i * LINE_HEIGHT + LINE_HEIGHT / 2
        parts.append(swatch(left, y))
        parts.append(el("text", text=shorten(label), x=left + 36, y=y + 5, class_="sb-legend"))
    return parts, top + len(entries) * LINE_HEIGHT
