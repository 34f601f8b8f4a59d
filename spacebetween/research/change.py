"""`spacebetween change`: reliable change and clinical significance of pre/post pairs from a CSV.

Input: columns id, pre, post (one row per person; an empty cell is missing), or a long file with
`--long SCORE_COLUMN --pre-time T --post-time T` (one row per person and time point, as in
clinicalsignificance's data sets). Output, one row per person: id, pre, post, change, rc,
reliable_change (improvement / deterioration / none; empty for an incomplete pair) and class.

Reliable change is the Jacobson–Truax RC index when a reliability is known (flag or definition);
otherwise a published reliable change in points (`--rci`, or `reliable_change.rci` of the definition)
is used, counting a change of at least that many points, and the rc column stays empty.

The summary (parameters used and counts per class) is the "summary" object of the JSON output;
with CSV output it goes to stderr as one line, and `--summary FILE` writes it as JSON to a file in
either format. Parameters come from `--instrument` when given and are overridden by flags; a
parameter that is needed but given nowhere is an error (exit status 2). docs/change-statistics.md
has the formulas, conventions and examples.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from spacebetween.core import change as core
from spacebetween.core import instruments as catalogue
from spacebetween.core.instruments import InstrumentDefinitionError, Scale, UnknownInstrumentError
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

COLUMNS = ["id", "pre", "post", "change", "rc", "reliable_change", "class"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="spacebetween change",
        description="Jacobson–Truax reliable change and clinical significance of pre/post scores.",
    )
    p.add_argument("file", help="CSV with columns id,pre,post (or a long file with --long)")
    p.add_argument(
        "--instrument", help="instrument id: take reliability, SD, norms and direction from its definition"
    )
    p.add_argument("--scale", help="scale id within the instrument (default: its only or first scale)")
    p.add_argument(
        "--include-licensed", action="store_true", help="look the instrument up in the licensed pack too"
    )
    p.add_argument("--reliability", type=float, help="reliability r of the measure (0 ≤ r < 1)")
    p.add_argument(
        "--sd", type=float, help="normative SD for the RCI (default: n−1 SD of complete pairs' pre scores)"
    )
    p.add_argument(
        "--rci",
        type=float,
        metavar="POINTS",
        help="a published reliable change in points, used instead of the RC index (change ≥ POINTS)",
    )
    p.add_argument("--criterion", choices=core.CRITERIA, help="clinical-significance cut-off a, b or c")
    p.add_argument("--clinical-mean", type=float)
    p.add_argument("--clinical-sd", type=float)
    p.add_argument(
        "--clinical-from-sample",
        action="store_true",
        help="use the complete pairs' pre scores as the clinical population (Jacobson & Truax 1991)",
    )
    p.add_argument("--functional-mean", type=float)
    p.add_argument("--functional-sd", type=float)
    direction = p.add_mutually_exclusive_group()
    direction.add_argument("--higher-is-better", dest="higher_is_better", action="store_true", default=None)
    direction.add_argument("--lower-is-better", dest="higher_is_better", action="store_false")
    p.add_argument("--id-column", default="id", help="column that identifies a person (default: id)")
    p.add_argument("--long", metavar="SCORE_COLUMN", help="read a long file: the score column to use")
    p.add_argument("--time-column", default="time", help="with --long: the time-point column (default: time)")
    p.add_argument("--pre-time", help="with --long: the time value of the pre score")
    p.add_argument("--post-time", help="with --long: the time value of the post score")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("--output", help="write here instead of stdout (atomically: complete or not at all)")
    p.add_argument("--summary", metavar="FILE", help="also write the summary as JSON to FILE")
    return p


def instrument_scale(instrument_id: str, scale_id: str | None, *, include_licensed: bool = False) -> Scale:
    """The scale of an instrument definition (its only or first scale unless `scale_id` names one)."""
    try:
        instrument = catalogue.get(instrument_id, include_licensed=include_licensed)
    except (UnknownInstrumentError, InstrumentDefinitionError) as exc:
        raise UsageError(str(exc)) from exc
    if not instrument.scales:
        raise UsageError(f"instrument {instrument_id!r} has no scales")
    if scale_id is None:
        return instrument.scales[0]
    try:
        return instrument.scale(scale_id)
    except KeyError as exc:
        known = ", ".join(sc.id for sc in instrument.scales)
        raise UsageError(f"instrument {instrument_id!r} has no scale {scale_id!r} (it has: {known})") from exc


_OVERRIDES = {
    "reliability": "reliability",
    "sd": "sd",
    "rci": "rci_points",
    "clinical_mean": "clinical_mean",
    "clinical_sd": "clinical_sd",
    "functional_mean": "functional_mean",
    "functional_sd": "functional_sd",
}


def resolve_parameters(args: argparse.Namespace) -> core.ChangeParameters:
    """Definition values first, then the flags the user gave on top."""
    params = core.ChangeParameters()
    if args.instrument:
        params = core.parameters_from_scale(
            instrument_scale(args.instrument, args.scale, include_licensed=args.include_licensed)
        )
    elif args.scale:
        raise UsageError("--scale needs --instrument")
    if args.rci is not None and (args.reliability is not None or args.sd is not None):
        raise UsageError("--rci (reliable change in points) excludes --reliability and --sd")
    overrides: dict[str, Any] = {
        field: getattr(args, flag) for flag, field in _OVERRIDES.items() if getattr(args, flag) is not None
    }
    if args.rci is not None:
        # An explicit published threshold replaces the definition's RC index parameters.
        overrides["reliability"] = None
    if args.higher_is_better is not None:
        overrides["higher_is_better"] = args.higher_is_better
    return replace(params, **overrides)


def read_wide(path: str, id_column: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    header, rows = read_csv(path)
    require_columns(path, header, [id_column, "pre", "post"])
    ids: list[str] = []
    pre = np.empty(len(rows))
    post = np.empty(len(rows))
    seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        line = i + 2
        ident = unique_id(row, id_column, path=path, line=line, seen=seen)
        ids.append(ident)
        pre[i] = parse_number(row["pre"], path=path, row=line, column="pre", allow_missing=True)
        post[i] = parse_number(row["post"], path=path, row=line, column="post", allow_missing=True)
    return ids, pre, post


def read_long(
    path: str, id_column: str, score_column: str, time_column: str, pre_time: str, post_time: str
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Pivot a long file to pre/post; times are compared as text, rows at other times are skipped."""
    if pre_time == post_time:
        raise UsageError("--pre-time and --post-time must differ")
    header, rows = read_csv(path)
    require_columns(path, header, [id_column, time_column, score_column])
    order: dict[str, int] = {}
    values: dict[tuple[str, str], float] = {}
    for i, row in enumerate(rows):
        line = i + 2
        ident = row[id_column]
        if ident == "":
            raise UsageError(f"{path}: row {line}, column {id_column}: value is missing")
        order.setdefault(ident, len(order))
        time = row[time_column]
        if time not in (pre_time, post_time):
            continue
        if (ident, time) in values:
            raise UsageError(
                f"{path}: row {line}: a second row for {id_column} {ident!r} at {time_column} {time!r}"
            )
        values[(ident, time)] = parse_number(
            row[score_column], path=path, row=line, column=score_column, allow_missing=True
        )
    ids = list(order)
    pre = np.array([values.get((k, pre_time), math.nan) for k in ids], dtype=np.float64)
    post = np.array([values.get((k, post_time), math.nan) for k in ids], dtype=np.float64)
    return ids, pre, post


