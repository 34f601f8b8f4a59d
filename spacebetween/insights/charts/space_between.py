"""The space between: the client's and the therapist's view of the relationship, the gap between them,
ruptures and repairs above the plot and the therapist's check-ins below it."""

from __future__ import annotations

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
    PLOT_LEFT,
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
    percent_tooltip,
    session_x,
    sessions_spanned,
)
from spacebetween.insights.charts.svg import DARK, INK, LIGHT, WHITE, el, percent, plural, signed, svg_title

CHECKIN_SHADES = {1: "#f0f0f0", 2: "#d0d0d0", 3: "#a0a0a0", 4: "#606060", 5: "#202020"}

Points = Sequence[tuple[int, float]]
Checkin = tuple[int, str, int | None]  # session, feelings, intensity 1 to 5 (or none)


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


def space_between_chart(
    *,
    title: str,
    client: Points,
    therapist: Points,
    client_label: str,
    therapist_label: str,
    show_gap: bool,
    gap_note: str,
    markers: Sequence[Marker] = (),
    checkins: Sequence[Checkin] = (),
    max_gap: int = 2,
) -> Chart:
    """The client's and the therapist's view of the relationship (percent of each scale's range), the
    gap between them where both rated a session (only with `show_gap`), ruptures and repairs above the
    plot and the therapist's check-ins below it (intensity drawn, feelings in the tooltip and table)."""
    client, therapist = sorted(client), sorted(therapist)
    checkins = sorted(checkins, key=lambda c: c[0])
    _check(client, therapist, checkins, markers)

    inputs = (title, client, therapist, client_label, therapist_label, show_gap, gap_note, markers, checkins)
    chart_id = chart_id_of("space", *inputs, max_gap)
    rated = [s for s, _ in client] + [s for s, _ in therapist] + [c[0] for c in checkins]
    frame = Frame(0, 100, sessions_spanned(rated, [m.session_number for m in markers]))
    views = ((client_label, client, "sb-client"), (therapist_label, therapist, "sb-therapist"))
    ratings = _Ratings(dict(client), dict(therapist))

    body = axes(frame, rated, lambda v: f"{v:g}%")
    legend: list[Entry] = [
        (line_swatch(*SERIES_STYLES[i]), label) for i, (label, points, _) in enumerate(views) if points
    ]
    if show_gap and ratings.both:
        body += _gap_lines(frame, ratings)
        legend.append((box_swatch(LIGHT), "Gap between the two views"))
        if gap_note:
            legend.append((no_swatch, gap_note))
    for i, (label, points, css) in enumerate(views):
        body += draw_series(
            frame, points, style=SERIES_STYLES[i], css=css, max_gap=max_gap, describe=percent_tooltip(label)
        )
    if not client and not therapist:
        body.append(no_data(NO_SCORES))
    body += marker_symbols(markers, frame.sessions)
    legend += marker_entries(markers)
    top = LEGEND_TOP
    if checkins:
        body += _checkin_strip(checkins, frame.sessions, top)
        top += 48
    legend_parts, bottom = draw_legend(legend, top)

    columns = _columns(ratings, client_label, therapist_label, show_gap, markers, checkins)
    shown_sessions = sorted(
        set(ratings.client)
        | set(ratings.therapist)
        | set(events_by_session(markers))
        | {c[0] for c in checkins}
    )
    return make_chart(
        chart_id,
        title=title,
        summary=_summary(ratings, client_label, therapist_label, show_gap, markers),
        height=bottom + 8,
        body=body + legend_parts,
        headers=["Session"] + [name for name, _ in columns],
        rows=[[str(s)] + [cell(s) for _, cell in columns] for s in shown_sessions],
    )


def _check(client: Points, therapist: Points, checkins: Sequence[Checkin], markers: Sequence[Marker]) -> None:
    check_series("client", client, 0, 100)
    check_series("therapist", therapist, 0, 100)
    check_sessions("check-ins", [c[0] for c in checkins])
    for s, _, intensity in checkins:
        if intensity is not None and (isinstance(intensity, bool) or intensity not in range(1, 6)):
            raise ValueError(
                f"check-ins: the intensity at session {s} must be 1 to 5 or empty, not {intensity!r}"
            )
    check_markers(markers)


def _gap_lines(frame: Frame, ratings: _Ratings) -> list[str]:
    """A thick light bar from one view to the other at each session both rated."""
    parts = []
    for s in ratings.both:
        (x, y1), (_, y2) = frame.point(s, ratings.client[s]), frame.point(s, ratings.therapist[s])
        tip = svg_title(f"Session {s}: gap {ratings.gap(s)} points")
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


def _columns(
    ratings: _Ratings,
    client_label: str,
    therapist_label: str,
    show_gap: bool,
    markers: Sequence[Marker],
    checkins: Sequence[Checkin],
) -> list[tuple[str, Callable[[int], str]]]:
    """The table's columns after "Session": each a header and how to fill its cell for a session."""
    by_client, by_therapist = ratings.client, ratings.therapist
    events = events_by_session(markers)
    by_checkin = {s: _checkin_text(feelings, intensity) for s, feelings, intensity in checkins}
    columns: list[tuple[str, Callable[[int], str]]] = [
        (client_label, lambda s: percent(by_client[s]) if s in by_client else "")
    ]
    if by_therapist:
        columns.append((therapist_label, lambda s: percent(by_therapist[s]) if s in by_therapist else ""))
    if show_gap:
        columns.append(("Gap (points)", lambda s: ratings.gap(s) if s in ratings.both else ""))
    columns.append(("Events", lambda s: events.get(s, "")))
    if checkins:
        columns.append(("Check-in", lambda s: by_checkin.get(s, "")))
    return columns


def _summary(
    ratings: _Ratings, client_label: str, therapist_label: str, show_gap: bool, markers: Sequence[Marker]
) -> str:
    if not ratings.client and not ratings.therapist:
        return f"{NO_SCORES}: neither view of the relationship has been rated."
    described = [
        f"{label} at {plural(len(scores), 'session')}, last {percent(scores[max(scores)])} of the scale range"
        for label, scores in ((client_label, ratings.client), (therapist_label, ratings.therapist))
        if scores
    ]
    last = ratings.both[-1] if ratings.both else 0
    gap = f"; the gap at session {last} is {ratings.gap(last)} points" if show_gap and ratings.both else ""
    return "; ".join(described) + gap + marked(markers) + "."
