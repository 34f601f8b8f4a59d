"""The SVG primitives every chart draws with: escaped elements, numbers as people write them, point
symbols, lines and the hatch pattern. Greys only, no `style`: presentation attributes alone."""

from __future__ import annotations

import re
from collections.abc import Sequence

INK = "#000000"
DARK = "#404040"
MID = "#767676"
LIGHT = "#bdbdbd"
BAND = "#e3e3e3"
GRID = "#ececec"
WHITE = "#ffffff"

LEGEND_LABEL_CHARS = 52

# ---------------------------------------------------------------------------------------- text and numbers

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def esc(text: object) -> str:
    """Escaped for element content and double-quoted attributes alike; characters XML cannot carry at
    all (control characters) are dropped, so the SVG stays well-formed whatever a label holds."""
    cleaned = _NOT_XML.sub("", str(text))
    for raw, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#39;")):
        cleaned = cleaned.replace(raw, entity)
    return cleaned


def number(value: float) -> str:
    """A score as people write it: 12, 12.5, 3.25 (at most two decimals)."""
    return f"{round(value, 2):g}"


def percent(value: float) -> str:
    return f"{round(value, 1):g}%"


def signed(value: float) -> str:
    rounded = round(value, 1)
    return f"{rounded:+g}" if rounded else "0"


def shorten(text: str, limit: int = LEGEND_LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


# ---------------------------------------------------------------------------------------- elements


def _attr(value: object) -> str:
    # Coordinates get one decimal: short, and the same bytes for the same input.
    return f"{value:.1f}" if isinstance(value, float) else esc(value)


def el(tag: str, *children: str, text: object = None, **attrs: object) -> str:
    """One SVG element. Attribute names: `_` becomes `-`, a trailing `_` is dropped (`class_`);
    None values are left out. `text` is escaped; `children` are elements made here."""
    rendered = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{_attr(value)}"'
        for name, value in attrs.items()
        if value is not None
    )
    inner = ("" if text is None else esc(text)) + "".join(children)
    return f"<{tag}{rendered}>{inner}</{tag}>" if inner else f"<{tag}{rendered}/>"


def svg_title(text: str) -> str:
    """A `<title>` child: the tooltip of the element it sits in."""
    return el("title", text=text)


def path_data(points: Sequence[tuple[float, float]], *, close: bool = False) -> str:
    return "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in points) + ("Z" if close else "")


# ---------------------------------------------------------------------------------------- drawing


def symbol(shape: str, x: float, y: float, *, css: str | None = None, tooltip: str = "") -> str:
    """A point symbol centred on (x, y): filled shapes black, `_open` ones white with a black rim."""
    base = shape.removesuffix("_open")
    filled = base == shape and base != "cross"
    title = svg_title(tooltip) if tooltip else ""
    paint = {"fill": INK if filled else WHITE, "stroke": INK, "stroke_width": "1.5", "class_": css}
    s = 4.5
    if base == "circle":
        return el("circle", title, cx=x, cy=y, r=s * 0.85, **paint)
    if base == "square":
        return el("rect", title, x=x - s * 0.8, y=y - s * 0.8, width=s * 1.6, height=s * 1.6, **paint)
    outlines = {
        "triangle_up": [(x, y - s), (x + s, y + s * 0.8), (x - s, y + s * 0.8)],
        "triangle_down": [(x, y + s), (x + s, y - s * 0.8), (x - s, y - s * 0.8)],
        "diamond": [(x, y - s), (x + s, y), (x, y + s), (x - s, y)],
    }
    if base in outlines:
        return el("path", title, d=path_data(outlines[base], close=True), **paint)
    if base == "cross":
        d = path_data([(x - s, y - s), (x + s, y + s)]) + path_data([(x - s, y + s), (x + s, y - s)])
        return el("path", title, d=d, **{**paint, "fill": "none", "stroke_width": "2"})
    raise ValueError(f"unknown point shape {shape!r}")


def line_path(
    points: Sequence[tuple[float, float]],
    *,
    dash: str = "",
    stroke: str = INK,
    width: str = "2",
    css: str | None = None,
) -> str:
    return el(
        "path",
        d=path_data(points),
        fill="none",
        stroke=stroke,
        stroke_width=width,
        stroke_dasharray=dash or None,
        stroke_linejoin="round",
        class_=css,
    )


def hatch(pattern_id: str) -> str:
    return el(
        "pattern",
        el("line", x1="0", y1="0", x2="0", y2="6", stroke=MID, stroke_width="1.5"),
        id=pattern_id,
        width="6",
        height="6",
        patternUnits="userSpaceOnUse",
        patternTransform="rotate(45)",
    )