def analyse(
    args: argparse.Namespace, params: core.ChangeParameters, pre: np.ndarray, post: np.ndarray
) -> tuple[core.ReliableChange, dict[str, Any] | None]:
    try:
        if params.reliability is not None:
            result = core.reliable_change(
                pre,
                post,
                reliability=params.reliability,
                sd=params.sd,
                higher_is_better=params.higher_is_better,
            )
        elif params.rci_points is not None:
            result = core.reliable_change_in_points(
                pre, post, points=params.rci_points, higher_is_better=params.higher_is_better
            )
        else:
            raise UsageError(
                "no reliability: give --reliability (or --rci POINTS), "
                "or an --instrument whose definition has one"
            )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    cut: dict[str, Any] | None = None
    cut_flags = ("clinical_mean", "clinical_sd", "functional_mean", "functional_sd", "clinical_from_sample")
    if args.criterion is None:
        if any(getattr(args, f) not in (None, False) for f in cut_flags):
            raise UsageError("cut-off norms were given without --criterion a, b or c")
        return result, None
    clinical_mean, clinical_sd = params.clinical_mean, params.clinical_sd
    if args.clinical_from_sample:
        if args.clinical_mean is not None or args.clinical_sd is not None:
            raise UsageError("--clinical-from-sample and --clinical-mean/--clinical-sd exclude each other")
        try:
            clinical_mean, clinical_sd = core.pre_score_norms(pre, post)
        except ValueError as exc:
            raise UsageError(f"--clinical-from-sample: {exc}") from exc
    try:
        value = core.clinical_cutoff(
            args.criterion,
            clinical_mean=clinical_mean,
            clinical_sd=clinical_sd,
            functional_mean=params.functional_mean,
            functional_sd=params.functional_sd,
            higher_is_better=params.higher_is_better,
        )
    except core.MissingParameterError as exc:
        flags = "--clinical-mean/--clinical-sd (or --clinical-from-sample)"
        if "functional" in str(exc):
            flags = "--functional-mean/--functional-sd"
        raise UsageError(
            f"criterion {args.criterion}: {exc}; give {flags} or an --instrument that has it"
        ) from exc
    except ValueError as exc:
        raise UsageError(f"criterion {args.criterion}: {exc}") from exc
    cut = {
        "criterion": args.criterion,
        "value": value,
        "clinical_mean": clinical_mean,
        "clinical_sd": clinical_sd,
        "functional_mean": params.functional_mean,
        "functional_sd": params.functional_sd,
    }
    return result, cut


