"""The space between: the client's and the therapist's view of the relationship, the gap between them,
ruptures and repairs above the plot and the therapist's check-ins below it.

One unit per axis: every view on the chart is in the same unit (`unit`, e.g. "WAI-SR points"), so a
gap is drawn only between two views on one shared, validated metric, and always signed client minus
therapist. Unlike measures (the client's WAI-SR and the therapist's 0–10 session rating) are never put
on one axis: the caller draws one chart per view, side by side, without a gap (docs/insights.md, "The
space between")."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from spacebetween.insights.charts.legend import (
    Entry,
    box_swatch,
    draw_legend,
    line_swatch,
    marker_entries,
    no_swatch,
)
from spacebetween.insights.charts.plot import (
    LEGEND_TOP,
    NO_SCORES,
    PLOT_BOTTOM,
    PLOT_LEFT,
    PLOT_TOP,
    SERIES_STYLES,
    Chart,
    Frame,
    Marker,
    axes,
    chart_id_of,
    check_markers,
    check_series,
    check_sessions,
    draw_series,
    events_by_session,
    make_chart,
    marked,
    marker_symbols,
    no_data,
    session_x,
    sessions_spanned,
)
from spacebetween.insights.charts.svg import DARK, INK, LIGHT, WHITE, el, number, plural, signed, svg_title

CHECKIN_SHADES = {1: "#f0f0f0", 2: "#d0d0d0", 3: "#a0a0a0", 4: "#606060", 5: "#202020"}

Points = Sequence[tuple[int, float]]
Checkin = tuple[int, str, int | None]  # session, feelings, intensity 1 to 5 (or none)
# The timeline under the check-ins (docs/insights.md, "Ruptures and themes"): session, the rupture in
# words ("" if none: e.g. "Possible rupture (detected); rupture note: withdrawal, repaired"), whether a
# rupture note is written, and the themes tagged, each in words. Never a note's text.
TimelineMark = tuple[int, str, bool, tuple[str, ...]]


@dataclass(frozen=True)
class _Ratings:
    """Both views of the relationship, each a score by session in session order."""

    client: dict[int, float]
    therapist: dict[int, float]
    both: list[int] = field(init=False)  # the sessions both rated

    def __post_init__(self) -> None:
        object.__setattr__(self, "both", sorted(set(self.client) & set(self.therapist)))

    def gap(self, session: int) -> str:
        return signed(self.client[session] - self.therapist[session])


def _describe(session: int, value: float, *, label: str, unit: str) -> str:
    return f"Session {session}, {label}: {number(value)} {unit}"


def space_between_chart(
    *,
    title: str,
    client: Points,
    therapist: Points,
    client_label: str,
    therapist_label: str,
    unit: str,
    scale_min: float,
    scale_max: float,
    gap_rule: str | None = None,
    markers: Sequence[Marker] = (),
    checkins: Sequence[Checkin] = (),
    timeline: Sequence[TimelineMark] = (),
    max_gap: int = 2,
) -> Chart:
    """Both views of the relationship in one unit (`unit`, on `scale_min`–`scale_max`), ruptures and
    repairs above the plot and the therapist's check-ins below it (intensity drawn, feelings in the
    tooltip and table). With `gap_rule` (the caller's statement of the rupture threshold, in `unit`:
    only for two views on one shared, validated metric) the gap client minus therapist is drawn where
    both rated a session; without it no gap is drawn or tabled. Either view may be empty, so a view on
    another metric gets a chart of its own. `timeline`: the ruptures (detected or marked) and the
    transference themes per session, drawn in a strip of their own and tabled."""
    client, therapist = sorted(client), sorted(therapist)
    checkins = sorted(checkins, key=lambda c: c[0])
    timeline = sorted(timeline, key=lambda t: t[0])
    _check(client, therapist, checkins, markers, scale_min, scale_max)
    check_sessions("timeline", [t[0] for t in timeline])

    inputs = (title, client, therapist, client_label, therapist_label, unit, scale_min, scale_max, gap_rule)
    chart_id = chart_id_of("space", *inputs, markers, checkins, timeline, max_gap)
    rated = [s for s, _ in client] + [s for s, _ in therapist] + [c[0] for c in checkins]
    rated += [t[0] for t in timeline]
    frame = Frame(scale_min, scale_max, sessions_spanned(rated, [m.session_number for m in markers]))
    views = ((client_label, client, "sb-client"), (therapist_label, therapist, "sb-therapist"))
    ratings = _Ratings(dict(client), dict(therapist))
    show_gap = gap_rule is not None

    body = axes(frame, rated, lambda v: f"{v:g}")
    body.append(_unit_label(unit))
    legend: list[Entry] = [
        (line_swatch(*SERIES_STYLES[i]), label) for i, (label, points, _) in enumerate(views) if points
    ]
    if show_gap and ratings.both:
        body += _gap_lines(frame, ratings, unit)
        legend.append((box_swatch(LIGHT), f"Gap: client minus therapist, in {unit}"))
        if gap_rule:
            legend.append((no_swatch, gap_rule))
    for i, (label, points, css) in enumerate(views):
        body += draw_series(
            frame,
            points,
            style=SERIES_STYLES[i],
            css=css,
            max_gap=max_gap,
            describe=functools.partial(_describe, label=label, unit=unit),
        )
    if not client and not therapist:
        body.append(no_data(NO_SCORES))
    body += marker_symbols(markers, frame.sessions)
    legend += marker_entries(markers)
    top = LEGEND_TOP
    if checkins:
        body += _checkin_strip(checkins, frame.sessions, top)
        top += 48
    if timeline:
        body += _timeline_strip(timeline, frame.sessions, top)
        top += 48
    legend_parts, bottom = draw_legend(legend, top)

    columns = _columns(ratings, client_label, therapist_label, unit, show_gap, markers, checkins)
    columns += _timeline_columns(timeline)
    shown_sessions = sorted(
        set(ratings.client)
        | set(ratings.therapist)
        | set(events_by_session(markers))
        | {c[0] for c in checkins}
        | {t[0] for t in timeline}
    )
    return make_chart(
        chart_id,
        title=title,
        summary=_summary(ratings, client_label, therapist_label, unit, show_gap, markers),
        height=bottom + 8,
        body=body + legend_parts,
        headers=["Session"] + [name for name, _ in columns],
        rows=[[str(s)] + [cell(s) for _, cell in columns] for s in shown_sessions],
    )


def _check(
    client: Points,
    therapist: Points,
    checkins: Sequence[Checkin],
    markers: Sequence[Marker],
    low: float,
    high: float,
) -> None:
    if not (math.isfinite(low) and math.isfinite(high) and high > low):
        raise ValueError(f"the scale must run from a lower to a higher number, not {low!r}–{high!r}")
    check_series("client", client, low, high)
    check_series("therapist", therapist, low, high)
    check_sessions("check-ins", [c[0] for c in checkins])
    for s, _, intensity in checkins:
        if intensity is not None and (isinstance(intensity, bool) or intensity not in range(1, 6)):
            raise ValueError(
                f"check-ins: the intensity at session {s} must be 1 to 5 or empty, not {intensity!r}"
            )
    check_markers(markers)


def _unit_label(unit: str) -> str:
    """The value axis's unit, written up its left side."""
    middle = (PLOT_TOP + PLOT_BOTTOM) / 2
    return el(
        "text",
        text=unit,
        x=12,
        y=middle,
        text_anchor="middle",
        transform=f"rotate(-90 12 {middle:g})",
        font_size="12",
        fill=DARK,
        class_="sb-unit",
    )


