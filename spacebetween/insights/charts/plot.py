"""What the session charts share: the public types, the plot's geometry, the checks on the input, the
axes, a series' line and points, the session events above the plot, and the finished `<svg>`.

Gaps: a line joins two scores at most `max_gap` sessions apart (default 2: one missing session is
bridged, as when a measure is taken every other session); a longer run of missing sessions leaves a
gap in the line. Every score is also drawn as a point, so a score between two gaps is still seen.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from spacebetween.insights.charts.svg import (
    DARK,
    GRID,
    INK,
    MID,
    WHITE,
    el,
    line_path,
    number,
    percent,
    symbol,
)

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


def session_x(session: float, sessions_shown: int) -> float:
    """Session k sits in the middle of the k-th of `sessions_shown` equal slots across the plot."""
    return PLOT_LEFT + (session - 0.5) / sessions_shown * PLOT_WIDTH


def value_y(value: float, low: float, high: float) -> float:
    return PLOT_BOTTOM - (value - low) / (high - low) * PLOT_HEIGHT


# ---------------------------------------------------------------------------------------- validation


def check_sessions(name: str, sessions: Iterable[int]) -> None:
    for s in sessions:
        if isinstance(s, bool) or not isinstance(s, int) or s < 1:
            raise ValueError(f"{name}: session numbers are whole numbers from 1, not {s!r}")


def check_value(name: str, value: float, low: float, high: float, session: int | None = None) -> None:
    where = f" at session {session}" if session is not None else ""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name}: the value{where} is not a number ({value!r})")
    if not low <= value <= high:
        raise ValueError(f"{name}: {number(value)}{where} is outside {number(low)}–{number(high)}")


def check_series(name: str, points: Sequence[tuple[int, float]], low: float, high: float) -> None:
    check_sessions(name, [s for s, _ in points])
    for s, v in points:
        check_value(name, v, low, high, s)
    if len({s for s, _ in points}) != len(points):
        raise ValueError(f"{name}: one value per session")


def check_markers(markers: Sequence[Marker]) -> None:
    for m in markers:
        if m.kind not in MARKER_KINDS:
            raise ValueError(f"marker kind {m.kind!r} is not one of {', '.join(MARKER_KINDS)}")
    check_sessions("markers", [m.session_number for m in markers])


# ---------------------------------------------------------------------------------------- the plot


@dataclass(frozen=True)
class Frame:
    """The plot's value range and how many session slots the x axis has."""

    low: float
    high: float
    sessions: int

    def point(self, session: float, value: float) -> tuple[float, float]:
        clamped = min(max(value, self.low), self.high)
        return session_x(session, self.sessions), value_y(clamped, self.low, self.high)


def sessions_spanned(*groups: Iterable[int]) -> int:
    """How many session slots the x axis needs: up to the last session any group names (at least 1)."""
    return max((s for g in groups for s in g), default=1)


def _runs(sessions: Sequence[int], max_gap: int) -> list[list[int]]:
    """Indices of the points one unbroken line joins: a new run where sessions are > `max_gap` apart."""
    runs: list[list[int]] = []
    for i, s in enumerate(sessions):
        if i == 0 or s - sessions[i - 1] > max_gap:
            runs.append([])
        runs[-1].append(i)
    return runs


def draw_series(
    frame: Frame,
    points: Sequence[tuple[int, float]],
    *,
    style: tuple[str, str],
    css: str,
    max_gap: int,
    describe: Callable[[int, float], str],
) -> list[str]:
    """A series' line (broken at gaps) and then its points, each with `describe(session, value)`."""
    dash, shape = style
    xy = [frame.point(s, v) for s, v in points]
    parts = [
        line_path([xy[i] for i in run], dash=dash, css=f"{css}-line")
        for run in _runs([s for s, _ in points], max_gap)
        if len(run) > 1
    ]
    parts += [
        symbol(shape, x, y, css=css, tooltip=describe(s, v))
        for (s, v), (x, y) in zip(points, xy, strict=True)
    ]
    return parts


def percent_tooltip(label: str) -> Callable[[int, float], str]:
    return lambda s, v: f"Session {s}, {label}: {percent(v)}"


def _nice_ticks(low: float, high: float, most: int = 7) -> list[float]:
    """Round tick values from low to high, at most `most` of them (steps of 1, 2, 2.5 or 5 × 10^k)."""
    raw = (high - low) / (most - 1)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step - 1e-9)
    return [round(k * step, 10) for k in range(first, math.floor(high / step + 1e-9) + 1)]


