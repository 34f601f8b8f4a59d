"""Instrument definitions: load, validate, list and look up.

A definition is data (docs/instrument-definitions.md): a FHIR R4 Questionnaire with verbatim item text
plus a scoring section. Every file passes two gates before anything scores with it:

1. the JSON Schema in ``spacebetween/instruments/schema.json`` (shape and types), then
2. the cross-field checks below (scale items exist and are choice items, reverse items belong to their
   scale, the declared range is the one the items can produce, bands are contiguous and cover it, ...).

A broken file is refused with an `InstrumentDefinitionError` naming the file, the field (as a JSON
pointer, RFC 6901) and the problem. This module is framework-free: the web app, the API, the command line
and a notebook all read instruments through it.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

import jsonschema
from jsonschema.exceptions import ValidationError

INSTRUMENTS_DIR = Path(__file__).resolve().parent.parent / "instruments"
SCHEMA_PATH = INSTRUMENTS_DIR / "schema.json"
CORE_DIR = INSTRUMENTS_DIR / "core"
LICENSED_DIR = INSTRUMENTS_DIR / "licensed"

# FHIR R4 core extension carrying an answer option's numeric score (docs/instrument-definitions.md).
ORDINAL_VALUE_URL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
LOINC_SYSTEM = "http://loinc.org"

# Licence classes of docs/instrument-definitions.md: only A and B may ship in the free core pack.
CORE_LICENCE_CLASSES = frozenset({"A", "B"})

Operator = Literal[">", ">=", "<", "<=", "=="]
Pack = Literal["core", "licensed"]


class InstrumentDefinitionError(ValueError):
    """A definition file that cannot be used; names the file, the JSON pointer and the problem."""

    def __init__(self, file: str | Path, pointer: str, problem: str) -> None:
        self.file = str(file)
        self.pointer = pointer or "/"
        self.problem = problem
        super().__init__(f"{self.file}: {self.pointer}: {problem}")


class UnknownInstrumentError(KeyError):
    """No instrument with that id in the registry that was asked."""

    def __init__(self, instrument_id: str, message: str) -> None:
        self.instrument_id = instrument_id
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


class AnswerOption(NamedTuple):
    """One answer option: its score, its code (LOINC LA code where one exists) and its wording."""

    value: int | float
    code: str
    display: str


@dataclass(frozen=True)
class Item:
    """An answerable (FHIR "choice") question, in questionnaire order."""

    id: str
    text: str
    options: tuple[AnswerOption, ...]
    code: str | None = None
    code_system: str | None = None
    required: bool = False
    scored: bool = True

    @property
    def values(self) -> tuple[int | float, ...]:
        return tuple(o.value for o in self.options)

    @property
    def min(self) -> int | float:
        return min(self.values)

    @property
    def max(self) -> int | float:
        return max(self.values)

    def option_for(self, value: float) -> AnswerOption | None:
        for option in self.options:
            if option.value == value:
                return option
        return None


@dataclass(frozen=True)
class Band:
    min: float
    max: float
    label: str
    source: str | None = None


OPERATOR_SIGNS: dict[str, str] = {">": ">", ">=": "≥", "<": "<", "<=": "≤", "==": "="}


@dataclass(frozen=True)
class Cutoff:
    cutoff: float
    operator: Operator
    source: str
    label: str | None = None
    cited_as: str | None = None  # the source as a page names it, e.g. "Spitzer et al. 2006"
    purposes: tuple[str, ...] = ()  # what it is used for, e.g. ("screening",), ("nhs_talking_therapies",)

    def describe(self) -> str:
        """Which cut-off, in words, e.g. "probable generalized anxiety disorder, ≥10 (Spitzer et al.
        2006)"."""
        text = f"{self.label or 'caseness'}, {OPERATOR_SIGNS[self.operator]}{_num(self.cutoff)}"
        return f"{text} ({self.cited_as})" if self.cited_as else text


