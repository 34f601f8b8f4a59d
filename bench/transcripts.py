"""Benchmark: coding session transcripts with the shipped model, whole file vs. one utterance at a time.

Both sides code the AnnoMI copy under tests/data/published/annomi (8,370 utterances, 113 transcripts;
``--quick``: the first 20 transcripts) with the model shipped in the package:

- ``vectorised``: one `Coder.code` call over all utterances (features for all rows, one sparse product
  per head; best of three runs);
- ``per_utterance_loop``: each transcript's features built once (they need the whole session), then
  each utterance scored on its own (one sparse row, one head, in a Python loop), the way a caller
  coding utterance by utterance would; timed on the transcripts holding the first ``loop_sample``
  utterances and extrapolated. Its codes are checked against the vectorised codes.

Both sides spend most of their time building features (tokens, n-grams and their CRC-32, in Python,
utterance by utterance); the weights' sparse products are a small part, so the two rates are close.
In `spacebetween bench` the loop is the baseline, `ratio` the batch's rate over the loop's, and the goal
(issue #19) the batch's own rate: at least 2,000 utterances/s.

    python bench/transcripts.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from spacebetween.core.transcripts.features import featurise
from spacebetween.core.transcripts.model import Coder
from spacebetween.core.transcripts.table import annomi_utterances, refined, transcript_spans
from spacebetween.research.tabular import read_csv

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "published" / "annomi" / "AnnoMI-full.csv"
REPEATS = 3
GOAL_UTTERANCES_PER_SEC = 2000  # issue #19: a 50-minute session (~500 turns) codes in well under 1 s


def run(quick: bool = False, seed: int = 0) -> dict[str, Any]:  # seed: the suite's signature; unused
    header, rows = read_csv(DATA)
    utterances = annomi_utterances(rows, header)
    if quick:
        stop = transcript_spans(utterances)[19][1]
        utterances = utterances[:stop]
    coder = Coder.load()
    coder.code(utterances[:50], refine=True)  # warm-up
    timings = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        codes = coder.code(utterances, refine=True)  # as the session view codes: with the subtypes
        timings.append(time.perf_counter() - start)
    vector_seconds = min(timings)

    loop_sample = min(len(utterances), 300 if quick else 1000)
    start = time.perf_counter()
    loop_codes: list[str] = []
    for lo, hi in transcript_spans(utterances):
        if lo >= loop_sample:
            break
        x = featurise(utterances[lo:hi], coder.bits)
        for i in range(hi - lo):
            row = x.take(np.asarray([i]))
            code = coder.heads[utterances[lo + i].speaker].predict(row)[0]
            subtype = coder.subtypes.get(code) if utterances[lo + i].speaker == "therapist" else None
            loop_codes.append(refined(code, subtype.predict(row)[0]) if subtype else code)
    loop_seconds = time.perf_counter() - start
    loop_sample = len(loop_codes)
    if loop_codes != codes[:loop_sample]:
        raise AssertionError("per-utterance loop and vectorised coding disagree")
    vector_rate = len(utterances) / vector_seconds
    loop_rate = loop_sample / loop_seconds
    per_utterance_loop = {
        "utterances_measured": loop_sample,
        "seconds_measured": round(loop_seconds, 4),
        "utterances_per_sec": round(loop_rate),
        "note": f"timed on the first {loop_sample} utterances (whole transcripts), extrapolated",
    }
    # The suite's shape (bench/run.py): the loop is the baseline; the goal is the batch's own rate.
    return {
        "benchmark": "code transcripts (AnnoMI)",
        "utterances": len(utterances),
        "vectorised": {
            "seconds": round(vector_seconds, 4),
            "utterances_per_sec": round(vector_rate),
            "note": f"best of {REPEATS} runs",
        },
        "baseline": {"path": "per_utterance_loop", **per_utterance_loop},
        "ratio": round(round(vector_rate) / round(loop_rate), 1),
        "ratio_of": "vectorised utterances_per_sec / per_utterance_loop utterances_per_sec",
        "goal": {"min_utterances_per_sec": GOAL_UTTERANCES_PER_SEC},
        "goal_met": vector_rate >= GOAL_UTTERANCES_PER_SEC,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="the first 20 transcripts")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.quick), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