def _gap_lines(frame: Frame, ratings: _Ratings, unit: str) -> list[str]:
    """A thick light bar from one view to the other at each session both rated."""
    parts = []
    for s in ratings.both:
        (x, y1), (_, y2) = frame.point(s, ratings.client[s]), frame.point(s, ratings.therapist[s])
        tip = svg_title(f"Session {s}: gap (client minus therapist) {ratings.gap(s)} {unit}")
        parts.append(
            el("line", tip, x1=x, y1=y1, x2=x, y2=y2, stroke=LIGHT, stroke_width="7", class_="sb-gap")
        )
    return parts


def _checkin_text(feelings: str, intensity: int | None) -> str:
    return f"{feelings} (intensity {intensity} of 5)" if intensity is not None else feelings


def _checkin_strip(checkins: Sequence[Checkin], sessions_shown: int, top: float) -> list[str]:
    """A row of squares under the plot, darker for a stronger feeling, the intensity written inside."""
    parts = [el("text", text="Therapist check-ins (intensity 1–5)", x=PLOT_LEFT, y=top + 10, fill=DARK)]
    y = top + 20
    for s, feelings, intensity in checkins:
        x = session_x(s, sessions_shown)
        fill = CHECKIN_SHADES[intensity] if intensity is not None else WHITE
        tip = svg_title(f"Session {s}: {_checkin_text(feelings, intensity)}")
        parts += [
            el(
                "rect", tip, x=x - 8, y=y, width="16", height="16", fill=fill, stroke=INK, class_="sb-checkin"
            ),
            el(
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


def _timeline_strip(timeline: Sequence[TimelineMark], sessions_shown: int, top: float) -> list[str]:
    """Under the check-ins: a diamond at a rupture, filled where a rupture note is written and hollow
    where none is yet, and the number of themes tagged written beside "T" (shape and text, not colour
    alone); the words in each tooltip and in the table."""
    parts = [
        el(
            "text",
            text="Ruptures (◆ note written, ◇ none yet) and themes (T)",
            x=PLOT_LEFT,
            y=top + 10,
            fill=DARK,
        )
    ]
    y = top + 28
    for s, rupture, noted, themes in timeline:
        x = session_x(s, sessions_shown)
        if rupture:
            tip = svg_title(f"Session {s}: {rupture}")
            points = f"{x:g},{y - 8:g} {x + 7:g},{y:g} {x:g},{y + 8:g} {x - 7:g},{y:g}"
            fill = INK if noted else WHITE
            parts.append(el("polygon", tip, points=points, fill=fill, stroke=INK, class_="sb-rupture-note"))
        if themes:
            tip = svg_title(f"Session {s}: {'; '.join(themes)}")
            parts.append(
                el(
                    "text",
                    tip,
                    text=f"T{len(themes)}",
                    x=x,
                    y=y + 22,
                    text_anchor="middle",
                    font_size="10",
                    fill=INK,
                    class_="sb-theme",
                )
            )
    return parts


def _timeline_columns(timeline: Sequence[TimelineMark]) -> list[tuple[str, Callable[[int], str]]]:
    if not timeline:
        return []
    ruptures = {s: rupture for s, rupture, _, _ in timeline}
    themes = {s: "; ".join(labels) for s, _, _, labels in timeline}
    return [("Rupture", lambda s: ruptures.get(s, "")), ("Themes", lambda s: themes.get(s, ""))]


def _columns(
    ratings: _Ratings,
    client_label: str,
    therapist_label: str,
    unit: str,
    show_gap: bool,
    markers: Sequence[Marker],
    checkins: Sequence[Checkin],
) -> list[tuple[str, Callable[[int], str]]]:
    """The table's columns after "Session": each a header and how to fill its cell for a session."""
    by_client, by_therapist = ratings.client, ratings.therapist
    events = events_by_session(markers)
    by_checkin = {s: _checkin_text(feelings, intensity) for s, feelings, intensity in checkins}
    columns: list[tuple[str, Callable[[int], str]]] = [
        (f"{client_label} ({unit})", lambda s: number(by_client[s]) if s in by_client else "")
    ]
    if by_therapist:
        columns.append(
            (f"{therapist_label} ({unit})", lambda s: number(by_therapist[s]) if s in by_therapist else "")
        )
    if show_gap:
        columns.append(
            (f"Gap, client minus therapist ({unit})", lambda s: ratings.gap(s) if s in ratings.both else "")
        )
    columns.append(("Events", lambda s: events.get(s, "")))
    if checkins:
        columns.append(("Check-in", lambda s: by_checkin.get(s, "")))
    return columns


def _summary(
    ratings: _Ratings,
    client_label: str,
    therapist_label: str,
    unit: str,
    show_gap: bool,
    markers: Sequence[Marker],
) -> str:
    if not ratings.client and not ratings.therapist:
        return f"{NO_SCORES}: neither view of the relationship has been rated."
    described = [
        f"{label} at {plural(len(scores), 'session')}, last {number(scores[max(scores)])} {unit}"
        for label, scores in ((client_label, ratings.client), (therapist_label, ratings.therapist))
        if scores
    ]
    last = ratings.both[-1] if ratings.both else 0
    gap = (
        f"; the gap at session {last} (client minus therapist) is {ratings.gap(last)} {unit}"
        if show_gap and ratings.both
        else ""
    )
    return "; ".join(described) + gap + marked(markers) + "."
