"""`spacebetween score ID FILE.csv`: score a table of questionnaire answers.

    spacebetween score phq9 answers.csv [--format csv|json] [--output FILE]
                       [--include-licensed] [--allow-incomplete]

Input: a header row with a column ``id`` and one column per item, named either by the definition's item
ids (``phq9_1`` ...) or by position (``item1`` ... ``itemN``, in questionnaire order). Unscored items (the
PHQ-9 difficulty question) may be left out; an empty cell is a missing answer.

Output: one row per input row, in input order, with every scale's score, band, caseness, n_missing and
prorated flag, and one ``risk_<rule>`` column per risk rule (blank when the risk item was not answered).

Bad input (unknown column, non-number, value that is not an answer option, too many missing answers
unless --allow-incomplete) stops with a message naming the row and column, exit status 2, and no output
file. Risk flags raised on the offending row are named in that message.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from spacebetween.core import instruments as catalogue
from spacebetween.core.instruments import Instrument, InstrumentDefinitionError, UnknownInstrumentError
from spacebetween.core.scoring import Incomplete, ScoreTable, ScoringError, score_table
from spacebetween.research.tabular import EXIT_USAGE, UsageError, emit, fail, parse_number, read_csv, render

ID_COLUMN = "id"
_POSITIONAL = re.compile(r"^item([1-9][0-9]*)$")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spacebetween score", description="Score questionnaire answers in a CSV."
    )
    parser.add_argument("instrument", metavar="ID", help="instrument id, see `spacebetween instruments list`")
    parser.add_argument("file", metavar="FILE.csv")
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.add_argument("--output", metavar="FILE", help="write here (atomically) instead of stdout")
    parser.add_argument(
        "--include-licensed", action="store_true", help="allow an instrument of the licensed pack"
    )
    parser.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="leave a scale blank (n_missing says why) instead of stopping when too many answers are missing",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse has already printed usage
        return int(exc.code or 0) and EXIT_USAGE
    try:
        instrument = catalogue.get(args.instrument, include_licensed=args.include_licensed)
        table = score_file(instrument, args.file, allow_incomplete=args.allow_incomplete)
    except (UnknownInstrumentError, InstrumentDefinitionError, UsageError) as exc:
        return fail(str(exc))
    write_scores(table, args.format, args.output)
    return 0


def write_scores(table: ScoreTable, fmt: str, output: str | None) -> None:
    """The scores table (CSV or JSON with a summary) to stdout or a file, and a one-line report on stderr."""
    instrument = table.instrument
    rows, columns = output_rows(table)
    summary = {
        "instrument": instrument.id,
        "version": instrument.version,
        "rows": len(table),
        "rows_with_risk_flag": int(table.any_risk.sum()),
        "incomplete": {sid: int(sc.incomplete.sum()) for sid, sc in table.scales.items()},
    }
    emit(render(rows, columns, fmt, summary if fmt == "json" else None), output)
    flagged = summary["rows_with_risk_flag"]
    sys.stderr.write(f"spacebetween: scored {len(table)} row(s) with {instrument.id} {instrument.version}")
    sys.stderr.write(f"; {flagged} row(s) with a risk flag\n" if flagged else "\n")


def column_map(instrument: Instrument, header: Sequence[str], path: str) -> dict[str, str]:
    """item id -> CSV column, from item-id columns or positional item1..itemN columns (not both)."""
    item_ids = instrument.item_ids
    by_name = [c for c in header if c in item_ids]
    by_position = [c for c in header if _POSITIONAL.match(c)]
    if by_name and by_position:
        raise UsageError(
            f"{path}: columns mix item ids ({by_name[0]}) and positions ({by_position[0]}); use one naming"
        )
    mapping: dict[str, str] = {}
    if by_position:
        for col in by_position:
            n = int(_POSITIONAL.match(col).group(1))  # type: ignore[union-attr]
            if n > len(item_ids):
                raise UsageError(f"{path}: column {col}: {instrument.id} has only {len(item_ids)} items")
            mapping[item_ids[n - 1]] = col
    else:
        mapping = {c: c for c in by_name}
    unknown = [c for c in header if c != ID_COLUMN and c not in mapping.values()]
    if unknown:
        raise UsageError(
            f"{path}: unknown column(s) {', '.join(unknown)}; expected {ID_COLUMN} and "
            f"{', '.join(item_ids)} (or item1..item{len(item_ids)})"
        )
    if ID_COLUMN not in header:
        raise UsageError(f"{path}: missing column {ID_COLUMN}")
    absent = [i for i in instrument.scored_item_ids if i not in mapping]
    if absent:
        names = absent if not by_position else [f"item{item_ids.index(i) + 1}" for i in absent]
        raise UsageError(f"{path}: missing item column(s) {', '.join(names)}")
    return mapping


class AnswerFile(NamedTuple):
    """A CSV of answers read for one instrument: ids, an n x items table (NaN = missing), item -> column."""

    path: str
    ids: list[str]
    answers: npt.NDArray[np.float64]
    columns: dict[str, str]


def read_answers(instrument: Instrument, path: str) -> AnswerFile:
    """Read and check a CSV of answers (column names, ids, numbers); values are checked by scoring."""
    header, rows = read_csv(path)
    mapping = column_map(instrument, header, path)
    answers = np.full((len(rows), len(instrument.item_ids)), np.nan, dtype=np.float64)
    ids: list[str] = []
    for r, row in enumerate(rows):
        csv_row = r + 2  # the header is row 1
        rid = row.get(ID_COLUMN, "")
        if not rid:
            raise UsageError(f"{path}: row {csv_row}, column {ID_COLUMN}: value is missing")
        ids.append(rid)
        for j, item_id in enumerate(instrument.item_ids):
            col = mapping.get(item_id)
            if col is not None:
                answers[r, j] = parse_number(row[col], path=path, row=csv_row, column=col, allow_missing=True)
    return AnswerFile(path, ids, answers, mapping)


def score_answers(instrument: Instrument, data: AnswerFile, *, allow_incomplete: bool = False) -> ScoreTable:
    """Score a read CSV; a `ScoringError` becomes a `UsageError` naming the CSV row and column."""
    try:
        incomplete: Incomplete = "nan" if allow_incomplete else "raise"
        return score_table(instrument, data.answers, data.ids, incomplete=incomplete)
    except ScoringError as exc:
        column = data.columns.get(exc.item or "", exc.item or "")
        hint = "" if exc.scale is None else " (use --allow-incomplete to leave such scores blank)"
        raise UsageError(f"{data.path}: row {exc.row + 2}, column {column}: {exc}{hint}") from exc


def score_file(instrument: Instrument, path: str, *, allow_incomplete: bool = False) -> ScoreTable:
    return score_answers(instrument, read_answers(instrument, path), allow_incomplete=allow_incomplete)


def output_rows(table: ScoreTable) -> tuple[list[dict[str, Any]], list[str]]:
    columns = [ID_COLUMN]
    for sid in table.scales:
        columns += [f"{sid}_score", f"{sid}_band", f"{sid}_caseness", f"{sid}_n_missing", f"{sid}_prorated"]
    columns += [f"risk_{rid}" for rid in table.risk]

    # Convert whole columns to Python lists once; the per-row loop below only assembles dicts.
    data: dict[str, list[Any]] = {ID_COLUMN: list(table.respondent_ids)}
    for sid, sc in table.scales.items():
        scored = sc.scored
        data[f"{sid}_score"] = [
            float(v) if ok else None for v, ok in zip(sc.score.tolist(), scored.tolist(), strict=True)
        ]
        data[f"{sid}_band"] = sc.band_labels.tolist()
        if sc.scale.caseness is None:
            data[f"{sid}_caseness"] = [None] * len(table)
        else:
            data[f"{sid}_caseness"] = [
                c if ok else None for c, ok in zip(sc.caseness.tolist(), scored.tolist(), strict=True)
            ]
        data[f"{sid}_n_missing"] = sc.n_missing.tolist()
        data[f"{sid}_prorated"] = sc.prorated.tolist()
    for rid, rf in table.risk.items():
        data[f"risk_{rid}"] = [
            f if a else None for f, a in zip(rf.flag.tolist(), rf.answered.tolist(), strict=True)
        ]
    rows = [
        dict(zip(columns, values, strict=True)) for values in zip(*(data[c] for c in columns), strict=True)
    ]
    return rows, columns
