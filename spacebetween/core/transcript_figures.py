"""A coded session's summary figures, from its turns: framework-free, numbers only.

What a clinician knows from MI coding practice (MITI 4.2.1, Moyers et al. 2016; the MISC, Miller et
al. 2003), computed from the model's codes, so each is an estimate of the model (docs/transcripts.md):

- reflection-to-question ratio (MITI's R:Q; its thresholds are 1:1 "fair", 2:1 "good");
- % open questions and % complex reflections, from the refined codes ("open_question",
  "complex_reflection": the shipped coder's subtype heads); None when the codes carry no subtypes (a
  transcript coded before those heads), never 0 %;
- change vs sustain talk: counts and the share of change talk among the two (MITI's
  "percent change talk"), neutral turns aside;
- emotion words per speaker by family (`core.transcripts.rules`, a lexicon, not a model);
- language style matching (`core.transcripts.lsm`, Ireland & Pennebaker 2010) for the whole session and
  over consecutive windows of turns, to show its trajectory across the session.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from spacebetween.core.transcripts.lsm import lsm
from spacebetween.core.transcripts.rules import emotion_words, flags

WINDOWS = 6  # the session in sixths: enough points for a trajectory, enough words in each
MIN_WINDOW_WORDS = 20  # per speaker; fewer and the window's LSM is left out (None)
OPEN_CODES = ("open_question", "question_open", "open")
CLOSED_CODES = ("closed_question", "question_closed", "closed")
COMPLEX_CODES = ("complex_reflection", "reflection_complex", "complex")
SIMPLE_CODES = ("simple_reflection", "reflection_simple", "simple")


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _count(codes: Counter[str], names: Sequence[str]) -> int:
    return sum(codes[n] for n in names)


def summary(speakers: Sequence[str], texts: Sequence[str], codes: Sequence[str]) -> dict[str, Any]:
    """The session's figures. `speakers` are "therapist" or "client" per turn (turns left out of the
    coding are not passed), `codes` the model's code per turn, in spoken order."""
    therapist = Counter(c for s, c in zip(speakers, codes, strict=True) if s == "therapist")
    client = Counter(c for s, c in zip(speakers, codes, strict=True) if s == "client")
    open_q, closed_q = _count(therapist, OPEN_CODES), _count(therapist, CLOSED_CODES)
    complex_r, simple_r = _count(therapist, COMPLEX_CODES), _count(therapist, SIMPLE_CODES)
    questions = therapist["question"] + open_q + closed_q
    reflections = therapist["reflection"] + complex_r + simple_r
    change, sustain = client["change"], client["sustain"]
    emotions: dict[str, dict[str, int]] = {"therapist": {}, "client": {}}
    for speaker, text in zip(speakers, texts, strict=True):
        for family in flags(text, speaker).emotion_families:
            emotions[speaker][family] = emotions[speaker].get(family, 0) + 1
    return {
        "turns": {"therapist": sum(therapist.values()), "client": sum(client.values())},
        "therapist_codes": dict(therapist),
        "client_codes": dict(client),
        "reflection_to_question": round(reflections / questions, 2) if questions else None,
        "percent_open_questions": _share(open_q, open_q + closed_q),
        "percent_complex_reflections": _share(complex_r, complex_r + simple_r),
        "change_talk": change,
        "sustain_talk": sustain,
        "percent_change_talk": _share(change, change + sustain),
        "emotion_words": {
            speaker: sum(len(emotion_words(t)) for s, t in zip(speakers, texts, strict=True) if s == speaker)
            for speaker in ("therapist", "client")
        },
        "emotion_turns_by_family": emotions,
        "lsm": _lsm(speakers, texts),
        "lsm_windows": lsm_windows(speakers, texts),
    }


def _lsm(speakers: Sequence[str], texts: Sequence[str]) -> float | None:
    therapist = [t for s, t in zip(speakers, texts, strict=True) if s == "therapist"]
    client = [t for s, t in zip(speakers, texts, strict=True) if s == "client"]
    if not therapist or not client:
        return None
    return round(lsm(therapist, client).score, 3)


def lsm_windows(speakers: Sequence[str], texts: Sequence[str], windows: int = WINDOWS) -> list[float | None]:
    """LSM within each of `windows` consecutive, equal runs of turns; None where either speaker says
    fewer than MIN_WINDOW_WORDS words in the window (too few for a rate per category)."""
    n = len(texts)
    if n == 0:
        return []
    out: list[float | None] = []
    for w in range(min(windows, n)):
        lo, hi = w * n // min(windows, n), (w + 1) * n // min(windows, n)
        result = lsm(
            [texts[i] for i in range(lo, hi) if speakers[i] == "therapist"],
            [texts[i] for i in range(lo, hi) if speakers[i] == "client"],
        )
        enough = min(result.words_a, result.words_b) >= MIN_WINDOW_WORDS
        out.append(round(result.score, 3) if enough else None)
    return out
