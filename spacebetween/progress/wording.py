"""What the client reads about each questionnaire on their progress page: a plain name, the short name
they know it by, which of its scores is shown, and what a higher or lower score means. The project's
own words, for a reading age of about twelve (docs/between-sessions.md, "The client's own view").

Deliberately absent: band names, cut-offs, diagnostic words and change statistics (the therapist's
tools; the instrument definitions keep them). A questionnaire not listed here is not shown: the
relationship questionnaire (WAI-SR), because its answers are the therapist's check on the work
together and are talked through in session, and the RFQ-8, whose two scores cannot be read in one
plain sentence without a clinician's interpretation (Fonagy et al. 2016).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlainMeasure:
    name: str  # "Your mood questionnaire"
    short: str  # "PHQ-9", the name on the questionnaire the client answered
    scale: str  # which of the instrument's scales is shown (its total)
    meaning: str  # one sentence: which way the score goes
    decimals: int = 0  # a mean score (MAAS, SCS-SF, ...) is shown to one decimal


LOWER_FEWER = "lower scores mean fewer difficulties"

PLAIN: dict[str, PlainMeasure] = {
    "phq9": PlainMeasure("Your mood questionnaire", "PHQ-9", "total", f"{LOWER_FEWER} with mood"),
    "gad7": PlainMeasure(
        "Your worry questionnaire", "GAD-7", "total", "lower scores mean less worry and tension"
    ),
    "core10": PlainMeasure("Your how-you-are-doing questionnaire", "CORE-10", "total", LOWER_FEWER),
    "k10": PlainMeasure("Your how-you-have-been-feeling questionnaire", "K10", "total", LOWER_FEWER),
    "who5": PlainMeasure(
        "Your well-being questionnaire",
        "WHO-5",
        "percentage",
        "higher scores mean feeling better (out of 100)",
    ),
    "pss10": PlainMeasure(
        "Your stress questionnaire", "PSS-10", "total", "lower scores mean feeling less stressed"
    ),
    "maas": PlainMeasure(
        "Your attention questionnaire",
        "MAAS",
        "total",
        "higher scores mean being present and aware more often",
        decimals=1,
    ),
    "ffmq15": PlainMeasure(
        "Your mindfulness questionnaire", "FFMQ-15", "total", "higher scores mean being more mindful"
    ),
    "scs-sf": PlainMeasure(
        "Your self-compassion questionnaire",
        "SCS-SF",
        "total",
        "higher scores mean being kinder to yourself",
        decimals=1,
    ),
    "ders16": PlainMeasure(
        "Your feelings questionnaire", "DERS-16", "total", f"{LOWER_FEWER} with handling feelings"
    ),
    "brs": PlainMeasure(
        "Your bouncing-back questionnaire",
        "BRS",
        "total",
        "higher scores mean recovering from hard times more easily",
        decimals=1,
    ),
    "aaq2": PlainMeasure(
        "Your living-with-hard-thoughts questionnaire",
        "AAQ-II",
        "total",
        "lower scores mean hard thoughts and feelings get in the way less",
    ),
}

# The words the client's view never shows (checked by tests/progress): the therapist's signals, band
# names, diagnostic labels and change statistics.
INTERNAL_WORDS = (
    "not on track",
    "off track",
    "signal",
    "alert",
    "severe",
    "moderate",
    "mild",
    "depression",
    "anxiety disorder",
    "disorder",
    "caseness",
    "clinical",
    "cut-off",
    "cutoff",
    "reliable",
    "band",
    "rupture",
    "expected range",
    "risk",
)


def shown_score(value: float, decimals: int) -> str:
    """A score as the client reads it: whole numbers for sums, one decimal for means."""
    return f"{value:.{decimals}f}" if decimals else f"{round(value):d}"
