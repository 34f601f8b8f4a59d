"""The exercises a therapist can assign and the psychoeducation pages they can share: data files in
`data/` (the project's own wording; sources in docs/between-sessions.md), read once and checked."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
# What a question can take: free text, a feeling from the list, a 0-100 or 0-10 scale, one option
# from a list the exercise gives, minutes practised (a timed exercise).
FIELD_KINDS = {"text", "feeling", "intensity", "scale10", "choice", "minutes"}
MAX_TEXT = 2000
MAX_MINUTES = 120
SCALES = {"intensity": (0, 100), "scale10": (0, 10)}


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str  # one of FIELD_KINDS
    required: bool
    options: tuple[str, ...] = ()  # the list a "choice" question offers


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    why: str
    steps: tuple[str, ...]
    fields: tuple[Field, ...]
    minutes: int | None = None  # a suggested length, for a timed practice
    sources: tuple[str, ...] = ()  # the background it rests on (also in docs/between-sessions.md)
    practice_written: bool = False  # written by the practice (exercises.own), not shipped with the project


@dataclass(frozen=True)
class Page:
    id: str
    title: str
    summary: str
    paragraphs: tuple[str, ...]
    sources: tuple[str, ...]
    html: str = ""  # a practice's own page: its Markdown rendered safely (exercises.own_pages)
    practice_written: bool = False


@functools.cache
def _exercise_file() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "exercises.json").read_text(encoding="utf-8"))
    return data


@functools.cache
def feelings() -> tuple[str, ...]:
    return tuple(_exercise_file()["feelings"])


@functools.cache
def exercises() -> dict[str, Exercise]:
    found: dict[str, Exercise] = {}
    for raw in _exercise_file()["exercises"]:
        fields = tuple(Field(f["name"], f["label"], f["kind"], bool(f["required"])) for f in raw["fields"])
        unknown = {f.kind for f in fields} - FIELD_KINDS
        if unknown or len({f.name for f in fields}) != len(fields) or raw["id"] in found:
            raise ValueError(f"exercise {raw['id']!r}: unknown field kinds or repeated names")
        found[raw["id"]] = Exercise(
            raw["id"],
            raw["title"],
            raw["why"],
            tuple(raw["steps"]),
            fields,
            raw.get("minutes"),
            tuple(raw.get("sources", ())),
        )
    return found


@functools.cache
def pages() -> dict[str, Page]:
    raw = json.loads((DATA / "library.json").read_text(encoding="utf-8"))["pages"]
    found = {
        p["id"]: Page(p["id"], p["title"], p["summary"], tuple(p["paragraphs"]), tuple(p["sources"]))
        for p in raw
    }
    if len(found) != len(raw) or any(not p.sources for p in found.values()):
        raise ValueError("library pages need unique ids and at least one source each")
    return found
