"""`spacebetween transcripts ...`: code session transcripts, language style matching, and the model.

    spacebetween transcripts code FILE.csv --out CODED.csv [--rules] [--model FILE.npz]
    spacebetween transcripts lsm FILE.csv [--format csv|json] [--output FILE]
    spacebetween transcripts train --data AnnoMI-full.csv --out model.npz
    spacebetween transcripts evaluate --data AnnoMI-full.csv [--folds 5] [--output FILE.json]
    spacebetween transcripts score --data HELD_OUT.csv [--model FILE.npz] [--output FILE.json]

Input of `code` and `lsm`: a CSV with columns transcript_id, utterance_id, interlocutor (therapist or
client) and utterance_text, one row per utterance, each transcript's rows in spoken order. `code` writes
the same rows (same order, same columns) with therapist_behaviour (therapist rows: question, reflection,
therapist_input, other), client_talk_type (client rows: change, neutral, sustain), question_type (open,
closed) and reflection_type (simple, complex) added, and with `--rules` the rule flags (emotion_words,
names_feeling, here_and_now, socratic_question). The codes come from a model trained on AnnoMI by
`train` (docs/transcripts.md: what it can and cannot be used for). `evaluate` cross-validates the
training settings by transcript; `score` reports a trained model's figures, in the same form, on
labelled transcripts it was not trained on (refusing, for the shipped model, any it was trained on).

Bad input (missing column, unknown interlocutor, repeated utterance, empty file) stops with a message
naming the row and column, exit status 2, and no output file: outputs are written to a temporary file
and renamed only when complete.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from spacebetween.core.transcripts import lsm as lsm_core
from spacebetween.core.transcripts import rules
from spacebetween.core.transcripts.evaluate import (
    Evaluation,
    annotator_agreement,
    cross_validate,
    held_out,
    session_shares,
)
from spacebetween.core.transcripts.features import FEATURE_VERSION
from spacebetween.core.transcripts.model import (
    MODEL_PATH,
    Coder,
    TrainSettings,
    model_card,
    settings_record,
    train,
)
from spacebetween.core.transcripts.table import (
    SUBTYPES,
    TranscriptError,
    Utterance,
    annomi_utterances,
    split_code,
    utterances_from_rows,
)
from spacebetween.research.tabular import EXIT_USAGE, UsageError, emit, fail, read_csv, render

CODE_COLUMNS = ("therapist_behaviour", "client_talk_type", "question_type", "reflection_type")
RULE_COLUMNS = ("emotion_words", "names_feeling", "here_and_now", "socratic_question")
# AnnoMI's columns whose annotator agreement `evaluate` reports beside the model's figures
AGREEMENT_COLUMNS = ("main_therapist_behaviour", "client_talk_type", "question_subtype", "reflection_subtype")


def _run(
    prog: str,
    argv: Sequence[str] | None,
    build: Callable[[argparse.ArgumentParser], None],
    body: Callable[[argparse.Namespace], int],
) -> int:
    parser = argparse.ArgumentParser(prog=f"spacebetween transcripts {prog}")
    build(parser)
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse has printed the usage
        return int(exc.code or 0) and EXIT_USAGE
    try:
        return body(args)
    except (UsageError, TranscriptError) as exc:
        return fail(str(exc))


def _read(path: str) -> tuple[list[str], list[dict[str, str]], list[Utterance]]:
    header, rows = read_csv(path)
    return header, rows, utterances_from_rows(rows, header, source=path)


def _load_model(path: str | None) -> Coder:
    model = Path(path) if path else MODEL_PATH
    if not model.is_file():
        raise UsageError(f"{model}: no model file; build one with `spacebetween transcripts train`")
    return Coder.load(model)


def code(argv: Sequence[str] | None = None) -> int:
    def build(p: argparse.ArgumentParser) -> None:
        p.add_argument("file", metavar="FILE.csv")
        p.add_argument("--out", required=True, metavar="CODED.csv", help="written atomically")
        p.add_argument("--rules", action="store_true", help="add the rule flags' columns")
        p.add_argument("--model", metavar="FILE.npz", help="default: the model shipped in the package")

    def body(args: argparse.Namespace) -> int:
        header, rows, utterances = _read(args.file)
        coder = _load_model(args.model)
        codes = coder.code(utterances, refine=True)
        by_row = {u.row: (u, c) for u, c in zip(utterances, codes, strict=True)}
        added = [*CODE_COLUMNS, *(RULE_COLUMNS if args.rules else ())]
        columns = [c for c in header if c not in added] + added
        out: list[dict[str, Any]] = []
        for i, row in enumerate(rows):
            u, code = by_row[i + 2]
            label, subtype = split_code(code)
            record: dict[str, Any] = dict(row)
            record["therapist_behaviour"] = label if u.speaker == "therapist" else ""
            record["client_talk_type"] = label if u.speaker == "client" else ""
            record["question_type"] = subtype if label == "question" else ""
            record["reflection_type"] = subtype if label == "reflection" else ""
            if args.rules:
                f = rules.flags(u.text, u.speaker)
                record.update(
                    emotion_words=" ".join(f.emotion_words),
                    names_feeling=f.names_feeling,
                    here_and_now=f.here_and_now,
                    socratic_question=f.socratic_question,
                )
            out.append(record)
        emit(render(out, columns, "csv"), args.out)
        n = len(by_transcript(utterances))
        sys.stderr.write(f"spacebetween: coded {len(rows)} utterance(s) of {n} transcript(s)\n")
        return 0

    return _run("code", argv, build, body)


def by_transcript(utterances: Sequence[Utterance]) -> dict[str, list[Utterance]]:
    out: dict[str, list[Utterance]] = {}
    for u in utterances:
        out.setdefault(u.transcript_id, []).append(u)
    return out


def lsm(argv: Sequence[str] | None = None) -> int:
    def build(p: argparse.ArgumentParser) -> None:
        p.add_argument("file", metavar="FILE.csv")
        p.add_argument("--format", choices=("csv", "json"), default="csv")
        p.add_argument("--output", metavar="FILE", help="write here (atomically) instead of stdout")

    def body(args: argparse.Namespace) -> int:
        _, _, utterances = _read(args.file)
        out: list[dict[str, Any]] = []
        for tid, group in by_transcript(utterances).items():
            result = lsm_core.lsm(
                [u.text for u in group if u.speaker == "therapist"],
                [u.text for u in group if u.speaker == "client"],
            )
            record: dict[str, Any] = {
                "transcript_id": tid,
                "lsm": round(result.score, 4),
                "therapist_words": result.words_a,
                "client_words": result.words_b,
            }
            record.update({f"lsm_{c}": round(v, 4) for c, v in result.per_category.items()})
            record["function_words"] = lsm_core.FUNCTION_WORDS_VERSION
            out.append(record)
        columns = list(out[0])
        emit(render(out, columns, args.format), args.output)
        return 0

    return _run("lsm", argv, build, body)


def _annomi(path: str) -> list[Utterance]:
    header, rows = read_csv(path)
    return annomi_utterances(rows, header, source=path)


def _settings_args(p: argparse.ArgumentParser) -> None:
    defaults = TrainSettings()
    p.add_argument("--data", required=True, metavar="AnnoMI-full.csv")
    p.add_argument("--steps", type=int, default=defaults.steps)
    p.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    p.add_argument("--l2", type=float, default=defaults.l2)


def _settings(args: argparse.Namespace) -> TrainSettings:
    return TrainSettings(steps=args.steps, learning_rate=args.learning_rate, l2=args.l2)


def train_command(argv: Sequence[str] | None = None) -> int:
    def build(p: argparse.ArgumentParser) -> None:
        _settings_args(p)
        p.add_argument("--out", required=True, metavar="model.npz", help="written atomically")

    def body(args: argparse.Namespace) -> int:
        coder = train(_annomi(args.data), _settings(args))
        coder.meta["data"] = Path(args.data).name
        coder.save(args.out)
        sys.stderr.write(f"spacebetween: wrote {args.out} ({Path(args.out).stat().st_size} bytes)\n")
        return 0

    return _run("train", argv, build, body)


def _figures(utterances: Sequence[Utterance], results: Evaluation) -> dict[str, Any]:
    """The figures `evaluate` and `score` report alike: each head's scores and the session shares."""
    return {
        "utterances": len(utterances),
        "transcripts": len({u.transcript_id for u in utterances}),
        **{name: s.as_dict() for name, s in results.scores.items()},
        "session_shares": {
            b: session_shares(utterances, results.predicted, b)
            for b in SUBTYPES
            if f"{b}_subtype" in results.scores
        },
    }


