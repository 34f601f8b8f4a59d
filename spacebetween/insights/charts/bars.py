"""The practice outcomes page: the practice's percentages (solid bars) beside a benchmark (hatched)."""

from __future__ import annotations

from collections.abc import Sequence

from spacebetween.insights.charts.legend import box_swatch, draw_legend
from spacebetween.insights.charts.plot import Chart, chart_id_of, check_value, make_chart, no_data
from spacebetween.insights.charts.svg import DARK, GRID, INK, el, hatch, percent, shorten, svg_title

BAR_LEFT = 12.0
BAR_RIGHT = 400.0
BAR_HEIGHT = 15.0
ROW_HEIGHT = 64.0
BAR_TOP = 8.0

Row = tuple[str, float | None, float | None]  # outcome, practice's percent, benchmark's percent


def bar_x(value: float) -> float:
    return BAR_LEFT + value / 100 * (BAR_RIGHT - BAR_LEFT)


def outcome_bars(
    *,
    title: str,
    rows: Sequence[Row],
    benchmark_label: str,
    practice_label: str = "This practice",
    missing_text: str = "no figure",
) -> Chart:
    """Percentages of the practice (solid bar) beside a benchmark (hatched bar), one row each.
    `missing_text` stands where the practice has no figure (e.g. "<5" for a suppressed cell)."""
    for label, value, bench in rows:
        for who, v in ((practice_label, value), (benchmark_label, bench)):
            if v is not None:
                check_value(f"{label} ({who})", v, 0, 100)
    chart_id = chart_id_of("bars", title, rows, benchmark_label, practice_label, missing_text)
    hatch_id = f"{chart_id}-hatch"
    plot_bottom = BAR_TOP + max(1, len(rows)) * ROW_HEIGHT
    body = _grid(plot_bottom)
    for i, (label, value, bench) in enumerate(rows):
        top = BAR_TOP + i * ROW_HEIGHT
        body.append(el("text", text=shorten(label), x=BAR_LEFT, y=top + 14, font_weight="bold"))
        bars = (
            (value, practice_label, DARK, "sb-bar-practice", missing_text),
            (bench, benchmark_label, f"url(#{hatch_id})", "sb-bar-benchmark", "no national figure"),
        )
        for j, (v, who, fill, css, empty) in enumerate(bars):
            body += _bar(top + 21 + j * (BAR_HEIGHT + 4), v, f"{label}, {who}", fill, css, empty)
    if not rows:
        body.append(no_data("No outcomes yet", (BAR_LEFT + BAR_RIGHT) / 2, BAR_TOP + 30))
    legend = [
        (box_swatch(DARK, INK), practice_label),
        (box_swatch(f"url(#{hatch_id})", INK), benchmark_label),
    ]
    legend_parts, bottom = draw_legend(legend, plot_bottom + 28, BAR_LEFT)
    return make_chart(
        chart_id,
        title=title,
        summary=_summary(rows, practice_label, benchmark_label, missing_text),
        height=bottom + 8,
        body=body + legend_parts,
        defs=[hatch(hatch_id)],
        headers=("Outcome", practice_label, benchmark_label),
        rows=[(label, _shown(v, missing_text), _shown(b, "—")) for label, v, b in rows],
    )


def _grid(plot_bottom: float) -> list[str]:
    """A vertical line at every quarter (the zero line black), its percent written below."""
    parts: list[str] = []
    for tick in (0, 25, 50, 75, 100):
        x = bar_x(tick)
        parts += [
            el("line", x1=x, y1=BAR_TOP, x2=x, y2=plot_bottom, stroke=GRID if tick else INK),
            el("text", text=f"{tick}%", x=x, y=plot_bottom + 16, text_anchor="middle"),
        ]
    return parts


def _bar(y: float, value: float | None, name: str, fill: str, css: str, empty: str) -> list[str]:
    """One bar with its percent written after it; `empty` in its place where there is no figure."""
    if value is None:
        return [el("text", text=empty, x=BAR_LEFT + 4, y=y + 12, fill=DARK, class_=f"{css}-missing")]
    return [
        el(
            "rect",
            svg_title(f"{name}: {percent(value)}"),
            x=BAR_LEFT,
            y=y,
            width=bar_x(value) - BAR_LEFT,
            height=BAR_HEIGHT,
            fill=fill,
            stroke=INK,
            class_=css,
        ),
        el("text", text=percent(value), x=bar_x(value) + 4, y=y + 12),
    ]


def _shown(value: float | None, missing: str) -> str:
    return percent(value) if value is not None else missing


def _summary(rows: Sequence[Row], practice_label: str, benchmark_label: str, missing_text: str) -> str:
    if not rows:
        return "No outcomes yet."
    return (
        "; ".join(
            f"{label}: {practice_label} {_shown(v, missing_text)}"
            + (f", {benchmark_label} {percent(b)}" if b is not None else "")
            for label, v, b in rows
        )
        + "."
    )
