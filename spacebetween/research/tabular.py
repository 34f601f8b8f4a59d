"""CSV input and output shared by the research commands.

Bad input is a `UsageError` naming row and column; the caller exits with status 2 and writes no
output file (outputs are written to a temporary file and renamed only when complete).
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

EXIT_USAGE = 2


class UsageError(Exception):
    """Input the command cannot use; the message names file, row and column where it can."""


def read_csv(path: str | Path) -> tuple[list[str], list[dict[str, str]]]:
    """Read a UTF-8 CSV with a header row; rows are numbered from 2 (the header is row 1) in errors."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{p}: no such file")
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None:
                raise UsageError(f"{p}: the file is empty; expected a header row")
            header = [name.strip() for name in reader.fieldnames]
            if len(set(header)) != len(header):
                dupes = sorted({h for h in header if header.count(h) > 1})
                raise UsageError(f"{p}: duplicate column(s) {', '.join(dupes)}")
            rows = []
            for row in reader:
                if None in row:
                    raise UsageError(f"{p}: row {reader.line_num}: more cells than header columns")
                rows.append({k.strip(): (v or "").strip() for k, v in row.items()})
    except UnicodeDecodeError as exc:
        raise UsageError(f"{p}: not UTF-8 text ({exc.reason})") from exc
    except csv.Error as exc:
        raise UsageError(f"{p}: not a readable CSV ({exc})") from exc
    return header, rows


def require_columns(path: str | Path, header: Sequence[str], required: Iterable[str]) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise UsageError(f"{path}: missing column(s) {', '.join(missing)}")


def unique_id(row: dict[str, str], column: str, *, path: str | Path, line: int, seen: dict[str, int]) -> str:
    """The row's identifier: present, and not already used by an earlier row (`seen` maps id -> row)."""
    ident = row[column]
    if ident == "":
        raise UsageError(f"{path}: row {line}, column {column}: value is missing")
    if ident in seen:
        earlier = seen[ident]
        raise UsageError(f"{path}: row {line}, column {column}: {ident!r} already appears in row {earlier}")
    seen[ident] = line
    return ident


def parse_number(value: str, *, path: str | Path, row: int, column: str, allow_missing: bool) -> float:
    """A numeric cell; an empty cell is NaN where missing values are allowed."""
    if value == "":
        if allow_missing:
            return math.nan
        raise UsageError(f"{path}: row {row}, column {column}: value is missing")
    try:
        number = float(value)
    except ValueError as exc:
        raise UsageError(f"{path}: row {row}, column {column}: {value!r} is not a number") from exc
    if not math.isfinite(number):
        raise UsageError(f"{path}: row {row}, column {column}: {value!r} is not a finite number")
    return number


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return int(value)
        return round(value, 6)
    if value is None:
        return ""
    return value


def render(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str, summary: dict[str, Any] | None = None
) -> str:
    """CSV (one row per record) or JSON (`{"rows": [...], "summary": {...}}`)."""
    if fmt == "json":
        doc: dict[str, Any] = {"rows": [{c: _json_value(r.get(c)) for c in columns} for r in rows]}
        if summary is not None:
            doc["summary"] = summary
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt != "csv":
        raise UsageError(f"--format must be csv or json, not {fmt!r}")
    out = _StringSink()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([_cell(r.get(c)) for c in columns])
    return out.getvalue()


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


class _StringSink:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def getvalue(self) -> str:
        return "".join(self.parts)


def emit(text: str, output: str | None) -> None:
    """Write to stdout, or atomically to a file: it appears complete or not at all."""
    if not output or output == "-":
        sys.stdout.write(text)
        return
    target = Path(output)
    fd, tmp = tempfile.mkstemp(dir=target.parent or Path("."), prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fail(message: str) -> int:
    sys.stderr.write(f"spacebetween: error: {message}\n")
    return EXIT_USAGE