def evaluate_command(argv: Sequence[str] | None = None) -> int:
    def build(p: argparse.ArgumentParser) -> None:
        _settings_args(p)
        p.add_argument("--folds", type=int, default=5)
        p.add_argument("--output", metavar="FILE.json", help="write here (atomically) instead of stdout")

    def body(args: argparse.Namespace) -> int:
        header, rows = read_csv(args.data)
        utterances = annomi_utterances(rows, header, source=args.data)
        try:
            results = cross_validate(utterances, folds=args.folds, settings=_settings(args))
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        doc = {
            "data": Path(args.data).name,
            "feature_version": FEATURE_VERSION,
            "bits": _settings(args).bits,
            "settings": settings_record(_settings(args)),
            "cross_validation": f"{args.folds}-fold, grouped by transcript_id",
            # which transcripts a model trained on this data saw: `score` refuses them as held out
            "transcript_ids": sorted({u.transcript_id for u in utterances}, key=_natural),
            **_figures(utterances, results),
            "annotators": {
                column: annotator_agreement(rows, column).as_dict()
                for column in AGREEMENT_COLUMNS
                if column in header
            },
        }
        emit(json.dumps(doc, indent=2) + "\n", args.output)
        return 0

    return _run("evaluate", argv, build, body)


def _natural(transcript_id: str) -> tuple[int, str]:
    return (int(transcript_id), "") if transcript_id.isdigit() else (1 << 62, transcript_id)


