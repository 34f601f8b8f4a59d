"""Server-side SVG charts for the client page, the PDF report and the practice outcomes page.

Issue #5: the charts need no JavaScript, read in greyscale and come with text alternatives. So:

* every chart is a complete `<svg role="img">` with `<title>` and `<desc>`, plus a one-sentence summary
  and its data as a table (`Chart.summary`, `Chart.table_headers`, `Chart.table_rows`);
* no `style` attributes, no `<style>` and no scripts (the site's CSP forbids inline styles): only SVG
  presentation attributes (fill, stroke, stroke-dasharray, font-size), every value escaped by `_el`;
* greys only; series differ by dash pattern and point shape, bands are a light grey fill or a hatch;
* a fixed viewBox and `width="100%"`, so the page scales it (a 375 px phone shows it at about 0.7);
* deterministic: the same input gives the same bytes (ids are a hash of the input).

Gaps: a line joins two scores at most `max_gap` sessions apart (default 2: one missing session is
bridged, as when a measure is taken every other session); a longer run of missing sessions leaves a
gap in the line. Every score is also drawn as a point, so a score between two gaps is still seen.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------- public types


@dataclass(frozen=True)
class Chart:
    svg: str  # complete <svg role="img" aria-labelledby="..."> with <title> and <desc>
    title: str
    summary: str  # one-sentence text alternative, plain words
    table_headers: tuple[str, ...]
    table_rows: tuple[tuple[str, ...], ...]  # the data as a table (text alternative)


@dataclass(frozen=True)
class Cutoff:
    value: float
    label: str


@dataclass(frozen=True)
class Marker:
    session_number: int
    label: str
    kind: str  # one of MARKER_KINDS


# Session events: the symbol and the legend's name of each kind. Shapes, not colours, tell them apart.
MARKER_KINDS: dict[str, tuple[str, str]] = {
    "sudden_gain": ("triangle_up_open", "Sudden gain"),
    "not_on_track": ("diamond", "Not on track"),
    "deterioration": ("triangle_down", "Reliable deterioration"),
    "rupture": ("cross", "Possible rupture"),
    "repair": ("circle_open", "Repair"),
}
# Line series in order: (dash pattern, point shape); the first (solid, filled circles) is the main one.
SERIES_STYLES: tuple[tuple[str, str], ...] = (
    ("", "circle"),
    ("7 4", "square_open"),
    ("2 3", "triangle_up"),
    ("9 3 2 3", "diamond_open"),
    ("4 2", "triangle_down_open"),
    ("1 4", "cross"),
)
NO_SCORES = "No scores yet"
# A score whose answers held a risk answer (PHQ-9 item 9 and the like): a ring around the point, named
# in its tooltip, the legend, the table and the summary, so it is never told by colour alone.
RISK_ANSWER = "Risk answer"
RISK_RING_RADIUS = 8.5

# ---------------------------------------------------------------------------------------- geometry

WIDTH = 480
PLOT_LEFT = 48.0
PLOT_RIGHT = 464.0
PLOT_TOP = 34.0  # above it, the strip where session events are drawn
PLOT_BOTTOM = 234.0
PLOT_WIDTH = PLOT_RIGHT - PLOT_LEFT
PLOT_HEIGHT = PLOT_BOTTOM - PLOT_TOP
MARKER_Y = 16.0
LEGEND_TOP = PLOT_BOTTOM + 50  # under the session numbers and the axis title
LINE_HEIGHT = 20
FONT_SIZE = 14  # about 11 px on a 375 px phone
LEGEND_LABEL_CHARS = 52

INK = "#000000"
DARK = "#404040"
MID = "#767676"
LIGHT = "#bdbdbd"
BAND = "#e3e3e3"
GRID = "#ececec"
WHITE = "#ffffff"


def session_x(session: float, sessions_shown: int) -> float:
    """Session k sits in the middle of the k-th of `sessions_shown` equal slots across the plot."""
    return PLOT_LEFT + (session - 0.5) / sessions_shown * PLOT_WIDTH


def value_y(value: float, low: float, high: float) -> float:
    return PLOT_BOTTOM - (value - low) / (high - low) * PLOT_HEIGHT


# ---------------------------------------------------------------------------------------- text and numbers

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _esc(text: object) -> str:
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


def _signed(value: float) -> str:
    rounded = round(value, 1)
    return f"{rounded:+g}" if rounded else "0"


def _short(text: str, limit: int = LEGEND_LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _attr(value: object) -> str:
    # Coordinates get one decimal: short, and the same bytes for the same input.
    return f"{value:.1f}" if isinstance(value, float) else _esc(value)


def _el(tag: str, *children: str, text: object = None, **attrs: object) -> str:
    """One SVG element. Attribute names: `_` becomes `-`, a trailing `_` is dropped (`class_`);
    None values are left out. `text` is escaped; `children` are elements made here."""
    rendered = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{_attr(value)}"'
        for name, value in attrs.items()
        if value is not None
    )
    inner = ("" if text is None else _esc(text)) + "".join(children)
    return f"<{tag}{rendered}>{inner}</{tag}>" if inner else f"<{tag}{rendered}/>"


def _tooltip(text: str) -> str:
    return _el("title", text=text)


def _path(points: Sequence[tuple[float, float]], *, close: bool = False) -> str:
    return "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in points) + ("Z" if close else "")


# ---------------------------------------------------------------------------------------- validation


def _check_sessions(name: str, sessions: Iterable[int]) -> None:
    for s in sessions:
        if isinstance(s, bool) or not isinstance(s, int) or s < 1:
            raise ValueError(f"{name}: session numbers are whole numbers from 1, not {s!r}")


def _check_value(name: str, value: float, low: float, high: float, session: int | None = None) -> None:
    where = f" at session {session}" if session is not None else ""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name}: the value{where} is not a number ({value!r})")
    if not low <= value <= high:
        raise ValueError(f"{name}: {number(value)}{where} is outside {number(low)}–{number(high)}")


def _check_series(name: str, points: Sequence[tuple[int, float]], low: float, high: float) -> None:
    _check_sessions(name, [s for s, _ in points])
    for s, v in points:
        _check_value(name, v, low, high, s)
    if len({s for s, _ in points}) != len(points):
        raise ValueError(f"{name}: one value per session")


def _check_markers(markers: Sequence[Marker]) -> None:
    for m in markers:
        if m.kind not in MARKER_KINDS:
            raise ValueError(f"marker kind {m.kind!r} is not one of {', '.join(MARKER_KINDS)}")
    _check_sessions("markers", [m.session_number for m in markers])


# ---------------------------------------------------------------------------------------- drawing


def _shape(shape: str, x: float, y: float, *, css: str | None = None, tooltip: str = "") -> str:
    """A point symbol centred on (x, y): filled shapes black, `_open` ones white with a black rim."""
    base = shape.removesuffix("_open")
    filled = base == shape and base != "cross"
    title = _tooltip(tooltip) if tooltip else ""
    paint = {"fill": INK if filled else WHITE, "stroke": INK, "stroke_width": "1.5", "class_": css}
    s = 4.5
    if base == "circle":
        return _el("circle", title, cx=x, cy=y, r=s * 0.85, **paint)
    if base == "square":
        return _el("rect", title, x=x - s * 0.8, y=y - s * 0.8, width=s * 1.6, height=s * 1.6, **paint)
    outlines = {
        "triangle_up": [(x, y - s), (x + s, y + s * 0.8), (x - s, y + s * 0.8)],
        "triangle_down": [(x, y + s), (x + s, y - s * 0.8), (x - s, y - s * 0.8)],
        "diamond": [(x, y - s), (x + s, y), (x, y + s), (x - s, y)],
    }
    if base in outlines:
        return _el("path", title, d=_path(outlines[base], close=True), **paint)
    if base == "cross":
        d = _path([(x - s, y - s), (x + s, y + s)]) + _path([(x - s, y + s), (x + s, y - s)])
        return _el("path", title, d=d, **{**paint, "fill": "none", "stroke_width": "2"})
    raise ValueError(f"unknown point shape {shape!r}")


def _risk_ring(x: float, y: float, tooltip: str = "") -> str:
    return _el(
        "circle",
        _tooltip(tooltip) if tooltip else "",
        cx=x,
        cy=y,
        r=RISK_RING_RADIUS,
        fill="none",
        stroke=INK,
        stroke_width="2.5",
        class_="sb-risk",
    )


def _line(
    points: Sequence[tuple[float, float]],
    *,
    dash: str = "",
    stroke: str = INK,
    width: str = "2",
    css: str | None = None,
) -> str:
    return _el(
        "path",
        d=_path(points),
        fill="none",
        stroke=stroke,
        stroke_width=width,
        stroke_dasharray=dash or None,
        stroke_linejoin="round",
        class_=css,
    )


def _runs(sessions: Sequence[int], max_gap: int) -> list[list[int]]:
    """Indices of the points one unbroken line joins: a new run where sessions are > `max_gap` apart."""
    runs: list[list[int]] = []
    for i, s in enumerate(sessions):
        if i == 0 or s - sessions[i - 1] > max_gap:
            runs.append([])
        runs[-1].append(i)
    return runs


@dataclass(frozen=True)
class _Frame:
    """The plot's value range and how many session slots the x axis has."""

    low: float
    high: float
    sessions: int

    def point(self, session: float, value: float) -> tuple[float, float]:
        clamped = min(max(value, self.low), self.high)
        return session_x(session, self.sessions), value_y(clamped, self.low, self.high)


