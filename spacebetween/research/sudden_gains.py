"""`spacebetween sudden-gains`: Tang & DeRubeis sudden gains (or losses) in session-by-session scores.

Input: one row per person, an id column and one column per session. By default the session
columns are s1, s2, ... sN (contiguous from s1; any other column, such as a baseline s0, is
ignored); `--sessions col1,col2,...` names them in order instead (e.g. bdi_s1,...,bdi_s12). Sessions
are numbered 1..N in that order. An empty cell is a missed session.

Output: one row per gain: id, pregain_session (N of the step from N to N+1), pregain_score,
postgain_score, magnitude, reversal_value and reversed. The JSON output adds a "summary"; with CSV
the summary goes to stderr, and `--summary FILE` writes it as JSON. Criterion 1 is `--cutoff`, or
with `--instrument` the definition's reliable change in points (`reliable_change.rci`, else
1.96 · S_diff from its SD and reliability). docs/change-statistics.md has the details.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from spacebetween.core import change as change_core
from spacebetween.core import sudden_gains as core
from spacebetween.research.change import instrument_scale
from spacebetween.research.tabular import (
    UsageError,
    emit,
    fail,
    parse_number,
    read_csv,
    render,
    require_columns,
    unique_id,
)

COLUMNS = [
    "id",
    "pregain_session",
    "pregain_score",
    "postgain_score",
    "magnitude",
    "reversal_value",
    "reversed",
]
_SESSION_COLUMN = re.compile(r"s([0-9]+)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="spacebetween sudden-gains",
        description="Sudden gains (Tang & DeRubeis 1999; Lutz et al. 2013 missing-data adjustment).",
    )
    p.add_argument("file", help="CSV with an id column and session columns s1..sN (or --sessions)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--instrument", help="instrument id: criterion 1 and direction from its definition")
    source.add_argument("--cutoff", type=float, help="criterion 1: the smallest gain in score points")
    p.add_argument("--scale", help="scale id within the instrument (default: its only or first scale)")
    p.add_argument(
        "--include-licensed", action="store_true", help="look the instrument up in the licensed pack too"
    )
    p.add_argument("--sessions", help="session columns in order, comma-separated (default: s1, s2, ...)")
    p.add_argument("--id-column", default="id", help="column that identifies a person (default: id)")
    direction = p.add_mutually_exclusive_group()
    direction.add_argument("--higher-is-better", dest="higher_is_better", action="store_true", default=None)
    direction.add_argument("--lower-is-better", dest="higher_is_better", action="store_false")
    p.add_argument("--losses", action="store_true", help="find sudden losses (sudden worsening) instead")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("--output", help="write here instead of stdout (atomically: complete or not at all)")
    p.add_argument("--summary", metavar="FILE", help="also write the summary as JSON to FILE")
    return p


def session_columns(path: str, header: Sequence[str], sessions: str | None) -> list[str]:
    if sessions is not None:
        names = [name.strip() for name in sessions.split(",")]
        if any(name == "" for name in names):
            raise UsageError("--sessions: an empty column name")
        if len(set(names)) != len(names):
            raise UsageError("--sessions: a column is named twice")
        require_columns(path, header, names)
        return names
    numbers = sorted(int(m.group(1)) for name in header if (m := _SESSION_COLUMN.fullmatch(name)))
    numbers = [k for k in numbers if k >= 1]
    if not numbers:
        raise UsageError(f"{path}: no session columns s1, s2, ...; name them with --sessions")
    expected = list(range(1, numbers[-1] + 1))
    if numbers != expected:
        gaps = ", ".join(f"s{k}" for k in expected if k not in numbers)
        raise UsageError(f"{path}: session column(s) {gaps} missing between s1 and s{numbers[-1]}")
    return [f"s{k}" for k in expected]


def read_series(path: str, id_column: str, sessions: str | None) -> tuple[list[str], list[str], np.ndarray]:
    header, rows = read_csv(path)
    require_columns(path, header, [id_column])
    columns = session_columns(path, header, sessions)
    scores = np.empty((len(rows), len(columns)))
    ids: list[str] = []
    seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        line = i + 2
        ids.append(unique_id(row, id_column, path=path, line=line, seen=seen))
        for j, column in enumerate(columns):
            scores[i, j] = parse_number(row[column], path=path, row=line, column=column, allow_missing=True)
    return ids, columns, scores


def criterion1(args: argparse.Namespace) -> tuple[float, bool]:
    """The criterion 1 cut-off and the direction, from the flags or the instrument definition."""
    if args.cutoff is not None:
        if args.scale:
            raise UsageError("--scale needs --instrument")
        return args.cutoff, bool(args.higher_is_better)
    params = change_core.parameters_from_scale(
        instrument_scale(args.instrument, args.scale, include_licensed=args.include_licensed)
    )
    higher = params.higher_is_better if args.higher_is_better is None else args.higher_is_better
    points = params.reliable_change_points()
    if points is not None:
        return points, higher
    raise UsageError(
        f"instrument {args.instrument!r} gives no reliable change in points and no SD with a reliability; "
        "use --cutoff"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse has printed its message (or the help)
        return int(exc.code or 0)
    try:
        cutoff, higher_is_better = criterion1(args)
        ids, columns, scores = read_series(args.file, args.id_column, args.sessions)
        result = core.sudden_gains(
            scores, cutoff=cutoff, higher_is_better=higher_is_better, losses=args.losses
        )
    except UsageError as exc:
        return fail(str(exc))
    except ValueError as exc:
        return fail(str(exc))

    rows_i, sessions = result.events()
    out = [
        {
            "id": ids[r],
            "pregain_session": int(n),
            "pregain_score": float(scores[r, n - 1]),
            "postgain_score": float(scores[r, n]),
            "magnitude": float(result.magnitude[r, n - 1]),
            "reversal_value": float(result.reversal_value[r, n - 1]),
            "reversed": bool(result.reversed[r, n - 1]),
        }
        for r, n in zip(rows_i.tolist(), sessions.tolist(), strict=True)
    ]
    if args.format == "csv":
        for row in out:
            row["reversed"] = int(row["reversed"])
    people = len({row["id"] for row in out})
    summary: dict[str, Any] = {
        "kind": "sudden losses" if args.losses else "sudden gains",
        "people": len(ids),
        "sessions": columns,
        "direction": change_core.HIGHER_IS_BETTER if higher_is_better else change_core.LOWER_IS_BETTER,
        "criterion1_cutoff": cutoff,
        "criterion2_fraction": core.CRITERION2_FRACTION,
        "testable_intervals": int(result.testable.sum()),
        "events": len(out),
        "people_with_events": people,
        "reversed": int(result.reversed.sum()),
    }
    text = render(out, COLUMNS, args.format, summary if args.format == "json" else None)
    try:
        emit(text, args.output)
        if args.summary:
            emit(json.dumps(summary, indent=2) + "\n", args.summary)
    except OSError as exc:
        return fail(f"cannot write output: {exc}")
    if args.format == "csv":
        sys.stderr.write(
            f"spacebetween sudden-gains: {summary['events']} {summary['kind']} "
            f"in {people} of {len(ids)} people "
            f"({summary['reversed']} reversed; {summary['testable_intervals']} testable intervals; "
            f"criterion 1 cut-off {cutoff:g})\n"
        )
    return 0