def _reliable_label(result: core.ReliableChange) -> np.ndarray:
    return np.select(
        [~result.complete, result.improved, result.deteriorated],
        ["", "improvement", "deterioration"],
        default="none",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse has printed its message (or the help)
        return int(exc.code or 0)
    try:
        params = resolve_parameters(args)
        if args.long:
            if args.pre_time is None or args.post_time is None:
                raise UsageError("--long needs --pre-time and --post-time")
            ids, pre, post = read_long(
                args.file, args.id_column, args.long, args.time_column, args.pre_time, args.post_time
            )
        elif args.pre_time is not None or args.post_time is not None:
            raise UsageError("--pre-time and --post-time need --long SCORE_COLUMN")
        else:
            ids, pre, post = read_wide(args.file, args.id_column)
        result, cut = analyse(args, params, pre, post)
        classes = core.classify(result, cutoff=None if cut is None else cut["value"])
    except UsageError as exc:
        return fail(str(exc))

    reliable = _reliable_label(result)
    rows = [
        {
            "id": ident,
            "pre": float(pre[i]),
            "post": float(post[i]),
            "change": float(post[i] - pre[i]),
            "rc": float(result.rc[i]),
            "reliable_change": str(reliable[i]),
            "class": str(classes[i]),
        }
        for i, ident in enumerate(ids)
    ]
    summary = {
        "n": len(ids),
        "complete_pairs": int(result.complete.sum()),
        "direction": core.HIGHER_IS_BETTER if result.higher_is_better else core.LOWER_IS_BETTER,
        "method": result.method,
        "reliability": result.reliability,
        "sd": result.sd,
        "sd_source": None
        if result.sd is None
        else ("pre scores (n-1)" if result.sd_from_sample else "given"),
        "s_diff": result.s_diff,
        "critical_value": result.critical_value,
        "reliable_change_points": result.points,
        "cutoff": cut,
        "counts": core.count_classes(classes, with_cutoff=cut is not None),
    }
    text = render(rows, COLUMNS, args.format, summary if args.format == "json" else None)
    try:
        emit(text, args.output)
        if args.summary:
            emit(json.dumps(summary, indent=2) + "\n", args.summary)
    except OSError as exc:
        return fail(f"cannot write output: {exc}")
    if args.format == "csv":
        _summary_line(summary)
    return 0


def _summary_line(summary: dict[str, Any]) -> None:
    counts = " ".join(f"{k}={v}" for k, v in summary["counts"].items())
    sys.stderr.write(
        f"spacebetween change: {summary['complete_pairs']} of {summary['n']} complete pairs; {counts}; "
        f"reliable change {'at least' if summary['method'] == core.POINTS else 'beyond'} "
        f"{summary['reliable_change_points']:.4g} points\n"
    )