@dataclass(frozen=True)
class Caseness(Cutoff):
    # Other published thresholds (e.g. NHS Talking Therapies' GAD-7 >= 8); the primary one scores.
    alternatives: tuple[Cutoff, ...] = ()

    def for_purpose(self, purpose: str) -> Cutoff | None:
        """The one cut-off of this scale (primary or alternative) used for `purpose`, or None."""
        return next((c for c in (self, *self.alternatives) if purpose in c.purposes), None)


@dataclass(frozen=True)
class MissingRule:
    max_missing: int
    prorate: bool
    source: str
    rounding: Literal["none", "nearest_integer"] = "none"


@dataclass(frozen=True)
class ReliableChange:
    rci: float | None
    reliability: float | None
    sd: float | None
    source: str


@dataclass(frozen=True)
class ClinicalSignificance:
    clinical_mean: float | None
    clinical_sd: float | None
    functional_mean: float | None
    functional_sd: float | None
    source: str


@dataclass(frozen=True)
class MinimalImportantDifference:
    value: float
    source: str


@dataclass(frozen=True)
class Recode:
    """A scale's recoding of one item: the value the scale scores for each raw answer value.

    Applied to the answer before anything else (reverse keying, summing); an item is never both recoded
    and reverse-keyed in one scale (the loader refuses it). The same item may be recoded differently in
    another scale, or not at all (e.g. the RFQ-8 certainty and uncertainty scales).
    """

    item: str
    pairs: tuple[tuple[float, float], ...]  # (raw answer value, scored value), one per answer option
    source: str

    @property
    def scored_values(self) -> tuple[float, ...]:
        return tuple(scored for _, scored in self.pairs)

    def scored(self, raw: float) -> float:
        for value, scored in self.pairs:
            if value == raw:
                return scored
        raise KeyError(f"{self.item}: {raw!r} is not an answer option")


@dataclass(frozen=True)
class Scale:
    id: str
    title: str
    items: tuple[str, ...]
    reverse: tuple[str, ...]
    method: Literal["sum", "mean"]
    missing: MissingRule
    range: tuple[float, float]
    direction: Literal["lower_is_better", "higher_is_better"]
    bands: tuple[Band, ...]
    bands_source: str | None = None
    multiply: float | None = None
    caseness: Caseness | None = None
    reliable_change: ReliableChange | None = None
    clinical_significance: ClinicalSignificance | None = None
    mid: MinimalImportantDifference | None = None
    loinc: str | None = None
    recode: tuple[Recode, ...] = ()

    def recode_for(self, item_id: str) -> Recode | None:
        """This scale's recoding of ``item_id``, or None when the scale scores the answer as given."""
        for rc in self.recode:
            if rc.item == item_id:
                return rc
        return None


@dataclass(frozen=True)
class RiskRule:
    """A safety item: when the answer meets the rule a clinician must be alerted, whatever the total."""

    id: str
    item: str
    operator: Operator
    value: float
    label: str
    source: str


@dataclass(frozen=True)
class Licence:
    licence_class: Literal["A", "B", "C", "D"]
    name: str
    statement: str
    url: str | None = None
    terms: str | None = None
    # Whether the terms ask for the copyright holder's permission before clinical use in a practice;
    # a definition that does not say is taken to need it (the admin then confirms it is held).
    needs_permission: bool = True


