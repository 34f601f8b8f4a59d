"""`spacebetween instruments list|show`: what instruments this installation can score.

    spacebetween instruments list [--format csv|json] [--include-licensed]
    spacebetween instruments show ID [--format text|json] [--include-licensed]

Exit status 0 on success, 2 on bad usage or an unknown id (message on stderr, nothing on stdout).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from spacebetween.core import instruments as catalogue
from spacebetween.core.instruments import Instrument, InstrumentDefinitionError, UnknownInstrumentError
from spacebetween.research.tabular import EXIT_USAGE, UsageError, emit, fail, render

LIST_COLUMNS = ("id", "title", "version", "language", "pack", "items", "licence")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spacebetween instruments", description="List and inspect instruments."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser("list", help="one row per instrument")
    p_list.add_argument("--format", choices=("csv", "json"), default="csv")
    p_list.add_argument("--include-licensed", action="store_true", help="include the opt-in licensed pack")
    p_show = sub.add_parser(
        "show", help="items, scales, bands, cut-offs, risk rules and sources of one instrument"
    )
    p_show.add_argument("id")
    p_show.add_argument("--format", choices=("text", "json"), default="text")
    p_show.add_argument(
        "--include-licensed", action="store_true", help="allow an instrument of the licensed pack"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse has already printed usage; keep our exit-status contract
        return int(exc.code or 0) and EXIT_USAGE
    try:
        if args.command == "list":
            return _list(args.format, args.include_licensed)
        return _show(args.id, args.format, args.include_licensed)
    except (UnknownInstrumentError, InstrumentDefinitionError, UsageError) as exc:
        return fail(str(exc))


def list_rows(include_licensed: bool) -> list[dict[str, Any]]:
    return [
        {
            "id": inst.id,
            "title": inst.title,
            "version": inst.version,
            "language": inst.language,
            "pack": inst.pack,
            "items": len(inst.scored_item_ids),
            "licence": inst.licence.licence_class,
        }
        for inst in sorted(catalogue.registry(include_licensed).values(), key=lambda i: i.id)
    ]


def _list(fmt: str, include_licensed: bool) -> int:
    emit(render(list_rows(include_licensed), LIST_COLUMNS, fmt), None)
    return 0


def _show(instrument_id: str, fmt: str, include_licensed: bool) -> int:
    inst = catalogue.get(instrument_id, include_licensed=include_licensed)
    if fmt == "json":
        emit(json.dumps(dict(inst.definition), indent=2, ensure_ascii=False) + "\n", None)
    else:
        emit(describe(inst), None)
    return 0


def _n(x: float | None) -> str:
    if x is None:
        return "-"
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def describe(inst: Instrument) -> str:
    """A plain-text card: enough to check a definition against its paper without reading JSON."""
    lines = [
        f"{inst.title}",
        f"id {inst.id}  version {inst.version}  language {inst.language}  pack {inst.pack}  "
        f"respondent {inst.respondent}  construct {inst.construct}",
        f"licence {inst.licence.licence_class}: {inst.licence.name}",
        f"  {inst.licence.statement}",
    ]
    if inst.licence.terms:
        lines.append(f"  terms: {inst.licence.terms}")
    for text in inst.instructions:
        lines += ["", text]
    lines += ["", "Items"]
    for n, item in enumerate(inst.items, start=1):
        flag = "" if item.scored else "  (not scored)"
        code = f" [{item.code}]" if item.code else ""
        lines.append(f"  {n}. {item.id}{code}: {item.text}{flag}")
        lines.append("     " + " | ".join(f"{_n(o.value)} {o.display}" for o in item.options))
    for sc in inst.scales:
        lines += ["", f"Scale {sc.id}: {sc.title}"]
        method = sc.method + (f" x {_n(sc.multiply)}" if sc.multiply else "")
        lines.append(
            f"  {method} of {', '.join(sc.items)}; range {_n(sc.range[0])}-{_n(sc.range[1])}; {sc.direction}"
        )
        if sc.reverse:
            lines.append(f"  reverse-keyed: {', '.join(sc.reverse)}")
        m = sc.missing
        rule = f"prorated (rounding {m.rounding})" if m.prorate else "not prorated"
        lines.append(f"  missing: at most {m.max_missing}, {rule} — {m.source}")
        if sc.bands:
            lines.append("  bands: " + ", ".join(f"{_n(b.min)}-{_n(b.max)} {b.label}" for b in sc.bands))
            if sc.bands_source:
                lines.append(f"    source: {sc.bands_source}")
        if sc.caseness:
            c = sc.caseness
            lines.append(f"  caseness: score {c.operator} {_n(c.cutoff)} — {c.source}")
            for alt in c.alternatives:
                lines.append(
                    f"    alternative ({alt.label}): score {alt.operator} {_n(alt.cutoff)} — {alt.source}"
                )
        if sc.reliable_change:
            rc = sc.reliable_change
            lines.append(
                f"  reliable change: {_n(rc.rci)} (reliability {_n(rc.reliability)}, SD {_n(rc.sd)}) "
                f"— {rc.source}"
            )
        if sc.clinical_significance:
            cs = sc.clinical_significance
            lines.append(
                f"  norms: clinical M {_n(cs.clinical_mean)} SD {_n(cs.clinical_sd)}; "
                f"functional M {_n(cs.functional_mean)} SD {_n(cs.functional_sd)} — {cs.source}"
            )
        if sc.loinc:
            lines.append(f"  LOINC {sc.loinc}")
    if inst.risk_rules:
        lines += ["", "Risk rules (alert a clinician whatever the score)"]
        for r in inst.risk_rules:
            lines.append(f"  {r.item} {r.operator} {_n(r.value)}: {r.label} — {r.source}")
    lines += ["", "Sources"]
    for cite in inst.citations:
        ref = f" doi:{cite.doi}" if cite.doi else (f" {cite.url}" if cite.url else "")
        lines.append(f"  [{cite.key}] {cite.text}{ref}")
    return "\n".join(lines) + "\n"