def _series(
    frame: _Frame,
    points: Sequence[tuple[int, float]],
    *,
    style: tuple[str, str],
    css: str,
    max_gap: int,
    describe: Callable[[int, float], str],
) -> list[str]:
    dash, shape = style
    xy = [frame.point(s, v) for s, v in points]
    parts = [
        _line([xy[i] for i in run], dash=dash, css=f"{css}-line")
        for run in _runs([s for s, _ in points], max_gap)
        if len(run) > 1
    ]
    parts += [
        _shape(shape, x, y, css=css, tooltip=describe(s, v))
        for (s, v), (x, y) in zip(points, xy, strict=True)
    ]
    return parts


def _percent_tooltip(label: str) -> Callable[[int, float], str]:
    return lambda s, v: f"Session {s}, {label}: {percent(v)}"


def _nice_ticks(low: float, high: float, most: int = 7) -> list[float]:
    """Round tick values from low to high, at most `most` of them (steps of 1, 2, 2.5 or 5 × 10^k)."""
    raw = (high - low) / (most - 1)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step - 1e-9)
    return [round(k * step, 10) for k in range(first, math.floor(high / step + 1e-9) + 1)]


def _axes(frame: _Frame, attended: Iterable[int], fmt: Callable[[float], str]) -> list[str]:
    """Grid, value axis with round ticks, session axis with a tick under each attended session and
    the session numbers (every n-th when there are many)."""
    parts = []
    for tick in _nice_ticks(frame.low, frame.high):
        y = value_y(tick, frame.low, frame.high)
        parts += [
            _el("line", x1=PLOT_LEFT, y1=y, x2=PLOT_RIGHT, y2=y, stroke=GRID, stroke_width="1"),
            _el("line", x1=PLOT_LEFT - 4, y1=y, x2=PLOT_LEFT, y2=y, stroke=INK),
            _el("text", text=fmt(tick), x=PLOT_LEFT - 7, y=y + 4, text_anchor="end"),
        ]
    parts += [
        _el("line", x1=PLOT_LEFT, y1=PLOT_TOP, x2=PLOT_LEFT, y2=PLOT_BOTTOM, stroke=INK),
        _el("line", x1=PLOT_LEFT, y1=PLOT_BOTTOM, x2=PLOT_RIGHT, y2=PLOT_BOTTOM, stroke=INK),
    ]
    for s in sorted(set(attended)):
        if s <= frame.sessions:
            x = session_x(s, frame.sessions)
            parts.append(
                _el("line", x1=x, y1=PLOT_BOTTOM, x2=x, y2=PLOT_BOTTOM + 5, stroke=INK, class_="sb-session")
            )
    step = max(1, math.ceil(frame.sessions / 12))
    for s in range(1, frame.sessions + 1):
        if s == 1 or s % step == 0:
            parts.append(
                _el("text", text=s, x=session_x(s, frame.sessions), y=PLOT_BOTTOM + 20, text_anchor="middle")
            )
    parts.append(
        _el(
            "text",
            text="Session",
            x=(PLOT_LEFT + PLOT_RIGHT) / 2,
            y=PLOT_BOTTOM + 38,
            text_anchor="middle",
            fill=DARK,
        )
    )
    return parts