def axes(frame: Frame, attended: Iterable[int], fmt: Callable[[float], str]) -> list[str]:
    """Grid, value axis with round ticks, session axis with a tick under each attended session and
    the session numbers (every n-th when there are many)."""
    parts = []
    for tick in _nice_ticks(frame.low, frame.high):
        y = value_y(tick, frame.low, frame.high)
        parts += [
            el("line", x1=PLOT_LEFT, y1=y, x2=PLOT_RIGHT, y2=y, stroke=GRID, stroke_width="1"),
            el("line", x1=PLOT_LEFT - 4, y1=y, x2=PLOT_LEFT, y2=y, stroke=INK),
            el("text", text=fmt(tick), x=PLOT_LEFT - 7, y=y + 4, text_anchor="end"),
        ]
    parts += [
        el("line", x1=PLOT_LEFT, y1=PLOT_TOP, x2=PLOT_LEFT, y2=PLOT_BOTTOM, stroke=INK),
        el("line", x1=PLOT_LEFT, y1=PLOT_BOTTOM, x2=PLOT_RIGHT, y2=PLOT_BOTTOM, stroke=INK),
    ]
    for s in sorted(set(attended)):
        if s <= frame.sessions:
            x = session_x(s, frame.sessions)
            parts.append(
                el("line", x1=x, y1=PLOT_BOTTOM, x2=x, y2=PLOT_BOTTOM + 5, stroke=INK, class_="sb-session")
            )
    step = max(1, math.ceil(frame.sessions / 12))
    for s in range(1, frame.sessions + 1):
        if s == 1 or s % step == 0:
            parts.append(
                el("text", text=s, x=session_x(s, frame.sessions), y=PLOT_BOTTOM + 20, text_anchor="middle")
            )
    parts.append(
        el(
            "text",
            text="Session",
            x=(PLOT_LEFT + PLOT_RIGHT) / 2,
            y=PLOT_BOTTOM + 38,
            text_anchor="middle",
            fill=DARK,
        )
    )
    return parts


# ---------------------------------------------------------------------------------------- session events


def _in_order(markers: Sequence[Marker]) -> list[Marker]:
    return sorted(markers, key=lambda m: (m.session_number, m.kind, m.label))


def marker_symbols(markers: Sequence[Marker], sessions_shown: int) -> list[str]:
    """Session events: a dotted guide down through the plot and the kind's symbol in the strip above."""
    parts: list[str] = []
    at_session: dict[int, int] = {}
    for m in _in_order(markers):
        x = session_x(m.session_number, sessions_shown)
        nth = at_session.get(m.session_number, 0)
        at_session[m.session_number] = nth + 1
        if nth == 0:
            parts.append(
                el("line", x1=x, y1=MARKER_Y + 6, x2=x, y2=PLOT_BOTTOM, stroke=MID, stroke_dasharray="1 3")
            )
        parts.append(
            symbol(
                MARKER_KINDS[m.kind][0],
                x + nth * 11,
                MARKER_Y,
                css=f"sb-marker sb-marker-{m.kind}",
                tooltip=f"Session {m.session_number}: {m.label}",
            )
        )
    return parts


def events_by_session(markers: Sequence[Marker]) -> dict[int, str]:
    grouped: dict[int, list[str]] = {}
    for m in _in_order(markers):
        grouped.setdefault(m.session_number, []).append(m.label)
    return {s: "; ".join(labels) for s, labels in grouped.items()}


def marked(markers: Sequence[Marker]) -> str:
    """The events for a summary: "; marked: Repair at session 4, ..." (empty without events)."""
    return (
        "; marked: " + ", ".join(f"{m.label} at session {m.session_number}" for m in _in_order(markers))
        if markers
        else ""
    )


# ---------------------------------------------------------------------------------------- the chart


def chart_id_of(kind: str, *inputs: object) -> str:
    """Deterministic, and distinct for distinct charts: several charts share one HTML page."""
    return f"sb-{kind}-{hashlib.sha256(repr((kind, inputs)).encode()).hexdigest()[:10]}"


def no_data(
    message: str, x: float = (PLOT_LEFT + PLOT_RIGHT) / 2, y: float = (PLOT_TOP + PLOT_BOTTOM) / 2
) -> str:
    return el(
        "text", text=message, x=x, y=y, text_anchor="middle", font_size="15", fill=DARK, class_="sb-empty"
    )


def make_chart(
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
    """The complete `<svg>`, titled and described, with its text alternatives."""
    svg = el(
        "svg",
        el("title", text=title, id=f"{chart_id}-title"),
        el("desc", text=summary, id=f"{chart_id}-desc"),
        el("defs", *defs) if defs else "",
        el("rect", x="0", y="0", width=str(WIDTH), height="100%", fill=WHITE),
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
