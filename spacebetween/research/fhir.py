"""`spacebetween fhir`: instruments, answers and scores as FHIR R4 JSON, and back (docs/fhir.md).

    spacebetween fhir questionnaire ID [--output FILE] [--include-licensed]
    spacebetween fhir responses ID FILE.csv [--authored DATETIME] [--output FILE]
                                [--include-licensed] [--allow-incomplete]
    spacebetween fhir import FILE.json [--format csv|json] [--output FILE]
                             [--include-licensed] [--allow-incomplete]

``questionnaire`` writes the definition as a Questionnaire. ``responses`` reads a CSV exactly as
``spacebetween score`` does (``id`` and item columns) and writes a Bundle of type collection holding, per
row, a QuestionnaireResponse and its score Observations. ``import`` reads such a Bundle, or one
QuestionnaireResponse, scores the answers again and writes the same table as ``spacebetween score``; an
Observation in the bundle that disagrees with the score of its own answers is refused.

Bad input stops with a message naming the file and the field (``Bundle.entry[3].resource.item[0].linkId``)
or the CSV row and column, exit status 2, and no output.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spacebetween import clock
from spacebetween.core import fhir
from spacebetween.core import instruments as catalogue
from spacebetween.core.instruments import InstrumentDefinitionError, UnknownInstrumentError
from spacebetween.core.scoring import Incomplete, ScoringError, score_table
from spacebetween.research.score import read_answers, score_answers, write_scores
from spacebetween.research.tabular import EXIT_USAGE, UsageError, emit, fail

BAD_DATETIME = (
    "--authored: {value!r} is not an ISO 8601 date-time with a time zone (e.g. 2024-05-01T09:30:00Z)"
)
NO_RESPONSES = "{path}: no QuestionnaireResponse to import"
MIXED_INSTRUMENTS = (
    "{field}.questionnaire: {found} differs from {first} in {first_field}; import one at a time"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spacebetween fhir",
        description="Export and import FHIR R4 Questionnaires, responses and scores.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p_q = sub.add_parser("questionnaire", help="an instrument definition as a FHIR Questionnaire")
    p_q.add_argument("instrument", metavar="ID")

    p_r = sub.add_parser("responses", help="a CSV of answers as a Bundle of responses and score Observations")
    p_r.add_argument("instrument", metavar="ID")
    p_r.add_argument("file", metavar="FILE.csv")
    p_r.add_argument(
        "--authored",
        metavar="DATETIME",
        help="when the answers were given, ISO 8601 with a time zone (default: now, UTC)",
    )
    p_r.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="export a scale that cannot be scored with a dataAbsentReason instead of stopping",
    )

    p_i = sub.add_parser("import", help="a Bundle or QuestionnaireResponse as a scores table")
    p_i.add_argument("file", metavar="FILE.json")
    p_i.add_argument("--format", choices=("csv", "json"), default="csv")
    p_i.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="leave a scale blank (n_missing says why) instead of stopping when too many answers are missing",
    )

    for p in (p_q, p_r, p_i):
        p.add_argument("--output", metavar="FILE", help="write here (atomically) instead of stdout")
        p.add_argument(
            "--include-licensed", action="store_true", help="allow an instrument of the licensed pack"
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse has already printed usage
        return int(exc.code or 0) and EXIT_USAGE
    try:
        if args.command == "questionnaire":
            instrument = catalogue.get(args.instrument, include_licensed=args.include_licensed)
            emit(_json(fhir.questionnaire_resource(instrument)), args.output)
        elif args.command == "responses":
            emit(_json(_responses_bundle(args)), args.output)
        else:
            _import(args)
    except (UnknownInstrumentError, InstrumentDefinitionError, UsageError) as exc:
        return fail(str(exc))
    return 0


def _json(resource: dict[str, Any]) -> str:
    return json.dumps(resource, indent=2, ensure_ascii=False) + "\n"


def _authored(value: str | None) -> dt.datetime:
    if value is None:
        return clock.now().replace(microsecond=0)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise UsageError(BAD_DATETIME.format(value=value))
    return parsed


def _responses_bundle(args: argparse.Namespace) -> dict[str, Any]:
    instrument = catalogue.get(args.instrument, include_licensed=args.include_licensed)
    authored = _authored(args.authored)
    data = read_answers(instrument, args.file)
    # Scoring first checks every value against the answer options and names the CSV row and column.
    table = score_answers(instrument, data, allow_incomplete=args.allow_incomplete)
    resources: list[dict[str, Any]] = []
    values = data.answers.tolist()
    for row, response_id in enumerate(data.ids):
        answers = {
            item_id: None if math.isnan(v) else v
            for item_id, v in zip(instrument.item_ids, values[row], strict=True)
        }
        try:
            resources.append(
                fhir.questionnaire_response(instrument, answers, response_id=response_id, authored=authored)
            )
            resources += fhir.score_observations(
                instrument, table.response(row), response_id=response_id, effective=authored
            )
        except fhir.FhirError as exc:
            raise UsageError(f"{args.file}: row {row + 2}: {exc}") from exc
    return fhir.collection_bundle(resources, validate_resources=False)  # each validated when built


def _import(args: argparse.Namespace) -> None:
    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise UsageError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    try:
        parsed = fhir.parse_bundle(text, include_licensed=args.include_licensed)
    except fhir.FhirError as exc:
        raise UsageError(f"{path}: {exc}") from exc
    if not parsed.responses:
        raise UsageError(NO_RESPONSES.format(path=path))
    first = parsed.responses[0]
    instrument = first.instrument
    for response in parsed.responses[1:]:
        if response.instrument.id != instrument.id:
            raise UsageError(
                f"{path}: "
                + MIXED_INSTRUMENTS.format(
                    field=parsed.response_fields[response.response_id],
                    found=fhir.canonical(response.instrument),
                    first=fhir.canonical(instrument),
                    first_field=parsed.response_fields[first.response_id],
                )
            )
    ids = [r.response_id for r in parsed.responses]
    answers = np.array(
        [
            [math.nan if r.answers[i] is None else r.answers[i] for i in instrument.item_ids]
            for r in parsed.responses
        ],
        dtype=np.float64,
    )
    incomplete: Incomplete = "nan" if args.allow_incomplete else "raise"
    try:
        table = score_table(instrument, answers, ids, incomplete=incomplete)
    except ScoringError as exc:
        hint = "" if exc.scale is None else " (use --allow-incomplete to leave such scores blank)"
        raise UsageError(f"{path}: {parsed.response_fields[exc.respondent_id]}: {exc}{hint}") from exc
    row_of = {rid: row for row, rid in enumerate(ids)}
    try:
        fhir.check_observed_scores(parsed, {rid: table.response(row_of[rid]) for rid in parsed.observed})
    except fhir.FhirError as exc:
        raise UsageError(f"{path}: {exc}") from exc
    for kind, count in sorted(parsed.ignored.items()):
        sys.stderr.write(f"spacebetween: {path}: ignored {count} {kind} entr{'y' if count == 1 else 'ies'}\n")
    write_scores(table, args.format, args.output)