SEEN_IN_TRAINING = (
    "{file}: {n} transcript(s) were in the shipped model's training data (transcript_id {ids}): "
    "scoring them would not be a held-out figure; leave them out, or give --model"
)


def score_command(argv: Sequence[str] | None = None) -> int:
    def build(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", required=True, metavar="HELD_OUT.csv", help="AnnoMI-full's columns")
        p.add_argument("--model", metavar="FILE.npz", help="default: the model shipped in the package")
        p.add_argument("--output", metavar="FILE.json", help="write here (atomically) instead of stdout")

    def body(args: argparse.Namespace) -> int:
        utterances = _annomi(args.data)
        ids = {u.transcript_id for u in utterances}
        if args.model is None:  # the shipped model's training transcripts are on its card
            seen = sorted(ids & set(model_card()["transcript_ids"]), key=_natural)
            if seen:
                shown = ", ".join(seen[:10]) + (", …" if len(seen) > 10 else "")
                raise UsageError(SEEN_IN_TRAINING.format(file=args.data, n=len(seen), ids=shown))
        coder = _load_model(args.model)
        doc = {
            "data": Path(args.data).name,
            "model": Path(args.model).name if args.model else "shipped",
            "held_out": (
                "checked: none of these transcripts was in the shipped model's training data"
                if args.model is None
                else "not checked: only the shipped model's training transcripts are known"
            ),
            **_figures(utterances, held_out(coder, utterances)),
        }
        emit(json.dumps(doc, indent=2) + "\n", args.output)
        return 0

    return _run("score", argv, build, body)