def _markers(markers: Sequence[Marker], sessions_shown: int) -> list[str]:
    """Session events: a dotted guide down through the plot and the kind's symbol in the strip above."""
    parts: list[str] = []
    at_session: dict[int, int] = {}
    for m in sorted(markers, key=lambda m: (m.session_number, m.kind, m.label)):
        x = session_x(m.session_number, sessions_shown)
        nth = at_session.get(m.session_number, 0)
        at_session[m.session_number] = nth + 1
        if nth == 0:
            parts.append(
                _el("line", x1=x, y1=MARKER_Y + 6, x2=x, y2=PLOT_BOTTOM, stroke=MID, stroke_dasharray="1 3")
            )
        parts.append(
            _shape(
                MARKER_KINDS[m.kind][0],
                x + nth * 11,
                MARKER_Y,
                css=f"sb-marker sb-marker-{m.kind}",
                tooltip=f"Session {m.session_number}: {m.label}",
            )
        )
    return parts


def _events_by_session(markers: Sequence[Marker]) -> dict[int, str]:
    grouped: dict[int, list[str]] = {}
    for m in sorted(markers, key=lambda m: (m.session_number, m.kind, m.label)):
        grouped.setdefault(m.session_number, []).append(m.label)
    return {s: "; ".join(labels) for s, labels in grouped.items()}


