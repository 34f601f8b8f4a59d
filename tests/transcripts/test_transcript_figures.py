"""core.transcript_figures: the session's summary from given codes (no model), checked by hand;
presenters: the figures say what they are, the charts place their points."""

from __future__ import annotations

import pytest

from spacebetween.core import transcript_figures
from spacebetween.core.transcripts.lsm import lsm
from spacebetween.core.transcripts.model import model_card
from spacebetween.transcripts.presenters import ESTIMATE, HEIGHT, PAD, chart, figures, one_in

SPEAKERS = ["therapist", "client", "therapist", "client", "therapist", "client", "therapist"]
TEXTS = [
    "What brings you here today?",
    "I feel so anxious and I want to stop drinking.",
    "You want to stop.",
    "But I don't see how, it calms me down.",
    "It calms you, and it worries you.",
    "I am scared and ashamed.",
    "How could you cut down this week?",
]
CODES = ["question", "change", "reflection", "sustain", "reflection", "change", "question"]


def test_the_summary_counts_codes_as_a_coder_would_by_hand() -> None:
    s = transcript_figures.summary(SPEAKERS, TEXTS, CODES)
    assert s["turns"] == {"therapist": 4, "client": 3}
    assert s["reflection_to_question"] == 1.0  # two reflections, two questions
    assert (s["change_talk"], s["sustain_talk"], s["percent_change_talk"]) == (2, 1, 66.7)
    # Codes without subtypes (a transcript coded before the subtype heads): not given, never 0 %.
    assert s["percent_open_questions"] is None and s["percent_complex_reflections"] is None
    # "anxious", "scared", "ashamed" from the client; none from the therapist.
    assert s["emotion_words"] == {"therapist": 0, "client": 3}
    therapist = [t for sp, t in zip(SPEAKERS, TEXTS, strict=True) if sp == "therapist"]
    client = [t for sp, t in zip(SPEAKERS, TEXTS, strict=True) if sp == "client"]
    assert s["lsm"] == round(lsm(therapist, client).score, 3)
    # Too few words in a sixth of so short a session: each window left out rather than guessed.
    assert s["lsm_windows"] == [None] * 6


def test_finer_codes_give_the_shares_when_a_model_has_them() -> None:
    codes = [
        "open_question",
        "change",
        "complex_reflection",
        "sustain",
        "simple_reflection",
        "change",
        "closed_question",
    ]
    s = transcript_figures.summary(SPEAKERS, TEXTS, codes)
    assert (s["percent_open_questions"], s["percent_complex_reflections"]) == (50.0, 50.0)
    assert s["reflection_to_question"] == 1.0


def test_windows_with_enough_words_have_their_own_lsm() -> None:
    long = "I think that we could do it and it would be fine for me and for you " * 3
    speakers, texts = ["therapist", "client"] * 6, [long] * 12
    assert transcript_figures.lsm_windows(speakers, texts) == [pytest.approx(1.0, abs=1e-3)] * 6


def test_every_figure_says_what_it_is_and_a_missing_one_says_so() -> None:
    shown = {f.key: f for f in figures(transcript_figures.summary(SPEAKERS, TEXTS, CODES))}
    assert shown["reflection_to_question"].value == "1.00"
    assert shown["percent_open_questions"].value == "not given"
    assert shown["change_vs_sustain"].value == "2 : 1 (67 % change)"
    assert all(f.meaning for f in shown.values())


def test_a_chart_puts_low_at_the_bottom_high_at_the_top_and_skips_gaps() -> None:
    c = chart("LSM", ["a", "b", "c"], [0.5, None, 1.0], 0.5, 1.0)
    assert [(p.label, p.y) for p in c.points] == [("a", HEIGHT - PAD), ("c", PAD)]
    assert c.path.startswith("M") and c.path.count("L") == 1


def test_the_error_rates_the_pages_quote_come_from_the_models_card() -> None:
    # by hand: 79.4 % right is wrong on one turn in 4.9, so "one in 5"; 65.5 % right, one in 2.9: "3"
    assert (one_in(0.794), one_in(0.655), one_in(0.5)) == (5, 3, 2)
    card = model_card()
    assert f"one therapist turn in {one_in(card['therapist']['accuracy'])} " in ESTIMATE
    assert f"one client turn in {one_in(card['client']['accuracy'])} " in ESTIMATE
    shown = {f.key: f.meaning for f in figures({"percent_open_questions": 50.0})}
    error = card["session_shares"]["question"]["mean_absolute_difference"]
    assert f"on average {round(error)} points from the MI coders'" in shown["percent_open_questions"]
    agree = card["annotators"]["reflection_subtype"]["accuracy"]
    assert f"only about {round(10 * agree)} times in ten" in shown["percent_complex_reflections"]