@dataclass(frozen=True)
class Citation:
    key: str
    text: str
    doi: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Instrument:
    id: str
    version: str
    language: str
    title: str
    construct: str
    pack: Pack
    respondent: Literal["client", "therapist"]
    licence: Licence
    citations: tuple[Citation, ...]
    items: tuple[Item, ...]
    scales: tuple[Scale, ...]
    risk_rules: tuple[RiskRule, ...]
    instructions: tuple[str, ...] = ()
    path: Path | None = None
    # The parsed file (questionnaire included) for exporters; read-only view, not part of equality.
    definition: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Every answerable item in questionnaire order: the column order `scoring.score_table` expects."""
        return tuple(i.id for i in self.items)

    @property
    def scored_item_ids(self) -> tuple[str, ...]:
        """Items that feed a scale or a risk rule (excludes e.g. the PHQ-9 difficulty question)."""
        return tuple(i.id for i in self.items if i.scored)

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(f"{self.id}: no item {item_id!r}")

    def scale(self, scale_id: str) -> Scale:
        for sc in self.scales:
            if sc.id == scale_id:
                return sc
        raise KeyError(f"{self.id}: no scale {scale_id!r}")


# --------------------------------------------------------------------------------------------- loading


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _pointer(parts: Iterable[str | int]) -> str:
    # RFC 6901 escaping: "~" -> "~0", "/" -> "~1".
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _schema_problem(error: ValidationError) -> str:
    if error.validator == "additionalProperties":
        return f"unknown field ({error.message})"
    return error.message


def validate_document(doc: Any, file: str | Path = "<definition>") -> None:
    """Raise `InstrumentDefinitionError` for the first schema violation (in document order)."""
    errors = sorted(
        _validator().iter_errors(doc), key=lambda e: (len(e.absolute_path), _pointer(e.absolute_path))
    )
    if not errors:
        return
    # Prefer the most specific error along the first failing path: it names the field a person must fix.
    first = errors[0]
    deepest = max(
        (e for e in errors if _pointer(e.absolute_path).startswith(_pointer(first.absolute_path))),
        key=lambda e: len(e.absolute_path),
    )
    best = jsonschema.exceptions.best_match([deepest]) or deepest
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    raise InstrumentDefinitionError(file, _pointer(best.absolute_path), _schema_problem(best) + more)


def load_definition(path: str | Path) -> Instrument:
    """Read, validate and build one definition file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InstrumentDefinitionError(p, "/", "no such file") from exc
    except UnicodeDecodeError as exc:
        raise InstrumentDefinitionError(p, "/", f"not UTF-8 text ({exc.reason})") from exc
    try:
        doc = json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKeyError as exc:
        raise InstrumentDefinitionError(
            p, "/", f"key {exc.key!r} appears twice in one JSON object; only the last would be kept"
        ) from exc
    except json.JSONDecodeError as exc:
        raise InstrumentDefinitionError(
            p, "/", f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from exc
    return build_instrument(doc, p)


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(key)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of repeated keys; in a definition (e.g. a recode map {"1": 3, "1": 0})
    # that would silently change a score, so a repeat is refused.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


def build_instrument(doc: Any, file: str | Path = "<definition>") -> Instrument:
    """Validate an already parsed definition (schema, then cross-field checks) and build it."""
    validate_document(doc, file)
    return _Builder(doc, Path(file)).build()


class _Builder:
    """Cross-field checks; each failure names the JSON pointer of the offending field."""

    def __init__(self, doc: dict[str, Any], file: Path) -> None:
        self.doc = doc
        self.file = file

    def fail(self, pointer: str, problem: str) -> InstrumentDefinitionError:
        return InstrumentDefinitionError(self.file, pointer, problem)

    def build(self) -> Instrument:
        doc = self.doc
        items, instructions = self._items()
        by_id = {it.id: it for it in items}
        scales = tuple(self._scale(i, s, by_id) for i, s in enumerate(doc["scoring"]["scales"]))
        seen: dict[str, int] = {}
        for i, sc in enumerate(scales):
            if sc.id in seen:
                raise self.fail(f"/scoring/scales/{i}/id", f"scale id {sc.id!r} repeats scale {seen[sc.id]}")
            seen[sc.id] = i
        risks = self._risks(by_id)
        used = {i for sc in scales for i in sc.items} | {r.item for r in risks}
        marked = tuple(
            Item(it.id, it.text, it.options, it.code, it.code_system, it.required, scored=it.id in used)
            for it in items
        )
        licence = self._licence()
        return Instrument(
            id=doc["id"],
            version=doc["version"],
            language=doc["language"],
            title=doc["title"],
            construct=doc["construct"],
            pack=doc["pack"],
            respondent=doc["respondent"],
            licence=licence,
            citations=tuple(
                Citation(c["key"], c["text"], c.get("doi"), c.get("url")) for c in doc["citations"]
            ),
            items=marked,
            scales=scales,
            risk_rules=risks,
            instructions=tuple(instructions),
            path=self.file,
            definition=MappingProxyType(doc),
        )

    def _licence(self) -> Licence:
        lic = self.doc["licence"]
        terms = lic.get("terms")
        if self.doc["pack"] == "licensed" and not (terms or "").strip():
            raise self.fail(
                "/licence/terms", "a licensed-pack instrument needs the terms a practice admin accepts"
            )
        if self.doc["pack"] == "core" and lic["class"] not in CORE_LICENCE_CLASSES:
            raise self.fail(
                "/licence/class",
                f"licence class {lic['class']} may not ship in the core pack (only A or B); "
                "use pack 'licensed'",
            )
        keys = [c["key"] for c in self.doc["citations"]]
        for i, key in enumerate(keys):
            if keys.index(key) != i:
                raise self.fail(f"/citations/{i}/key", f"citation key {key!r} repeats")
        return Licence(
            lic["class"],
            lic["name"],
            lic["statement"],
            lic.get("url"),
            terms,
            lic.get("needs_permission", True),
        )

    def _walk(self, nodes: list[dict[str, Any]], base: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for i, node in enumerate(nodes):
            pointer = f"{base}/{i}"
            yield pointer, node
            if "item" in node:
                if node["type"] != "group":
                    raise self.fail(f"{pointer}/item", "only group items may contain items")
                yield from self._walk(node["item"], f"{pointer}/item")

    def _items(self) -> tuple[list[Item], list[str]]:
        items: list[Item] = []
        instructions: list[str] = []
        link_ids: dict[str, str] = {}
        for pointer, node in self._walk(self.doc["questionnaire"]["item"], "/questionnaire/item"):
            link_id = node["linkId"]
            if link_id in link_ids:
                raise self.fail(f"{pointer}/linkId", f"linkId {link_id!r} repeats {link_ids[link_id]}")
            link_ids[link_id] = pointer
            if node["type"] == "display":
                instructions.append(node["text"])
            elif node["type"] == "choice":
                items.append(self._item(pointer, node))
        if not items:
            raise self.fail("/questionnaire/item", "the questionnaire has no choice items")
        return items, instructions

    def _item(self, pointer: str, node: dict[str, Any]) -> Item:
        options: list[AnswerOption] = []
        for j, opt in enumerate(node["answerOption"]):
            value = self._ordinal(f"{pointer}/answerOption/{j}", opt)
            coding = opt["valueCoding"]
            for prev in options:
                if prev.value == value:
                    raise self.fail(
                        f"{pointer}/answerOption/{j}", f"ordinalValue {value} repeats option {prev.display!r}"
                    )
                if prev.code == coding["code"]:
                    raise self.fail(
                        f"{pointer}/answerOption/{j}/valueCoding/code", f"code {prev.code!r} repeats"
                    )
            options.append(AnswerOption(value, coding["code"], coding["display"]))
        codes = node.get("code") or []
        code = codes[0] if codes else None
        return Item(
            id=node["linkId"],
            text=node["text"],
            options=tuple(options),
            code=code["code"] if code else None,
            code_system=code.get("system") if code else None,
            required=bool(node.get("required", False)),
        )

    def _ordinal(self, pointer: str, opt: dict[str, Any]) -> int | float:
        # FHIR R4 allows ordinalValue on the answerOption or on its Coding; accept either, never disagreeing.
        found: list[tuple[str, Any]] = []
        for where, exts in (
            ("extension", opt.get("extension")),
            ("valueCoding/extension", opt["valueCoding"].get("extension")),
        ):
            for k, ext in enumerate(exts or []):
                if ext.get("url") == ORDINAL_VALUE_URL:
                    found.append((f"{pointer}/{where}/{k}/valueDecimal", ext.get("valueDecimal")))
        if not found:
            raise self.fail(pointer, f"answer option has no ordinalValue extension ({ORDINAL_VALUE_URL})")
        values = {v for _, v in found}
        if len(values) > 1:
            raise self.fail(found[1][0], f"ordinalValue {found[1][1]} disagrees with {found[0][1]}")
        where, value = found[0]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(where, f"ordinalValue must be a finite number, not {value!r}")
        return int(value) if float(value).is_integer() else float(value)

    def _scale(self, index: int, raw: dict[str, Any], by_id: Mapping[str, Item]) -> Scale:
        base = f"/scoring/scales/{index}"
        items = tuple(raw["items"])
        for j, item_id in enumerate(items):
            if item_id not in by_id:
                raise self.fail(
                    f"{base}/items/{j}", f"item {item_id!r} is not a choice item of the questionnaire"
                )
            if items.index(item_id) != j:
                raise self.fail(f"{base}/items/{j}", f"item {item_id!r} is listed twice")
        reverse = tuple(raw["reverse"])
        for j, item_id in enumerate(reverse):
            if item_id not in items:
                raise self.fail(
                    f"{base}/reverse/{j}", f"reverse-keyed item {item_id!r} is not in this scale's items"
                )
            if reverse.index(item_id) != j:
                raise self.fail(f"{base}/reverse/{j}", f"item {item_id!r} is listed twice")
        recode = self._recode(base, raw.get("recode") or [], items, reverse, by_id)
        # What each item contributes: its recoded values where the scale recodes it, else its option values
        # (reverse keying maps [min, max] onto itself, so it never changes these bounds).
        recoded = {rc.item: rc for rc in recode}
        scored_values = [
            recoded[i].scored_values if i in recoded else tuple(map(float, by_id[i].values)) for i in items
        ]

        m = raw["missing"]
        missing = MissingRule(m["max_missing"], m["prorate"], m["source"], m.get("rounding", "none"))
        if missing.max_missing >= len(items):
            raise self.fail(
                f"{base}/missing/max_missing",
                f"{missing.max_missing} missing of {len(items)} items leaves nothing to score",
            )
        if raw["method"] == "sum" and missing.max_missing > 0 and not missing.prorate:
            # A sum over fewer items is not on the scale's metric; bands and norms would not apply.
            raise self.fail(f"{base}/missing/prorate", "a sum scale that allows missing items must prorate")

        transform = raw.get("transform")
        multiply = float(transform["multiply"]) if transform else None
        lo, hi = self._expected_range(raw["method"], scored_values, multiply)
        declared = (float(raw["range"][0]), float(raw["range"][1]))
        if not (math.isclose(declared[0], lo, abs_tol=1e-9) and math.isclose(declared[1], hi, abs_tol=1e-9)):
            raise self.fail(
                f"{base}/range",
                f"range {list(raw['range'])} differs from what the items give: [{_num(lo)}, {_num(hi)}]",
            )

        bands = tuple(Band(b["min"], b["max"], b["label"], b.get("source")) for b in raw["bands"])
        self._check_bands(base, bands, declared, self._step(raw["method"], scored_values, missing, multiply))
        bands_source = raw.get("bands_source")
        if bands and not bands_source and not all(b.source for b in bands):
            raise self.fail(
                f"{base}/bands_source", "bands need a source (bands_source, or a source on every band)"
            )

        caseness = None
        if raw.get("caseness"):
            c = raw["caseness"]
            alternatives = tuple(
                Cutoff(
                    a["cutoff"],
                    a["operator"],
                    a["source"],
                    a.get("label"),
                    a.get("cited_as"),
                    tuple(a.get("purposes", ())),
                )
                for a in c.get("alternatives", [])
            )
            caseness = Caseness(
                c["cutoff"],
                c["operator"],
                c["source"],
                c.get("label"),
                c.get("cited_as"),
                tuple(c.get("purposes", ())),
                alternatives=alternatives,
            )
            purposes_seen: set[str] = set()
            for j, cut in enumerate((caseness, *alternatives)):
                where = f"{base}/caseness" if j == 0 else f"{base}/caseness/alternatives/{j - 1}"
                if purposes_seen & set(cut.purposes):
                    raise self.fail(
                        f"{where}/purposes",
                        f"purpose {sorted(purposes_seen & set(cut.purposes))[0]!r} already has a cut-off: "
                        "one cut-off per purpose",
                    )
                purposes_seen |= set(cut.purposes)
                if not lo <= cut.cutoff <= hi:
                    raise self.fail(
                        f"{where}/cutoff",
                        f"cut-off {_num(cut.cutoff)} is outside the range [{_num(lo)}, {_num(hi)}]",
                    )

        rc = None
        if raw.get("reliable_change"):
            r = raw["reliable_change"]
            rc = ReliableChange(r.get("rci"), r.get("reliability"), r.get("sd"), r["source"])
            # The change module needs a published threshold or the Jacobson & Truax (1991) inputs.
            if rc.rci is None and (rc.reliability is None or rc.sd is None):
                raise self.fail(f"{base}/reliable_change", "give either rci or both reliability and sd")
        cs = None
        if raw.get("clinical_significance"):
            c = raw["clinical_significance"]
            cs = ClinicalSignificance(
                c.get("clinical_mean"),
                c.get("clinical_sd"),
                c.get("functional_mean"),
                c.get("functional_sd"),
                c["source"],
            )
            for name in ("clinical", "functional"):
                if (getattr(cs, f"{name}_mean") is None) != (getattr(cs, f"{name}_sd") is None):
                    raise self.fail(f"{base}/clinical_significance", f"{name}_mean and {name}_sd go together")
        mid = (
            MinimalImportantDifference(raw["mid"]["value"], raw["mid"]["source"]) if raw.get("mid") else None
        )
        return Scale(
            id=raw["id"],
            title=raw["title"],
            items=items,
            reverse=reverse,
            method=raw["method"],
            missing=missing,
            range=declared,
            direction=raw["direction"],
            bands=bands,
            bands_source=bands_source,
            multiply=multiply,
            caseness=caseness,
            reliable_change=rc,
            clinical_significance=cs,
            mid=mid,
            loinc=raw.get("loinc"),
            recode=recode,
        )

    def _recode(
        self,
        base: str,
        rules: Sequence[dict[str, Any]],
        items: Sequence[str],
        reverse: Sequence[str],
        by_id: Mapping[str, Item],
    ) -> tuple[Recode, ...]:
        """Check a scale's ``recode`` rules and expand them to one `Recode` per item.

        Every key of a rule's map must be an answer option of every item the rule lists, and every option
        must have a key: an answer with no scored value would otherwise be scored as something nobody wrote.
        """
        out: list[Recode] = []
        recoded_at: dict[str, str] = {}
        for k, rule in enumerate(rules):
            rbase = f"{base}/recode/{k}"
            mapping: dict[float, float] = {}
            key_of: dict[float, str] = {}
            for key, scored in rule["map"].items():
                where = f"{rbase}/map{_pointer([key])}"
                value = float(key)
                if value in mapping:
                    raise self.fail(where, f"raw value {key!r} repeats {key_of[value]!r}")
                if isinstance(scored, bool) or not math.isfinite(scored):
                    raise self.fail(where, f"scored value must be a finite number, not {scored!r}")
                mapping[value] = float(scored)
                key_of[value] = key
            for j, item_id in enumerate(rule["items"]):
                where = f"{rbase}/items/{j}"
                if item_id not in items:
                    raise self.fail(where, f"recoded item {item_id!r} is not in this scale's items")
                if item_id in recoded_at:
                    raise self.fail(where, f"item {item_id!r} is already recoded at {recoded_at[item_id]}")
                if item_id in reverse:
                    raise self.fail(
                        where,
                        f"item {item_id!r} is both recoded and reverse-keyed in this scale; "
                        "write the reversal into the recode map and remove it from reverse",
                    )
                item = by_id[item_id]
                options = ", ".join(_num(v) for v in item.values)
                for value, key in key_of.items():
                    if item.option_for(value) is None:
                        raise self.fail(
                            f"{rbase}/map{_pointer([key])}",
                            f"raw value {key} is not an answer option of {item_id} (options: {options})",
                        )
                unmapped = [_num(v) for v in item.values if float(v) not in mapping]
                if unmapped:
                    raise self.fail(
                        f"{rbase}/map",
                        f"no scored value for answer option(s) {', '.join(unmapped)} of {item_id}",
                    )
                recoded_at[item_id] = where
                out.append(
                    Recode(item_id, tuple((float(v), mapping[float(v)]) for v in item.values), rule["source"])
                )
        return tuple(out)

    @staticmethod
    def _expected_range(
        method: str, scored_values: Sequence[Sequence[float]], multiply: float | None
    ) -> tuple[float, float]:
        # Per item: the values it can contribute (recoded where the scale recodes it).
        lo = sum(min(values) for values in scored_values)
        hi = sum(max(values) for values in scored_values)
        if method == "mean":
            lo, hi = lo / len(scored_values), hi / len(scored_values)
        factor = multiply or 1.0
        return lo * factor, hi * factor

    @staticmethod
    def _step(
        method: str, scored_values: Sequence[Sequence[float]], missing: MissingRule, multiply: float | None
    ) -> float:
        """Largest gap allowed between one band's max and the next band's min.

        Integer-valued sums (prorated ones rounded to integers) only take integer values, so bands such
        as 0-4, 5-9 leave no score uncovered. Means and unrounded prorated sums are continuous; their
        bands are written to two decimals (e.g. BRS 2.99 / 3.00, Smith et al. 2013), and scoring assigns
        a score to the last band whose min it reaches, so no score falls between bands.
        """
        integer_items = all(float(v).is_integer() for values in scored_values for v in values)
        integer_scores = (
            method == "sum"
            and integer_items
            and (missing.max_missing == 0 or missing.rounding == "nearest_integer")
        )
        step = 1.0 if integer_scores else 0.01
        return step * (multiply or 1.0)

    def _check_bands(self, base: str, bands: Sequence[Band], rng: tuple[float, float], step: float) -> None:
        if not bands:
            return
        for j, band in enumerate(bands):
            if band.min > band.max:
                raise self.fail(
                    f"{base}/bands/{j}",
                    f"band {band.label!r} has min {_num(band.min)} above max {_num(band.max)}",
                )
        if not math.isclose(bands[0].min, rng[0], abs_tol=1e-9):
            raise self.fail(
                f"{base}/bands/0/min",
                f"the first band starts at {_num(bands[0].min)}, the range at {_num(rng[0])}",
            )
        last = len(bands) - 1
        if not math.isclose(bands[last].max, rng[1], abs_tol=1e-9):
            raise self.fail(
                f"{base}/bands/{last}/max",
                f"the last band ends at {_num(bands[last].max)}, the range at {_num(rng[1])}",
            )
        for j in range(1, len(bands)):
            gap = bands[j].min - bands[j - 1].max
            if gap <= 0:
                raise self.fail(
                    f"{base}/bands/{j}/min", f"band {bands[j].label!r} overlaps band {bands[j - 1].label!r}"
                )
            if gap > step + 1e-9:
                raise self.fail(
                    f"{base}/bands/{j}/min",
                    f"gap between {_num(bands[j - 1].max)} and {_num(bands[j].min)}: "
                    "scores there would have no band",
                )

    def _risks(self, by_id: Mapping[str, Item]) -> tuple[RiskRule, ...]:
        rules: list[RiskRule] = []
        for j, r in enumerate(self.doc["scoring"]["risk_items"]):
            base = f"/scoring/risk_items/{j}"
            item = by_id.get(r["item"])
            if item is None:
                raise self.fail(
                    f"{base}/item", f"item {r['item']!r} is not a choice item of the questionnaire"
                )
            rule = RiskRule(
                r.get("id", r["item"]), r["item"], r["operator"], r["value"], r["label"], r["source"]
            )
            if any(prev.id == rule.id for prev in rules):
                raise self.fail(
                    f"{base}/id", f"risk rule id {rule.id!r} repeats; give each rule on one item its own id"
                )
            fires = [v for v in item.values if compare(rule.operator, float(v), float(rule.value))]
            if not fires:
                raise self.fail(
                    f"{base}/value", f"no answer option of {item.id} meets {rule.operator} {_num(rule.value)}"
                )
            if len(fires) == len(item.values):
                raise self.fail(
                    f"{base}/value",
                    f"every answer option of {item.id} meets {rule.operator} {_num(rule.value)}",
                )
            rules.append(rule)
        return tuple(rules)


def compare(operator: str, left: Any, right: Any) -> Any:
    """Apply a definition's comparison operator; works on floats and numpy arrays alike."""
    if operator == ">":
        return left > right
    if operator == ">=":
        return left >= right
    if operator == "<":
        return left < right
    if operator == "<=":
        return left <= right
    if operator == "==":
        return left == right
    raise ValueError(f"unknown operator {operator!r}")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


# -------------------------------------------------------------------------------------------- registry


def _definition_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.json")) if directory.is_dir() else []


@functools.lru_cache(maxsize=16)
def _registry(include_licensed: bool, extra_paths: tuple[str, ...]) -> Mapping[str, Instrument]:
    found: dict[str, Instrument] = {}
    sources: list[tuple[Path, Pack | None]] = [(p, "core") for p in _definition_files(CORE_DIR)]
    if include_licensed:
        sources += [(p, "licensed") for p in _definition_files(LICENSED_DIR)]
    sources += [(Path(p), None) for p in extra_paths]
    for path, pack in sources:
        inst = load_definition(path)
        if pack is not None and inst.pack != pack:
            raise InstrumentDefinitionError(
                path, "/pack", f"pack {inst.pack!r} but the file is in the {pack} folder"
            )
        if inst.id in found:
            other = found[inst.id].path
            raise InstrumentDefinitionError(
                path, "/id", f"instrument id {inst.id!r} is already defined in {other}"
            )
        found[inst.id] = inst
    return MappingProxyType(found)


def registry(
    include_licensed: bool = False, extra_paths: Iterable[str | Path] = ()
) -> Mapping[str, Instrument]:
    """All instruments by id: the core pack, plus the licensed pack when a practice has enabled it.

    `extra_paths` are further definition files (a practice's own licensed instrument); they are always
    included because the caller named them. Results are cached per argument set; `clear_cache()` after
    editing files in a long-running process.
    """
    return _registry(include_licensed, tuple(str(Path(p).resolve()) for p in extra_paths))


def get(
    instrument_id: str, include_licensed: bool = False, extra_paths: Iterable[str | Path] = ()
) -> Instrument:
    reg = registry(include_licensed, extra_paths)
    if instrument_id in reg:
        return reg[instrument_id]
    if not include_licensed and instrument_id in registry(True, extra_paths):
        raise UnknownInstrumentError(
            instrument_id,
            f"instrument {instrument_id!r} is in the licensed pack; enable it (--include-licensed) "
            "after accepting its licence terms",
        )
    known = ", ".join(sorted(reg)) or "none"
    raise UnknownInstrumentError(instrument_id, f"no instrument {instrument_id!r} (known: {known})")


def clear_cache() -> None:
    _registry.cache_clear()