def _marked(markers: Sequence[Marker]) -> str:
    ordered = sorted(markers, key=lambda m: (m.session_number, m.kind, m.label))
    return (
        "; marked: " + ", ".join(f"{m.label} at session {m.session_number}" for m in ordered)
        if markers
        else ""
    )


Swatch = Callable[[float, float], str]  # draws a legend key with its left end at x, centred on y


def _line_swatch(dash: str, shape: str | None, width: str = "2") -> Swatch:
    def draw(x: float, y: float) -> str:
        key = _line([(x, y), (x + 28, y)], dash=dash, width=width)
        return key + (_shape(shape, x + 14, y) if shape else "")

    return draw


def _box_swatch(fill: str, stroke: str = "none") -> Swatch:
    return lambda x, y: _el("rect", x=x, y=y - 6, width="28", height="12", fill=fill, stroke=stroke)


def _symbol_swatch(shape: str) -> Swatch:
    return lambda x, y: _shape(shape, x + 14, y)


def _no_swatch(x: float, y: float) -> str:
    return ""


def _marker_legend(markers: Sequence[Marker]) -> list[tuple[Swatch, str]]:
    kinds = [k for k in MARKER_KINDS if any(m.kind == k for m in markers)]
    return [(_symbol_swatch(MARKER_KINDS[k][0]), MARKER_KINDS[k][1]) for k in kinds]


def _legend(
    entries: Sequence[tuple[Swatch, str]], top: float, left: float = PLOT_LEFT
) -> tuple[list[str], float]:
    """One entry a line (long labels would not fit two columns on a phone); returns parts and bottom."""
    parts = []
    for i, (swatch, label) in enumerate(entries):
        y = top + i * LINE_HEIGHT + LINE_HEIGHT / 2
        parts.append(swatch(left, y))
        parts.append(_el("text", text=_short(label), x=left + 36, y=y + 5, class_="sb-legend"))
    return parts, top + len(entries) * LINE_HEIGHT


def _hatch(pattern_id: str) -> str:
    return _el(
        "pattern",
        _el("line", x1="0", y1="0", x2="0", y2="6", stroke=MID, stroke_width="1.5"),
        id=pattern_id,
        width="6",
        height="6",
        patternUnits="userSpaceOnUse",
        patternTransform="rotate(45)",
    )


def _chart_id(kind: str, *inputs: object) -> str:
    """Deterministic, and distinct for distinct charts: several charts share one HTML page."""
    return f"sb-{kind}-{hashlib.sha256(repr((kind, inputs)).encode()).hexdigest()[:10]}"


def _no_data(
    message: str, x: float = (PLOT_LEFT + PLOT_RIGHT) / 2, y: float = (PLOT_TOP + PLOT_BOTTOM) / 2
) -> str:
    return _el(
        "text", text=message, x=x, y=y, text_anchor="middle", font_size="15", fill=DARK, class_="sb-empty"
    )


def _chart(
    chart_id: str,
    *,
    title: str,
    summary: str,
    height: float,
    body: Sequence[str],
    defs: Sequence[str] = (),
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
) -> Chart:
    svg = _el(
        "svg",
        _el("title", text=title, id=f"{chart_id}-title"),
        _el("desc", text=summary, id=f"{chart_id}-desc"),
        _el("defs", *defs) if defs else "",
        _el("rect", x="0", y="0", width=str(WIDTH), height="100%", fill=WHITE),
        *body,
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {WIDTH} {math.ceil(height)}",
        width="100%",
        role="img",
        aria_labelledby=f"{chart_id}-title",
        aria_describedby=f"{chart_id}-desc",
        class_="sb-chart",
        font_family="DejaVu Sans, Verdana, sans-serif",
        font_size=str(FONT_SIZE),
        fill=INK,
    )
    return Chart(
        svg=svg,
        title=title,
        summary=summary,
        table_headers=tuple(headers),
        table_rows=tuple(tuple(r) for r in rows),
    )


