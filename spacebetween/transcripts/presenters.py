"""What the pages show of a coded transcript: each code's words, the summary figures with what each
one is, and the small charts' geometry (SVG coordinates; the pages draw them, and a table beside each
chart gives the same numbers). No database, no request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spacebetween.core.transcripts.model import model_card

# The error rates the pages quote, from the model's card (core.transcripts.model.CARD_PATH): the
# cross-validated figures docs/transcripts.md reports, so that retraining changes one file, not prose.
_CARD = model_card()


def one_in(accuracy: float) -> int:
    """ "Wrong on about one turn in N": N for a cross-validated accuracy."""
    return round(1 / (1 - accuracy))


ESTIMATE = (
    f"A model's estimate, wrong on about one therapist turn in {one_in(_CARD['therapist']['accuracy'])} "
    f"and one client turn in {one_in(_CARD['client']['accuracy'])} (docs/transcripts.md). Use it to find "
    "passages to listen to, never on its own to judge a therapist's competence or to decide anything "
    "about a client."
)
# How far, on average, a session's "% open questions" by the model fell from the MI coders' (points)
OPEN_SHARE_ERROR = round(_CARD["session_shares"]["question"]["mean_absolute_difference"])
# How often one MI coder gave the same subtype of reflection as the others' majority, in ten
COMPLEX_AGREEMENT = round(10 * _CARD["annotators"]["reflection_subtype"]["accuracy"])

# The code's words on the page (colour is never the only sign: the label is always written).
CODE_LABELS = {
    "question": "Question",
    "open_question": "Open question",
    "closed_question": "Closed question",
    "reflection": "Reflection",
    "simple_reflection": "Simple reflection",
    "complex_reflection": "Complex reflection",
    "therapist_input": "Information or advice",
    "other": "Other",
    "change": "Change talk",
    "neutral": "Neutral",
    "sustain": "Sustain talk",
}


@dataclass(frozen=True)
class Figure:
    key: str
    name: str
    value: str  # as shown; "not given" when the model does not code it
    meaning: str


def _number(value: Any, suffix: str = "", digits: int = 2) -> str:
    if value is None:
        return "not given"
    return f"{value:.{digits}f}{suffix}" if isinstance(value, float) else f"{value}{suffix}"


def figures(summary: dict[str, Any]) -> list[Figure]:
    """The session's summary figures, each with what it is (MITI 4.2.1, Moyers et al. 2016)."""
    if not summary:
        return []
    return [
        Figure(
            "reflection_to_question",
            "Reflection-to-question ratio",
            _number(summary.get("reflection_to_question")),
            "Reflections per question the therapist asked. MITI 4.2.1 reads 1 as fair and 2 as good.",
        ),
        Figure(
            "percent_open_questions",
            "Open questions",
            _number(summary.get("percent_open_questions"), " %", 1),
            "Share of the questions coded open (MITI 4.2.1 sets no threshold for it). Rough: on AnnoMI "
            f"a session's share by the model was on average {OPEN_SHARE_ERROR} points from the MI "
            "coders' (docs/transcripts.md). Not given for a transcript coded before the model told "
            "open from closed.",
        ),
        Figure(
            "percent_complex_reflections",
            "Complex reflections",
            _number(summary.get("percent_complex_reflections"), " %", 1),
            "Share of the reflections coded complex, adding meaning to what the client said (MITI 4.2.1: "
            "40 % fair, 50 % good). Very rough: MI coders themselves agree on simple vs complex only about "
            f"{COMPLEX_AGREEMENT} times in ten, and the model no better (docs/transcripts.md). Not given "
            "for a transcript coded before the model told simple from complex.",
        ),
        Figure(
            "change_vs_sustain",
            "Change talk vs sustain talk",
            f"{summary.get('change_talk', 0)} : {summary.get('sustain_talk', 0)}"
            + (
                f" ({summary['percent_change_talk']:.0f} % change)"
                if summary.get("percent_change_talk") is not None
                else ""
            ),
            "The client's turns for change against those for staying the same; neutral turns aside.",
        ),
        Figure(
            "lsm",
            "Language style matching",
            _number(summary.get("lsm")),
            "How alike the two speakers use function words over the session (Ireland & Pennebaker "
            "2010; 0 to 1). About 0.8 in the demonstration sessions the model was built on; a "
            "description of how the two speak together, not a quality score.",
        ),
    ]


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    value: str


@dataclass(frozen=True)
class Chart:
    """A small line chart: points in a WIDTH x HEIGHT box, y from `low` (bottom) to `high` (top)."""

    title: str
    points: list[Point]
    path: str  # SVG path through the points with a value
    low: str
    high: str


WIDTH, HEIGHT, PAD = 300, 100, 12


def chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    low: float,
    high: float,
    *,
    at: Sequence[float] | None = None,
) -> Chart:
    """Points for `values` (None leaves a gap), evenly across the width, or at `at` (each from 0, the
    left edge, to 1, the right)."""
    n = len(values)
    at = at if at is not None else [i / (n - 1) if n > 1 else 0.5 for i in range(n)]
    points: list[Point] = []
    span = (high - low) or 1.0
    for label, value, where in zip(labels, values, at, strict=True):
        if value is None:
            continue
        x = PAD + (WIDTH - 2 * PAD) * where
        clamped = min(max(value, low), high)
        y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * (clamped - low) / span
        points.append(Point(round(x, 1), round(y, 1), label, f"{value:g}"))
    path = " ".join(f"{'M' if i == 0 else 'L'}{p.x},{p.y}" for i, p in enumerate(points))
    return Chart(title, points, path, f"{low:g}", f"{high:g}")


# (title, summary key, low, high) of each small chart on the episode's page.
EPISODE_SERIES = (
    ("Reflection-to-question ratio", "reflection_to_question", 0.0, 3.0),
    # complex reflections are not charted: AnnoMI's own annotators agree on simple vs complex little
    # better than chance (docs/transcripts.md), too weak a figure to follow across sessions
    ("Open questions, % of questions", "percent_open_questions", 0.0, 100.0),
    ("Change talk, % of change and sustain", "percent_change_talk", 0.0, 100.0),
    ("Language style matching", "lsm", 0.5, 1.0),
    ("Client's emotion words", "client_emotion_words", 0.0, None),
)


def _value(summary: dict[str, Any], key: str) -> float | None:
    if key == "client_emotion_words":
        return float(summary.get("emotion_words", {}).get("client", 0))
    value = summary.get(key)
    return float(value) if value is not None else None


def episode_charts(points: Sequence[Any]) -> list[Chart]:
    """One small chart per figure across the episode's coded sessions (`selectors.SessionPoint`), each
    placed by its session number from session 1 to the last coded one, so that it reads against the
    outcome and alliance charts, which count sessions the same way. A session without a number (not
    marked attended) is left off the charts; the table of coded sessions still lists it."""
    numbered = [p for p in points if p.number is not None]
    last = max([p.number for p in numbered], default=1)
    labels = [f"session {p.number}" for p in numbered]
    at = [(p.number - 1) / (last - 1) if last > 1 else 0.5 for p in numbered]
    charts = []
    for title, key, low, high in EPISODE_SERIES:
        values = [_value(p.summary, key) for p in numbered]
        top = high if high is not None else max([v for v in values if v is not None] + [1.0])
        charts.append(chart(title, labels, values, low, top, at=at))
    return charts