def _sessions_shown(*groups: Iterable[int]) -> int:
    return max((s for g in groups for s in g), default=1)


# ---------------------------------------------------------------------------------------- trajectory


def trajectory_chart(
    *,
    title: str,
    scale_min: float,
    scale_max: float,
    higher_is_better: bool,
    scores: Sequence[tuple[int, float]],
    expected: Sequence[tuple[int, float, float, float]] = (),
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
    if not (math.isfinite(scale_min) and math.isfinite(scale_max) and scale_max > scale_min):
        raise ValueError(f"the scale must run from a lower to a higher number, not {scale_min}–{scale_max}")
    scores, expected = sorted(scores), sorted(expected)
    _check_series("scores", scores, scale_min, scale_max)
    _check_sessions("expected", [e[0] for e in expected])
    for s, mean, low, high in expected:
        for value in (mean, low, high):
            _check_value("expected", value, -math.inf, math.inf, s)
        if not low <= mean <= high:
            raise ValueError(
                f"expected: at session {s} the band {number(low)}–{number(high)} excludes {number(mean)}"
            )
    for cut in cutoffs:
        _check_value(f"cut-off {cut.label!r}", cut.value, scale_min, scale_max)
    _check_sessions("sessions", sessions)
    _check_markers(markers)
    risk = sorted(set(risk_sessions))
    _check_sessions("risk_sessions", risk)
    unscored = [s for s in risk if s not in dict(scores)]
    if unscored:
        raise ValueError(f"risk_sessions: no score at session {unscored[0]} to mark")

    inputs = (title, scale_min, scale_max, higher_is_better, scores, expected, reliable_change, cutoffs)
    chart_id = _chart_id("trajectory", *inputs, sessions, markers, band_note, max_gap, risk)
    hatch_id = f"{chart_id}-hatch"
    frame = _Frame(
        scale_min,
        scale_max,
        _sessions_shown(
            [s for s, _ in scores], [e[0] for e in expected], sessions, [m.session_number for m in markers]
        ),
    )
    body: list[str] = []
    legend: list[tuple[Swatch, str]] = []
    if scores:
        legend.append((_line_swatch(*SERIES_STYLES[0]), f"Score ({title})"))
    if expected:
        band = [frame.point(s, high) for s, _, _, high in expected] + [
            frame.point(s, low) for s, _, low, _ in reversed(expected)
        ]
        body.append(_el("path", d=_path(band, close=True), fill=BAND, class_="sb-expected-band"))
        legend.append((_box_swatch(BAND), "Expected range" + (f" ({band_note})" if band_note else "")))
    if reliable_change is not None:
        zone_low, zone_high = sorted(reliable_change)
        (_, top), (_, bottom) = frame.point(1, zone_high), frame.point(1, zone_low)
        body.append(
            _el(
                "rect",
                x=PLOT_LEFT,
                y=top,
                width=PLOT_WIDTH,
                height=bottom - top,
                fill=f"url(#{hatch_id})",
                class_="sb-reliable-zone",
            )
        )
        legend.append(
            (
                _box_swatch(f"url(#{hatch_id})", MID),
                f"No reliable change: {number(zone_low)}–{number(zone_high)}, around the intake score",
            )
        )
    body += _axes(frame, sessions, number)
    for cut in sorted(cutoffs, key=lambda c: c.value):
        y = value_y(cut.value, scale_min, scale_max)
        body += [
            _el(
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
            _el(
                "text",
                text=_short(f"{cut.label} ({number(cut.value)})", 48),
                x=PLOT_RIGHT - 3,
                y=y - 4,
                text_anchor="end",
                fill=DARK,
                class_="sb-cutoff-label",
            ),
        ]
    if cutoffs:
        legend.append((_line_swatch("2 2", None, "1.5"), "Cut-off (named on the line)"))
    if expected:
        body.append(
            _line(
                [frame.point(s, m) for s, m, _, _ in expected],
                dash="7 4",
                stroke=DARK,
                width="1.5",
                css="sb-expected",
            )
        )
        legend.append((_line_swatch("7 4", None, "1.5"), "Expected course"))
    body += _series(
        frame,
        scores,
        style=SERIES_STYLES[0],
        css="sb-score",
        max_gap=max_gap,
        describe=lambda s, v: f"Session {s}: {number(v)}" + ("; risk answer" if s in risk else ""),
    )
    by_score = dict(scores)
    body += [
        _risk_ring(*frame.point(s, by_score[s]), tooltip=f"Session {s}: {RISK_ANSWER.lower()}") for s in risk
    ]
    if not scores:
        body.append(_no_data(NO_SCORES))
    body += _markers(markers, frame.sessions)
    legend += _marker_legend(markers)
    if risk:
        legend.append((lambda x, y: _risk_ring(x + 14, y), f"{RISK_ANSWER} (ringed score)"))
    legend.append((_no_swatch, "Higher scores are better" if higher_is_better else "Lower scores are better"))
    legend_parts, bottom = _legend(legend, LEGEND_TOP)

    by_expected = {s: (m, low, high) for s, m, low, high in expected}
    events = _events_by_session(markers)
    for s in risk:
        events[s] = "; ".join(e for e in (RISK_ANSWER, events.get(s, "")) if e)
    rows = [
        (
            str(s),
            number(by_score[s]) if s in by_score else "",
            number(by_expected[s][0]) if s in by_expected else "",
            f"{number(by_expected[s][1])}–{number(by_expected[s][2])}" if s in by_expected else "",
            events.get(s, ""),
        )
        for s in sorted(set(by_score) | set(by_expected) | set(events))
    ]
    if scores:
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
        summary = (
            f"{title}: {_plural(len(scores), 'score')}, {course} ({better} is better){_marked(markers)}"
            f"{risky}."
        )
    else:
        summary = f"{NO_SCORES} on the {title}."
    return _chart(
        chart_id,
        title=title,
        summary=summary,
        height=bottom + 8,
        body=body + legend_parts,
        defs=[_hatch(hatch_id)] if reliable_change is not None else [],
        headers=("Session", "Score", "Expected", "Expected range", "Events"),
        rows=rows,
    )


# ---------------------------------------------------------------------------------------- the space between

CHECKIN_SHADES = {1: "#f0f0f0", 2: "#d0d0d0", 3: "#a0a0a0", 4: "#606060", 5: "#202020"}


def _checkin_text(feelings: str, intensity: int | None) -> str:
    return f"{feelings} (intensity {intensity} of 5)" if intensity is not None else feelings


def _checkin_strip(
    checkins: Sequence[tuple[int, str, int | None]], sessions_shown: int, top: float
) -> list[str]:
    """A row of squares under the plot, darker for a stronger feeling, the intensity written inside."""
    parts = [_el("text", text="Therapist check-ins (intensity 1–5)", x=PLOT_LEFT, y=top + 10, fill=DARK)]
    y = top + 20
    for s, feelings, intensity in checkins:
        x = session_x(s, sessions_shown)
        fill = CHECKIN_SHADES[intensity] if intensity is not None else WHITE
        tip = _tooltip(f"Session {s}: {_checkin_text(feelings, intensity)}")
        parts += [
            _el(
                "rect", tip, x=x - 8, y=y, width="16", height="16", fill=fill, stroke=INK, class_="sb-checkin"
            ),
            _el(
                "text",
                text="–" if intensity is None else intensity,
                x=x,
                y=y + 12,
                text_anchor="middle",
                font_size="10",
                fill=WHITE if intensity is not None and intensity >= 4 else INK,
            ),
        ]
    return parts


def space_between_chart(
    *,
    title: str,
    client: Sequence[tuple[int, float]],
    therapist: Sequence[tuple[int, float]],
    client_label: str,
    therapist_label: str,
    show_gap: bool,
    gap_note: str,
    markers: Sequence[Marker] = (),
    checkins: Sequence[tuple[int, str, int | None]] = (),
    max_gap: int = 2,
) -> Chart:
    """The client's and the therapist's view of the relationship (percent of each scale's range), the
    gap between them where both rated a session (only with `show_gap`), ruptures and repairs above the
    plot and the therapist's check-ins below it (intensity drawn, feelings in the tooltip and table)."""
    client, therapist = sorted(client), sorted(therapist)
    checkins = sorted(checkins, key=lambda c: c[0])
    _check_series("client", client, 0, 100)
    _check_series("therapist", therapist, 0, 100)
    _check_sessions("check-ins", [c[0] for c in checkins])
    for s, _, intensity in checkins:
        if intensity is not None and (isinstance(intensity, bool) or intensity not in range(1, 6)):
            raise ValueError(
                f"check-ins: the intensity at session {s} must be 1 to 5 or empty, not {intensity!r}"
            )
    _check_markers(markers)

    inputs = (title, client, therapist, client_label, therapist_label, show_gap, gap_note, markers, checkins)
    chart_id = _chart_id("space", *inputs, max_gap)
    rated = [s for s, _ in client] + [s for s, _ in therapist] + [c[0] for c in checkins]
    frame = _Frame(0, 100, _sessions_shown(rated, [m.session_number for m in markers]))
    body = _axes(frame, rated, lambda v: f"{v:g}%")
    legend: list[tuple[Swatch, str]] = []
    by_client, by_therapist = dict(client), dict(therapist)
    both = sorted(set(by_client) & set(by_therapist))
    views = ((client_label, client, "sb-client"), (therapist_label, therapist, "sb-therapist"))
    legend += [
        (_line_swatch(*SERIES_STYLES[i]), label) for i, (label, points, _) in enumerate(views) if points
    ]
    if show_gap and both:
        for s in both:
            (x, y1), (_, y2) = frame.point(s, by_client[s]), frame.point(s, by_therapist[s])
            tip = _tooltip(f"Session {s}: gap {_signed(by_client[s] - by_therapist[s])} points")
            body.append(
                _el("line", tip, x1=x, y1=y1, x2=x, y2=y2, stroke=LIGHT, stroke_width="7", class_="sb-gap")
            )
        legend.append((_box_swatch(LIGHT), "Gap between the two views"))
        if gap_note:
            legend.append((_no_swatch, gap_note))
    for i, (label, points, css) in enumerate(views):
        body += _series(
            frame,
            points,
            style=SERIES_STYLES[i],
            css=css,
            max_gap=max_gap,
            describe=_percent_tooltip(label),
        )
    if not client and not therapist:
        body.append(_no_data(NO_SCORES))
    body += _markers(markers, frame.sessions)
    legend += _marker_legend(markers)
    top = LEGEND_TOP
    if checkins:
        body += _checkin_strip(checkins, frame.sessions, top)
        top += 48
    legend_parts, bottom = _legend(legend, top)

    events = _events_by_session(markers)
    by_checkin = {s: _checkin_text(feelings, intensity) for s, feelings, intensity in checkins}
    columns: list[tuple[str, Callable[[int], str]]] = [
        (client_label, lambda s: percent(by_client[s]) if s in by_client else "")
    ]
    if therapist:
        columns.append((therapist_label, lambda s: percent(by_therapist[s]) if s in by_therapist else ""))
    if show_gap:
        columns.append(
            ("Gap (points)", lambda s: _signed(by_client[s] - by_therapist[s]) if s in both else "")
        )
    columns.append(("Events", lambda s: events.get(s, "")))
    if checkins:
        columns.append(("Check-in", lambda s: by_checkin.get(s, "")))
    shown_sessions = sorted(set(by_client) | set(by_therapist) | set(events) | set(by_checkin))

    if client or therapist:
        described = [
            f"{label} at {_plural(len(points), 'session')}, last {percent(points[-1][1])} of the scale range"
            for label, points in ((client_label, client), (therapist_label, therapist))
            if points
        ]
        last = both[-1] if both else 0
        gap = (
            f"; the gap at session {last} is {_signed(by_client[last] - by_therapist[last])} points"
            if show_gap and both
            else ""
        )
        summary = "; ".join(described) + gap + _marked(markers) + "."
    else:
        summary = f"{NO_SCORES}: neither view of the relationship has been rated."
    return _chart(
        chart_id,
        title=title,
        summary=summary,
        height=bottom + 8,
        body=body + legend_parts,
        headers=["Session"] + [name for name, _ in columns],
        rows=[[str(s)] + [cell(s) for _, cell in columns] for s in shown_sessions],
    )


# ---------------------------------------------------------------------------------------- process measures


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
        _check_series(name, points, 0, 100)
    _check_sessions("sessions", sessions)
    chart_id = _chart_id("process", title, named, sessions, max_gap)
    frame = _Frame(0, 100, _sessions_shown(sessions, *[[s for s, _ in points] for _, points in named]))
    body = _axes(frame, sessions, lambda v: f"{v:g}%")
    legend: list[tuple[Swatch, str]] = []
    for i, (name, points) in enumerate(named):
        style = SERIES_STYLES[i % len(SERIES_STYLES)]
        body += _series(
            frame,
            points,
            style=style,
            css=f"sb-series sb-series-{i}",
            max_gap=max_gap,
            describe=_percent_tooltip(name),
        )
        legend.append((_line_swatch(*style), name))
    with_scores = [(name, points) for name, points in named if points]
    if not with_scores:
        body.append(_no_data(NO_SCORES))
    legend_parts, bottom = _legend(legend, LEGEND_TOP)

    lookup = [dict(points) for _, points in named]
    if with_scores:
        latest = ", ".join(
            f"{name} {percent(pts[-1][1])} at session {pts[-1][0]}" for name, pts in with_scores
        )
        summary = (
            f"{_plural(len(with_scores), 'measure')} in percent of their scale's range, latest: {latest}."
        )
    else:
        summary = f"{NO_SCORES} on these measures."
    return _chart(
        chart_id,
        title=title,
        summary=summary,
        height=bottom + 8,
        body=body + legend_parts,
        headers=["Session"] + [name for name, _ in named],
        rows=[
            [str(s)] + [percent(d[s]) if s in d else "" for d in lookup]
            for s in sorted({s for d in lookup for s in d})
        ],
    )


# ---------------------------------------------------------------------------------------- outcome bars

BAR_LEFT = 12.0
BAR_RIGHT = 400.0
BAR_HEIGHT = 15.0
ROW_HEIGHT = 64.0


def bar_x(value: float) -> float:
    return BAR_LEFT + value / 100 * (BAR_RIGHT - BAR_LEFT)


def outcome_bars(
    *,
    title: str,
    rows: Sequence[tuple[str, float | None, float | None]],
    benchmark_label: str,
    practice_label: str = "This practice",
    missing_text: str = "no figure",
) -> Chart:
    """Percentages of the practice (solid bar) beside a benchmark (hatched bar), one row each.
    `missing_text` stands where the practice has no figure (e.g. "<5" for a suppressed cell)."""
    for label, value, bench in rows:
        for who, v in ((practice_label, value), (benchmark_label, bench)):
            if v is not None:
                _check_value(f"{label} ({who})", v, 0, 100)
    chart_id = _chart_id("bars", title, rows, benchmark_label, practice_label, missing_text)
    hatch_id = f"{chart_id}-hatch"
    plot_top = 8.0
    plot_bottom = plot_top + max(1, len(rows)) * ROW_HEIGHT
    body: list[str] = []
    for tick in (0, 25, 50, 75, 100):
        x = bar_x(tick)
        body += [
            _el("line", x1=x, y1=plot_top, x2=x, y2=plot_bottom, stroke=GRID if tick else INK),
            _el("text", text=f"{tick}%", x=x, y=plot_bottom + 16, text_anchor="middle"),
        ]
    for i, (label, value, bench) in enumerate(rows):
        top = plot_top + i * ROW_HEIGHT
        body.append(_el("text", text=_short(label), x=BAR_LEFT, y=top + 14, font_weight="bold"))
        bars = (
            (value, practice_label, DARK, "sb-bar-practice", missing_text),
            (bench, benchmark_label, f"url(#{hatch_id})", "sb-bar-benchmark", "no national figure"),
        )
        for j, (v, who, fill, css, empty) in enumerate(bars):
            y = top + 21 + j * (BAR_HEIGHT + 4)
            if v is None:
                body.append(
                    _el("text", text=empty, x=BAR_LEFT + 4, y=y + 12, fill=DARK, class_=f"{css}-missing")
                )
                continue
            tip = _tooltip(f"{label}, {who}: {percent(v)}")
            body += [
                _el(
                    "rect",
                    tip,
                    x=BAR_LEFT,
                    y=y,
                    width=bar_x(v) - BAR_LEFT,
                    height=BAR_HEIGHT,
                    fill=fill,
                    stroke=INK,
                    class_=css,
                ),
                _el("text", text=percent(v), x=bar_x(v) + 4, y=y + 12),
            ]
    if not rows:
        body.append(_no_data("No outcomes yet", (BAR_LEFT + BAR_RIGHT) / 2, plot_top + 30))
    legend = [
        (_box_swatch(DARK, INK), practice_label),
        (_box_swatch(f"url(#{hatch_id})", INK), benchmark_label),
    ]
    legend_parts, bottom = _legend(legend, plot_bottom + 28, BAR_LEFT)

    def shown(v: float | None, missing: str) -> str:
        return percent(v) if v is not None else missing

    if rows:
        summary = (
            "; ".join(
                f"{label}: {practice_label} {shown(v, missing_text)}"
                + (f", {benchmark_label} {percent(b)}" if b is not None else "")
                for label, v, b in rows
            )
            + "."
        )
    else:
        summary = "No outcomes yet."
    return _chart(
        chart_id,
        title=title,
        summary=summary,
        height=bottom + 8,
        body=body + legend_parts,
        defs=[_hatch(hatch_id)],
        headers=("Outcome", practice_label, benchmark_label),
        rows=[(label, shown(v, missing_text), shown(b, "—")) for label, v, b in rows],
    )
