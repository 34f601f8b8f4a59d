"""FHIR R4 in and out: Questionnaire, QuestionnaireResponse and score Observations (docs/fhir.md).

Out:

- `questionnaire_resource`: the definition's Questionnaire with its canonical ``url`` and ``version``.
- `questionnaire_response`: answers as a QuestionnaireResponse; each answer is the answer option's Coding
  with the ordinalValue extension that carries its score.
- `score_observations`: one Observation per scale and one per risk rule, each derived from the response.
- `collection_bundle`: resources in a Bundle of type collection, references rewritten to the entries.

In: `parse_questionnaire_response`, `parse_observations` and `parse_bundle` refuse anything they cannot
map exactly onto a loaded definition (unknown questionnaire or version, unknown linkId, a code that is not
an answer option, a status that is not final) with a `FhirError` naming the field as a FHIRPath-like
path (``QuestionnaireResponse.item[2].answer[0].valueCoding.code``).

Every resource going out or coming in is constructed with the fhir.resources models of FHIR R4B (4.3.0):
the package has no R4 (4.0.1) models, and R4B left Questionnaire, QuestionnaireResponse, Observation and
Bundle as they were in R4 (https://hl7.org/fhir/R4B/r4b-explanation.html: R4B changed only the
medication-definition, evidence and subscription modules), so what passes here is R4 on the wire.
The models check shape and types (cardinality, choice types, the id pattern, unknown fields); code
values (``status``) and cross-field rules are checked here.

Scoring is never done from FHIR values: imported answers are scored again by `spacebetween.core.scoring`
and any Observations that came with them are compared with that (`check_observed_scores`).
"""

from __future__ import annotations

import copy
import json
import math
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic import ValidationError

from spacebetween.core import instruments as catalogue
from spacebetween.core.instruments import (
    LOINC_SYSTEM,
    ORDINAL_VALUE_URL,
    Instrument,
    InstrumentDefinitionError,
    Scale,
    UnknownInstrumentError,
)
from spacebetween.core.scoring import ResponseScore, ScaleResult

# The FHIR release whose fhir.resources models validate every resource (see the module docstring).
VALIDATION_RELEASE = "R4B (4.3.0)"

# Project-local identifiers (URNs like the answer code systems `urn:spacebetween:codesystem:<id>-answers`
# in the definition files); not registered anywhere, so they never claim to be resolvable.
QUESTIONNAIRE_URL_PREFIX = "urn:spacebetween:questionnaire:"
RESPONSE_ID_SYSTEM = "urn:spacebetween:response-id"
CODESYSTEM_PREFIX = "urn:spacebetween:codesystem:"
SCALES_SUFFIX = "-scales"
RISK_SUFFIX = "-risk"
BANDS_SUFFIX = "-bands"
DETAILS_SYSTEM = CODESYSTEM_PREFIX + "score-details"
DETAIL_CASENESS = "caseness"
DETAIL_ITEMS_MISSING = "items-missing"
DETAIL_PRORATED = "prorated"
_DETAIL_DISPLAY = {
    DETAIL_CASENESS: "At or beyond the scale's primary caseness cut-off",
    DETAIL_ITEMS_MISSING: "Number of the scale's items left unanswered",
    DETAIL_PRORATED: "Score prorated over missing items",
}

# http://hl7.org/fhir/R4/valueset-observation-category.html
OBSERVATION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
# http://hl7.org/fhir/R4/valueset-data-absent-reason.html
DATA_ABSENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
# UCUM annotation for a dimensionless score, as LOINC gives for 44261-6 (https://loinc.org/44261-6).
UCUM_SYSTEM = "http://unitsofmeasure.org"
SCORE_UNIT = "{score}"

# http://hl7.org/fhir/R4/valueset-questionnaire-answers-status.html: only a finished response is scored.
SCORABLE_RESPONSE_STATUSES = ("completed", "amended")
# http://hl7.org/fhir/R4/valueset-observation-status.html: only results that stand.
READABLE_OBSERVATION_STATUSES = ("final", "amended", "corrected")

# http://hl7.org/fhir/R4/datatypes.html#id
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
# Deterministic resource ids (RFC 4122 name-based, SHA-1), so the same input gives the same file.
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:spacebetween:fhir")

# Error messages (tests format these to check exact wording).
NOT_JSON = "not valid JSON: {problem}"
NOT_AN_OBJECT = "a FHIR resource is a JSON object, not {found}"
WRONG_RESOURCE_TYPE = "expected {expected}, not {found!r}"
INVALID_RESOURCE = "not a valid FHIR {resource_type} (fhir.resources " + VALIDATION_RELEASE + "): {problem}"
STATUS_NOT_SCORABLE = "status {status!r} cannot be read as a result; expected one of {allowed}"
NO_QUESTIONNAIRE = "a response must name its questionnaire as '<url>|<version>'"
UNKNOWN_QUESTIONNAIRE = "{canonical!r} is not a Space Between questionnaire ('{prefix}<id>|<version>')"
NO_VERSION = "{canonical!r} names no version; expected '{expected}'"
OTHER_VERSION = "{instrument} version {version!r} is not loaded; this installation has {loaded!r}"
NO_RESPONSE_ID = "a response needs an id or an identifier in " + RESPONSE_ID_SYSTEM
UNKNOWN_LINK_ID = "linkId {link_id!r} is not an item of {instrument}"
REPEATED_LINK_ID = "linkId {link_id!r} is answered twice"
NOT_ANSWERABLE = "linkId {link_id!r} is a {kind} item and takes no answer"
NESTED_UNDER_ANSWER = "{instrument} has no items nested under an answer"
ONE_ANSWER = "item {link_id!r} takes one answer, not {count}"
NOT_CODING = "answer to {link_id!r} must be a valueCoding (one of its answer options), not {found}"
UNKNOWN_CODE = "{code!r} is not an answer option of {link_id!r} (options: {options})"
OTHER_SYSTEM = "code {code!r} of {link_id!r} belongs to {expected!r}, not {found!r}"
ORDINAL_DISAGREES = "ordinalValue {found} disagrees with {expected} of option {code!r} of {link_id!r}"
NOT_AWARE = "{name} must be a timezone-aware datetime"
# FHIR's string is `[ \r\n\t\S]+`: at least one character that is not (Unicode) white space.
BAD_RESPONSE_ID = "response id must be a string with a visible character, not {value!r}"
UNKNOWN_ITEM = "{item!r} is not an item of {instrument} (items: {items})"
NOT_AN_OPTION = "value {value!r} of {item!r} is not one of its answer options ({options})"
SCORE_OF_OTHER_INSTRUMENT = "the score is for {found}, not {expected}"
NOT_OUR_OBSERVATION = (
    "no coding in a Space Between scale or risk code system ('"
    + CODESYSTEM_PREFIX
    + "<id>-scales' or '-risk'); only Observations exported by Space Between can be read back"
)
NO_CODE_VERSION = "the coding names no version of {instrument} (expected {version!r})"
UNKNOWN_SCALE = "{code!r} is not a scale of {instrument}"
UNKNOWN_RULE = "{code!r} is not a risk rule of {instrument}"
NO_DERIVED_FROM = "the Observation must be derivedFrom its QuestionnaireResponse"
UNRESOLVED_REFERENCE = "reference {reference!r} is not a QuestionnaireResponse in this bundle"
NO_VALUE = "a scale Observation needs valueQuantity or dataAbsentReason"
VALUE_AND_ABSENT = "dataAbsentReason is only allowed without a value (R4 invariant obs-6)"
WRONG_UNIT = "the score unit must be {expected!r}, not {found!r}"
NO_RISK_VALUE = "a risk Observation needs valueBoolean or dataAbsentReason"
UNKNOWN_BAND = "{code!r} is not a band of {scale}"
DETAIL_MISSING = "component {code!r} is missing"
DETAIL_TYPE = "component {code!r} needs {value_type}"
UNKNOWN_DETAIL = "unknown component {system}|{code}"
REPEATED_OBSERVATION = "response {response_id!r} has two Observations for {code}"
MISSING_OBSERVATION = "response {response_id!r} has no Observation for {code}"
OTHER_INSTRUMENT = "response {response_id!r} is {expected}, but this Observation is for {found}"
REPEATED_RESPONSE = "response {response_id!r} appears twice"
NOT_IN_BUNDLE = "Observations of response {response_id!r} but no QuestionnaireResponse with that id"
NO_ENTRIES = "the bundle has no entries"
SCORE_DIFFERS = "{found}, but the answers give {expected}"

_MODELS: Mapping[str, type[FHIRAbstractModel]] = {
    "Questionnaire": Questionnaire,
    "QuestionnaireResponse": QuestionnaireResponse,
    "Observation": Observation,
    "Bundle": Bundle,
}


class FhirError(ValueError):
    """A resource (or an argument) that cannot be used; names the field and the problem."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")

    def within(self, prefix: str) -> FhirError:
        """The same error with the leading resource type replaced, e.g. by ``Bundle.entry[3].resource``."""
        head, dot, rest = self.field.partition(".")
        bracket = head.find("[")
        tail = head[bracket:] if bracket > 0 else ""
        return FhirError(prefix + tail + (dot + rest if dot else ""), self.problem)


# ---------------------------------------------------------------------------------------- identifiers


def canonical_url(instrument: Instrument) -> str:
    return QUESTIONNAIRE_URL_PREFIX + instrument.id


def canonical(instrument: Instrument) -> str:
    """``url|version``, the way a QuestionnaireResponse names its questionnaire
    (http://hl7.org/fhir/R4/references.html#canonical)."""
    return f"{canonical_url(instrument)}|{instrument.version}"


def scales_system(instrument: Instrument) -> str:
    return f"{CODESYSTEM_PREFIX}{instrument.id}{SCALES_SUFFIX}"


def risk_system(instrument: Instrument) -> str:
    return f"{CODESYSTEM_PREFIX}{instrument.id}{RISK_SUFFIX}"


def bands_system(instrument: Instrument) -> str:
    return f"{CODESYSTEM_PREFIX}{instrument.id}{BANDS_SUFFIX}"


def band_code(scale: Scale, label: str) -> str:
    return f"{scale.id}/{label}"


def resource_id(response_id: str) -> str:
    """The QuestionnaireResponse id: the response id itself where it is a valid FHIR id, else a UUID.

    The response id is always kept verbatim in ``identifier`` (system `RESPONSE_ID_SYSTEM`).
    """
    if _FHIR_ID.match(response_id):
        return response_id
    return str(uuid.uuid5(_ID_NAMESPACE, "response|" + response_id))


def _observation_id(instrument: Instrument, response_id: str, kind: str, key: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"observation|{instrument.id}|{response_id}|{kind}|{key}"))


# ----------------------------------------------------------------------------------------- validation


def validate_resource(resource: Mapping[str, Any]) -> None:
    """Construct the fhir.resources R4B model of the resource; `FhirError` naming the first bad field."""
    resource_type = resource.get("resourceType")
    model = _MODELS.get(resource_type) if isinstance(resource_type, str) else None
    if model is None:
        raise FhirError(
            "resourceType",
            WRONG_RESOURCE_TYPE.format(expected=" or ".join(_MODELS), found=resource_type),
        )
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise FhirError(
            _path(str(resource_type), first["loc"]),
            INVALID_RESOURCE.format(resource_type=resource_type, problem=first["msg"] + more),
        ) from exc


def _path(root: str, loc: Sequence[int | str]) -> str:
    out = root
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += "." + ("resourceType" if part == "resource_type" else part)
    return out


def _load(
    resource: Mapping[str, Any] | str, expected: Sequence[str], root: str, *, validate: bool = True
) -> Mapping[str, Any]:
    if isinstance(resource, str):
        try:
            resource = json.loads(resource)
        except json.JSONDecodeError as exc:
            problem = f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
            raise FhirError(root, NOT_JSON.format(problem=problem)) from exc
    if not isinstance(resource, Mapping):
        raise FhirError(root, NOT_AN_OBJECT.format(found=type(resource).__name__))
    found = resource.get("resourceType")
    if found not in expected:
        raise FhirError(
            f"{root}.resourceType", WRONG_RESOURCE_TYPE.format(expected=" or ".join(expected), found=found)
        )
    if validate:
        validate_resource(resource)
    return resource


def _require_aware(name: str, value: datetime) -> str:
    # FHIR dateTime: "If hours and minutes are specified, a time zone SHALL be populated"
    # (http://hl7.org/fhir/R4/datatypes.html#dateTime).
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise FhirError(name, NOT_AWARE.format(name=name))
    return value.isoformat()


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _format(value: object) -> str:
    if isinstance(value, float):
        return str(_number(value))
    return repr(value) if isinstance(value, str) else str(value)


# ---------------------------------------------------------------------------------- questionnaire out


class _Node(NamedTuple):
    kind: str  # group | display | choice
    codings: tuple[Mapping[str, Any], ...]  # the answer options' Codings, in `Item.options` order


def _nodes(instrument: Instrument) -> dict[str, _Node]:
    """linkId -> what the definition's questionnaire says about it."""
    out: dict[str, _Node] = {}

    def walk(items: Iterable[Mapping[str, Any]]) -> None:
        for node in items:
            codings = tuple(opt["valueCoding"] for opt in node.get("answerOption", ()))
            out[node["linkId"]] = _Node(node["type"], codings)
            walk(node.get("item", ()))

    walk(instrument.definition["questionnaire"]["item"])
    return out


def questionnaire_resource(instrument: Instrument) -> dict[str, Any]:
    """The definition's Questionnaire with canonical url, version and language; validated."""
    source = copy.deepcopy(dict(instrument.definition["questionnaire"]))
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": source.pop("id", instrument.id),
        "language": instrument.language,
        # Questionnaire.url + version make the canonical that responses cite
        # (http://hl7.org/fhir/R4/questionnaire-definitions.html#Questionnaire.url).
        "url": canonical_url(instrument),
        "version": instrument.version,
        "status": source.pop("status"),
        "title": source.pop("title", instrument.title),
    }
    for key in ("resourceType", "url", "version", "language"):
        source.pop(key, None)
    resource.update(source)
    try:
        validate_resource(resource)
    except FhirError as exc:
        pointer = "/questionnaire" + exc.field.removeprefix("Questionnaire").replace(".", "/")
        raise InstrumentDefinitionError(instrument.path or instrument.id, pointer, exc.problem) from exc
    return resource


# ---------------------------------------------------------------------------------- response out


def questionnaire_response(
    instrument: Instrument,
    answers: Mapping[str, int | float | None],
    *,
    response_id: str,
    subject_reference: str | None = None,
    authored: datetime,
) -> dict[str, Any]:
    """A completed QuestionnaireResponse (http://hl7.org/fhir/R4/questionnaireresponse.html).

    ``answers`` maps item ids to answer-option values (the ordinalValue); None or absent is unanswered
    and the item is left out, as R4 asks for items without answers. Items nest as in the Questionnaire.
    """
    if not isinstance(response_id, str) or not response_id.strip():
        raise FhirError("response_id", BAD_RESPONSE_ID.format(value=response_id))
    authored_text = _require_aware("authored", authored)
    nodes = _nodes(instrument)
    chosen: dict[str, dict[str, Any]] = {}
    for item_id, value in answers.items():
        field = f"answers[{item_id!r}]"
        if item_id not in instrument.item_ids:
            raise FhirError(
                field,
                UNKNOWN_ITEM.format(
                    item=item_id, instrument=instrument.id, items=", ".join(instrument.item_ids)
                ),
            )
        if value is None:
            continue
        item = instrument.item(item_id)
        options = ", ".join(_format(v) for v in item.values)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FhirError(field, NOT_AN_OPTION.format(value=value, item=item_id, options=options))
        index = next((k for k, opt in enumerate(item.options) if opt.value == value), None)
        if index is None:
            raise FhirError(field, NOT_AN_OPTION.format(value=value, item=item_id, options=options))
        coding = {k: v for k, v in nodes[item_id].codings[index].items() if k != "extension"}
        # The ordinalValue extension on the Coding carries the option's score
        # (http://hl7.org/fhir/R4/extension-ordinalvalue.html; context Coding).
        coding["extension"] = [{"url": ORDINAL_VALUE_URL, "valueDecimal": _number(item.options[index].value)}]
        chosen[item_id] = {"valueCoding": coding}

    def items(nodes_in: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for node in nodes_in:
            link_id = node["linkId"]
            if node["type"] == "group":
                children = items(node.get("item", ()))
                if children:
                    out.append({"linkId": link_id, **_text(node), "item": children})
            elif link_id in chosen:
                out.append({"linkId": link_id, **_text(node), "answer": [chosen[link_id]]})
        return out

    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": resource_id(response_id),
        "identifier": {"system": RESPONSE_ID_SYSTEM, "value": response_id},
        "questionnaire": canonical(instrument),
        "status": "completed",
    }
    if subject_reference:
        resource["subject"] = {"reference": subject_reference}
    resource["authored"] = authored_text
    resource["item"] = items(instrument.definition["questionnaire"]["item"])
    validate_resource(resource)
    return resource


def _text(node: Mapping[str, Any]) -> dict[str, str]:
    return {"text": node["text"]} if node.get("text") else {}


# ---------------------------------------------------------------------------------- observations out


def _coding(system: str, code: str, display: str, version: str | None = None) -> dict[str, str]:
    coding = {"system": system}
    if version is not None:
        coding["version"] = version
    coding.update({"code": code, "display": display})
    return coding


def _detail(code: str, value_key: str, value: bool | int) -> dict[str, Any]:
    return {"code": {"coding": [_coding(DETAILS_SYSTEM, code, _DETAIL_DISPLAY[code])]}, value_key: value}


def score_observations(
    instrument: Instrument,
    score: ResponseScore,
    *,
    response_id: str,
    subject_reference: str | None = None,
    effective: datetime,
) -> list[dict[str, Any]]:
    """One Observation per scale, then one per risk rule (http://hl7.org/fhir/R4/observation.html).

    Scale: code = LOINC where the scale has one, plus always the instrument's scale code (its version is
    the definition version); ``valueQuantity`` in ``{score}``, or ``dataAbsentReason`` when too many items
    are missing; the band as ``interpretation``; caseness, items missing and prorated as components.

    Risk rule: its own Observation, ``valueBoolean`` (``dataAbsentReason`` when the item is unanswered),
    so a flag stands on its own, never hidden inside a total that may be unscorable.
    """
    if (score.instrument_id, score.instrument_version) != (instrument.id, instrument.version):
        raise FhirError(
            "score",
            SCORE_OF_OTHER_INSTRUMENT.format(
                found=f"{score.instrument_id} {score.instrument_version}",
                expected=f"{instrument.id} {instrument.version}",
            ),
        )
    if not isinstance(response_id, str) or not response_id.strip():
        raise FhirError("response_id", BAD_RESPONSE_ID.format(value=response_id))
    effective_text = _require_aware("effective", effective)

    def base(kind: str, key: str, codings: list[dict[str, str]], text: str) -> dict[str, Any]:
        obs: dict[str, Any] = {
            "resourceType": "Observation",
            "id": _observation_id(instrument, response_id, kind, key),
            "status": "final",
            "category": [
                {"coding": [_coding(OBSERVATION_CATEGORY_SYSTEM, "survey", "Survey")], "text": "Survey"}
            ],
            "code": {"coding": codings, "text": text},
        }
        if subject_reference:
            obs["subject"] = {"reference": subject_reference}
        obs["effectiveDateTime"] = effective_text
        return obs

    derived_from = [
        {
            "reference": f"QuestionnaireResponse/{resource_id(response_id)}",
            "type": "QuestionnaireResponse",
            "identifier": {"system": RESPONSE_ID_SYSTEM, "value": response_id},
        }
    ]
    out: list[dict[str, Any]] = []
    for scale in instrument.scales:
        result = score.scales[scale.id]
        # LOINC first, without a display: ours (the scale title) is not LOINC's name for the code.
        codings: list[dict[str, str]] = [{"system": LOINC_SYSTEM, "code": scale.loinc}] if scale.loinc else []
        codings.append(_coding(scales_system(instrument), scale.id, scale.title, instrument.version))
        obs = base("scale", scale.id, codings, scale.title)
        if result.score is None:
            obs["dataAbsentReason"] = {
                "coding": [_coding(DATA_ABSENT_SYSTEM, "not-performed", "Not Performed")],
                "text": f"not scored: {result.n_missing} item(s) missing, at most "
                f"{scale.missing.max_missing} allowed",
            }
        else:
            obs["valueQuantity"] = {
                "value": _number(result.score),
                "unit": SCORE_UNIT,
                "system": UCUM_SYSTEM,
                "code": SCORE_UNIT,
            }
        if result.band is not None:
            coding = _coding(
                bands_system(instrument), band_code(scale, result.band), result.band, instrument.version
            )
            # The band is the categorical reading of the value: Observation.interpretation
            # (http://hl7.org/fhir/R4/observation-definitions.html#Observation.interpretation).
            obs["interpretation"] = [{"coding": [coding], "text": result.band}]
        components = [
            _detail(DETAIL_ITEMS_MISSING, "valueInteger", result.n_missing),
            _detail(DETAIL_PRORATED, "valueBoolean", result.prorated),
        ]
        if result.caseness is not None:
            components.insert(0, _detail(DETAIL_CASENESS, "valueBoolean", result.caseness))
        obs["component"] = components
        obs["derivedFrom"] = copy.deepcopy(derived_from)
        out.append(obs)
    for rule in instrument.risk_rules:
        coding = _coding(risk_system(instrument), rule.id, rule.label, instrument.version)
        obs = base("risk", rule.id, [coding], rule.label)
        fired = score.risk[rule.id]
        if fired is None:
            obs["dataAbsentReason"] = {
                "coding": [_coding(DATA_ABSENT_SYSTEM, "unknown", "Unknown")],
                "text": f"item {rule.item} was not answered",
            }
        else:
            obs["valueBoolean"] = fired
        obs["derivedFrom"] = copy.deepcopy(derived_from)
        out.append(obs)
    for obs in out:
        validate_resource(obs)
    return out


# ---------------------------------------------------------------------------------------- bundle out


def collection_bundle(
    resources: Sequence[Mapping[str, Any]], *, validate_resources: bool = True
) -> dict[str, Any]:
    """A Bundle of type collection. Each entry's fullUrl is a deterministic ``urn:uuid``, and references
    of the form ``Type/id`` to a bundled resource are rewritten to it, because a relative reference does
    not resolve against a urn:uuid fullUrl (http://hl7.org/fhir/R4/bundle.html#references).

    ``validate_resources=False`` skips validating each resource again where they come from this module's
    builders, which have validated them; the Bundle itself is always validated.
    """
    full_urls: dict[str, str] = {}
    for res in resources:
        key = f"{res['resourceType']}/{res['id']}"
        full_urls[key] = "urn:uuid:" + str(uuid.uuid5(_ID_NAMESPACE, "entry|" + key))
    entries = []
    for k, res in enumerate(resources):
        if validate_resources:
            try:
                validate_resource(res)
            except FhirError as exc:
                raise exc.within(f"resources[{k}]") from exc
        entries.append(
            {
                "fullUrl": full_urls[f"{res['resourceType']}/{res['id']}"],
                "resource": _rewritten(res, full_urls),
            }
        )
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    _validate_shell(bundle)
    return bundle


def _rewritten(node: Any, full_urls: Mapping[str, str]) -> Any:
    """A copy of a JSON value with bundled references replaced by their fullUrl."""
    if isinstance(node, Mapping):
        out = {key: _rewritten(value, full_urls) for key, value in node.items()}
        ref = out.get("reference")
        if isinstance(ref, str) and ref in full_urls:
            out["reference"] = full_urls[ref]
        return out
    if isinstance(node, list):
        return [_rewritten(value, full_urls) for value in node]
    return node


def _validate_shell(bundle: Mapping[str, Any]) -> None:
    """Validate a Bundle without its entries' resources (those are validated one by one, with paths)."""
    entries = bundle.get("entry")
    if isinstance(entries, list) and all(isinstance(e, Mapping) for e in entries):
        bundle = {**bundle, "entry": [{k: v for k, v in e.items() if k != "resource"} for e in entries]}
    validate_resource(bundle)


# ------------------------------------------------------------------------------------------ reading in


class ParsedResponse(NamedTuple):
    instrument: Instrument
    answers: dict[str, int | float | None]  # every item id of the instrument; None = unanswered
    response_id: str
    subject_reference: str | None
    authored: str | None  # as written (FHIR dateTime may be partial, e.g. "2024-05")


def _instrument(
    value: Any, field: str, include_licensed: bool, extra_paths: Iterable[str | Path]
) -> Instrument:
    if not isinstance(value, str) or not value:
        raise FhirError(field, NO_QUESTIONNAIRE)
    url, bar, version = value.partition("|")
    if not url.startswith(QUESTIONNAIRE_URL_PREFIX):
        raise FhirError(field, UNKNOWN_QUESTIONNAIRE.format(canonical=value, prefix=QUESTIONNAIRE_URL_PREFIX))
    try:
        instrument = catalogue.get(url.removeprefix(QUESTIONNAIRE_URL_PREFIX), include_licensed, extra_paths)
    except UnknownInstrumentError as exc:
        raise FhirError(field, str(exc)) from exc
    if not bar or not version:
        raise FhirError(field, NO_VERSION.format(canonical=value, expected=canonical(instrument)))
    if version != instrument.version:
        raise FhirError(
            field, OTHER_VERSION.format(instrument=instrument.id, version=version, loaded=instrument.version)
        )
    return instrument


def parse_questionnaire_response(
    resource: Mapping[str, Any] | str,
    *,
    include_licensed: bool = False,
    extra_paths: Iterable[str | Path] = (),
) -> ParsedResponse:
    """A QuestionnaireResponse (dict or JSON text) -> its instrument and answers, refusing what does not
    map exactly: unknown questionnaire or version, status other than completed/amended, unknown linkId,
    an answer that is not one of the item's answer-option Codings."""
    root = "QuestionnaireResponse"
    doc = _load(resource, ["QuestionnaireResponse"], root)
    status = doc.get("status")
    if status not in SCORABLE_RESPONSE_STATUSES:
        raise FhirError(
            f"{root}.status",
            STATUS_NOT_SCORABLE.format(status=status, allowed=", ".join(SCORABLE_RESPONSE_STATUSES)),
        )
    instrument = _instrument(doc.get("questionnaire"), f"{root}.questionnaire", include_licensed, extra_paths)
    identifier = doc.get("identifier") or {}
    if identifier.get("system") == RESPONSE_ID_SYSTEM and identifier.get("value"):
        response_id = identifier["value"]
    elif doc.get("id"):
        response_id = doc["id"]
    else:
        raise FhirError(f"{root}.id", NO_RESPONSE_ID)

    nodes = _nodes(instrument)
    answers: dict[str, int | float | None] = dict.fromkeys(instrument.item_ids)
    seen: set[str] = set()

    def walk(items: Sequence[Mapping[str, Any]], base: str) -> None:
        for i, node in enumerate(items):
            path = f"{base}.item[{i}]"
            link_id = node["linkId"]
            known = nodes.get(link_id)
            if known is None:
                raise FhirError(
                    f"{path}.linkId", UNKNOWN_LINK_ID.format(link_id=link_id, instrument=instrument.id)
                )
            given = node.get("answer") or []
            if known.kind != "choice":
                if given:
                    raise FhirError(f"{path}.answer", NOT_ANSWERABLE.format(link_id=link_id, kind=known.kind))
                walk(node.get("item") or [], path)
                continue
            if link_id in seen:
                raise FhirError(f"{path}.linkId", REPEATED_LINK_ID.format(link_id=link_id))
            seen.add(link_id)
            if node.get("item"):
                raise FhirError(f"{path}.item", NESTED_UNDER_ANSWER.format(instrument=instrument.id))
            if len(given) > 1:
                raise FhirError(f"{path}.answer", ONE_ANSWER.format(link_id=link_id, count=len(given)))
            if given:
                answers[link_id] = _answer_value(instrument, link_id, known, given[0], f"{path}.answer[0]")

    walk(doc.get("item") or [], root)
    subject = (doc.get("subject") or {}).get("reference")
    return ParsedResponse(instrument, answers, response_id, subject, doc.get("authored"))


def _answer_value(
    instrument: Instrument, link_id: str, node: _Node, answer: Mapping[str, Any], path: str
) -> int | float:
    coding = answer.get("valueCoding")
    if coding is None:
        if answer.get("item"):
            raise FhirError(f"{path}.item", NESTED_UNDER_ANSWER.format(instrument=instrument.id))
        found = next((k for k in answer if k.startswith("value")), "no value")
        raise FhirError(path, NOT_CODING.format(link_id=link_id, found=found))
    if answer.get("item"):
        raise FhirError(f"{path}.item", NESTED_UNDER_ANSWER.format(instrument=instrument.id))
    item = instrument.item(link_id)
    code = coding.get("code")
    for option, option_coding in zip(item.options, node.codings, strict=True):
        if option.code != code:
            continue
        system = coding.get("system")
        if system != option_coding.get("system"):
            raise FhirError(
                f"{path}.valueCoding.system",
                OTHER_SYSTEM.format(
                    code=code, link_id=link_id, expected=option_coding.get("system"), found=system
                ),
            )
        for k, ext in enumerate(coding.get("extension") or []):
            if ext.get("url") == ORDINAL_VALUE_URL and ext.get("valueDecimal") is not None:
                found_value = float(ext["valueDecimal"])
                if found_value != float(option.value):
                    raise FhirError(
                        f"{path}.valueCoding.extension[{k}].valueDecimal",
                        ORDINAL_DISAGREES.format(
                            found=_format(found_value),
                            expected=_format(option.value),
                            code=code,
                            link_id=link_id,
                        ),
                    )
        return option.value
    options = ", ".join(f"{o.code} ({o.display})" for o in item.options)
    raise FhirError(
        f"{path}.valueCoding.code", UNKNOWN_CODE.format(code=code, link_id=link_id, options=options)
    )


# ------------------------------------------------------------------------------------ observations in


class _Part(NamedTuple):
    """What one Observation says, before the parts of a response are put together."""

    instrument: Instrument
    response_id: str
    kind: str  # scale | risk
    key: str  # scale id or rule id
    field: str  # where the Observation is (for messages)
    scale: ScaleResult | None
    fired: bool | None


def _our_coding(codings: Sequence[Mapping[str, Any]]) -> tuple[int, Mapping[str, Any], str, str] | None:
    for k, coding in enumerate(codings):
        system = coding.get("system") or ""
        if system.startswith(CODESYSTEM_PREFIX):
            name = system.removeprefix(CODESYSTEM_PREFIX)
            for suffix, kind in ((SCALES_SUFFIX, "scale"), (RISK_SUFFIX, "risk")):
                if name.endswith(suffix) and len(name) > len(suffix):
                    return k, coding, name.removesuffix(suffix), kind
    return None


def _parse_observation(
    doc: Mapping[str, Any],
    root: str,
    resolve: Callable[[str], str | None],
    include_licensed: bool,
    extra_paths: Iterable[str | Path],
) -> _Part:
    status = doc.get("status")
    if status not in READABLE_OBSERVATION_STATUSES:
        raise FhirError(
            f"{root}.status",
            STATUS_NOT_SCORABLE.format(status=status, allowed=", ".join(READABLE_OBSERVATION_STATUSES)),
        )
    codings = (doc.get("code") or {}).get("coding") or []
    ours = _our_coding(codings)
    if ours is None:
        raise FhirError(f"{root}.code", NOT_OUR_OBSERVATION)
    k, coding, instrument_id, kind = ours
    field = f"{root}.code.coding[{k}]"
    try:
        instrument = catalogue.get(instrument_id, include_licensed, extra_paths)
    except UnknownInstrumentError as exc:
        raise FhirError(f"{field}.system", str(exc)) from exc
    version = coding.get("version")
    if not version:
        raise FhirError(
            f"{field}.version", NO_CODE_VERSION.format(instrument=instrument.id, version=instrument.version)
        )
    if version != instrument.version:
        raise FhirError(
            f"{field}.version",
            OTHER_VERSION.format(instrument=instrument.id, version=version, loaded=instrument.version),
        )
    response_id = _derived_from(doc, root, resolve)
    key = coding.get("code") or ""
    value_keys = [name for name in doc if name.startswith("value")]
    absent = doc.get("dataAbsentReason")
    if value_keys and absent is not None:
        raise FhirError(f"{root}.dataAbsentReason", VALUE_AND_ABSENT)
    if kind == "risk":
        if key not in {r.id for r in instrument.risk_rules}:
            raise FhirError(f"{field}.code", UNKNOWN_RULE.format(code=key, instrument=instrument.id))
        value = doc.get("valueBoolean")
        if value is None and absent is None:
            raise FhirError(f"{root}.valueBoolean", NO_RISK_VALUE)
        return _Part(instrument, response_id, kind, key, root, None, value)
    if key not in {s.id for s in instrument.scales}:
        raise FhirError(f"{field}.code", UNKNOWN_SCALE.format(code=key, instrument=instrument.id))
    return _Part(instrument, response_id, kind, key, root, _scale_result(instrument, key, doc, root), None)


def _derived_from(doc: Mapping[str, Any], root: str, resolve: Callable[[str], str | None]) -> str:
    refs = doc.get("derivedFrom") or []
    for ref in refs:
        identifier = ref.get("identifier") or {}
        if identifier.get("system") == RESPONSE_ID_SYSTEM and identifier.get("value"):
            return str(identifier["value"])
    for j, ref in enumerate(refs):
        reference = ref.get("reference")
        if isinstance(reference, str):
            found = resolve(reference)
            if found is None:
                raise FhirError(
                    f"{root}.derivedFrom[{j}].reference", UNRESOLVED_REFERENCE.format(reference=reference)
                )
            return found
    raise FhirError(f"{root}.derivedFrom", NO_DERIVED_FROM)


def _scale_result(instrument: Instrument, scale_id: str, doc: Mapping[str, Any], root: str) -> ScaleResult:
    scale = instrument.scale(scale_id)
    quantity = doc.get("valueQuantity")
    score: float | None = None
    if quantity is not None:
        if quantity.get("code", SCORE_UNIT) != SCORE_UNIT or quantity.get("value") is None:
            found = quantity.get("code") if quantity.get("value") is not None else "no value"
            raise FhirError(f"{root}.valueQuantity", WRONG_UNIT.format(expected=SCORE_UNIT, found=found))
        score = float(quantity["value"])
    elif doc.get("dataAbsentReason") is None or any(k.startswith("value") for k in doc):
        raise FhirError(f"{root}.valueQuantity", NO_VALUE)

    band: str | None = None
    band_index: int | None = None
    for i, concept in enumerate(doc.get("interpretation") or []):
        for j, coding in enumerate(concept.get("coding") or []):
            if coding.get("system") != bands_system(instrument):
                continue
            codes = [band_code(scale, b.label) for b in scale.bands]
            if coding.get("code") not in codes:
                raise FhirError(
                    f"{root}.interpretation[{i}].coding[{j}].code",
                    UNKNOWN_BAND.format(code=coding.get("code"), scale=f"{instrument.id} {scale.id}"),
                )
            band_index = codes.index(coding["code"])
            band = scale.bands[band_index].label

    details: dict[str, Any] = {}
    for i, component in enumerate(doc.get("component") or []):
        for coding in (component.get("code") or {}).get("coding") or []:
            code = coding.get("code")
            if coding.get("system") != DETAILS_SYSTEM or code not in _DETAIL_DISPLAY:
                raise FhirError(
                    f"{root}.component[{i}].code",
                    UNKNOWN_DETAIL.format(system=coding.get("system"), code=code),
                )
            value_key = "valueInteger" if code == DETAIL_ITEMS_MISSING else "valueBoolean"
            if component.get(value_key) is None:
                raise FhirError(
                    f"{root}.component[{i}].{value_key}", DETAIL_TYPE.format(code=code, value_type=value_key)
                )
            details[code] = component[value_key]
    for code in (DETAIL_ITEMS_MISSING, DETAIL_PRORATED):
        if code not in details:
            raise FhirError(f"{root}.component", DETAIL_MISSING.format(code=code))
    return ScaleResult(
        scale_id=scale.id,
        score=score,
        n_missing=int(details[DETAIL_ITEMS_MISSING]),
        prorated=bool(details[DETAIL_PRORATED]),
        band=band,
        band_index=band_index,
        caseness=details.get(DETAIL_CASENESS),
    )


def _assemble(parts: Sequence[_Part]) -> tuple[dict[str, ResponseScore], dict[tuple[str, str, str], str]]:
    """Parts grouped by response -> one `ResponseScore` each (every scale and risk rule exactly once)."""
    grouped: dict[str, list[_Part]] = {}
    for part in parts:
        grouped.setdefault(part.response_id, []).append(part)
    scores: dict[str, ResponseScore] = {}
    fields: dict[tuple[str, str, str], str] = {}
    for response_id, group in grouped.items():
        instrument = group[0].instrument
        scales: dict[str, ScaleResult] = {}
        risk: dict[str, bool | None] = {}
        for part in group:
            if part.instrument.id != instrument.id:
                raise FhirError(
                    f"{part.field}.code",
                    OTHER_INSTRUMENT.format(
                        response_id=response_id, expected=instrument.id, found=part.instrument.id
                    ),
                )
            system = scales_system(instrument) if part.kind == "scale" else risk_system(instrument)
            if (response_id, part.kind, part.key) in fields:
                raise FhirError(
                    f"{part.field}.code",
                    REPEATED_OBSERVATION.format(response_id=response_id, code=f"{system}|{part.key}"),
                )
            fields[(response_id, part.kind, part.key)] = part.field
            if part.scale is not None:
                scales[part.key] = part.scale
            else:
                risk[part.key] = part.fired
        for scale in instrument.scales:
            if scale.id not in scales:
                code = f"{scales_system(instrument)}|{scale.id}"
                raise FhirError(
                    "Observation.code", MISSING_OBSERVATION.format(response_id=response_id, code=code)
                )
        for rule in instrument.risk_rules:
            if rule.id not in risk:
                code = f"{risk_system(instrument)}|{rule.id}"
                raise FhirError(
                    "Observation.code", MISSING_OBSERVATION.format(response_id=response_id, code=code)
                )
        scores[response_id] = ResponseScore(
            instrument_id=instrument.id,
            instrument_version=instrument.version,
            respondent_id=response_id,
            scales={s.id: scales[s.id] for s in instrument.scales},
            risk={r.id: risk[r.id] for r in instrument.risk_rules},
            risk_labels={r.id: r.label for r in instrument.risk_rules},
        )
    return scores, fields


def _own_reference(reference: str) -> str | None:
    prefix = "QuestionnaireResponse/"
    return reference.removeprefix(prefix) if reference.startswith(prefix) else None


def parse_observations(
    resources: Iterable[Mapping[str, Any] | str],
    *,
    include_licensed: bool = False,
    extra_paths: Iterable[str | Path] = (),
) -> dict[str, ResponseScore]:
    """Observations made by `score_observations` -> a `ResponseScore` per response id, in first-seen order.

    The response is found from ``derivedFrom`` (its identifier, else ``QuestionnaireResponse/<id>``);
    each response must have one Observation per scale and per risk rule of its instrument.
    """
    parts = []
    for i, resource in enumerate(resources):
        root = f"Observation[{i}]"
        try:
            doc = _load(resource, ["Observation"], "Observation")
            part = _parse_observation(doc, "Observation", _own_reference, include_licensed, extra_paths)
        except FhirError as exc:
            raise exc.within(root) from exc
        parts.append(part._replace(field=root))
    scores, _ = _assemble(parts)
    return scores


# ------------------------------------------------------------------------------------------ bundle in


@dataclass(frozen=True)
class ParsedBundle:
    responses: tuple[ParsedResponse, ...]  # in bundle order
    observed: Mapping[str, ResponseScore]  # response id -> scores its Observations carry
    # (response id, "scale" | "risk", scale or rule id) -> where that Observation is, for messages.
    observation_fields: Mapping[tuple[str, str, str], str]
    response_fields: Mapping[str, str]  # response id -> where its QuestionnaireResponse is
    ignored: Mapping[str, int]  # resource type -> number of entries not read (e.g. a Patient)


def parse_bundle(
    resource: Mapping[str, Any] | str,
    *,
    include_licensed: bool = False,
    extra_paths: Iterable[str | Path] = (),
) -> ParsedBundle:
    """A Bundle (or a single QuestionnaireResponse) -> its responses and the scores its Observations carry.

    Entries other than QuestionnaireResponse and Observation are counted in ``ignored``, not read.
    """
    doc = _load(resource, ["Bundle", "QuestionnaireResponse"], "Bundle", validate=False)
    if doc["resourceType"] == "QuestionnaireResponse":
        parsed = parse_questionnaire_response(doc, include_licensed=include_licensed, extra_paths=extra_paths)
        return ParsedBundle((parsed,), {}, {}, {parsed.response_id: "QuestionnaireResponse"}, {})
    _validate_shell(doc)
    entries = doc.get("entry") or []
    if not entries:
        raise FhirError("Bundle.entry", NO_ENTRIES)

    responses: list[ParsedResponse] = []
    response_fields: dict[str, str] = {}
    by_reference: dict[str, str] = {}
    ignored: dict[str, int] = {}
    observations: list[tuple[str, Mapping[str, Any]]] = []
    for i, entry in enumerate(entries):
        root = f"Bundle.entry[{i}].resource"
        res = entry.get("resource", {})
        if not isinstance(res, Mapping):
            raise FhirError(root, NOT_AN_OBJECT.format(found=type(res).__name__))
        kind = res.get("resourceType")
        if kind == "QuestionnaireResponse":
            try:
                parsed = parse_questionnaire_response(
                    res, include_licensed=include_licensed, extra_paths=extra_paths
                )
            except FhirError as exc:
                raise exc.within(root) from exc
            if parsed.response_id in response_fields:
                raise FhirError(
                    f"{root}.identifier", REPEATED_RESPONSE.format(response_id=parsed.response_id)
                )
            responses.append(parsed)
            response_fields[parsed.response_id] = root
            if entry.get("fullUrl"):
                by_reference[entry["fullUrl"]] = parsed.response_id
            if res.get("id"):
                by_reference[f"QuestionnaireResponse/{res['id']}"] = parsed.response_id
        elif kind == "Observation":
            observations.append((root, res))
        else:
            name = str(kind or "entry without resource")
            ignored[name] = ignored.get(name, 0) + 1

    parts = []
    for root, res in observations:
        try:
            validate_resource(res)
            part = _parse_observation(res, "Observation", by_reference.get, include_licensed, extra_paths)
        except FhirError as exc:
            raise exc.within(root) from exc
        parts.append(part._replace(field=root))
    observed, fields = _assemble(parts)
    known = {r.response_id: r for r in responses}
    for response_id, score in observed.items():
        field = fields[next(k for k in fields if k[0] == response_id)]
        if response_id not in known:
            raise FhirError(f"{field}.derivedFrom", NOT_IN_BUNDLE.format(response_id=response_id))
        instrument = known[response_id].instrument
        if score.instrument_id != instrument.id:
            raise FhirError(
                f"{field}.code",
                OTHER_INSTRUMENT.format(
                    response_id=response_id, expected=instrument.id, found=score.instrument_id
                ),
            )
    return ParsedBundle(tuple(responses), observed, fields, response_fields, ignored)


def score_differences(
    expected: ResponseScore, observed: ResponseScore
) -> Iterator[tuple[str, str, str, str]]:
    """(kind, key, field, problem) for every way the observed scores differ from the answers' scores."""
    for scale_id, want in expected.scales.items():
        got = observed.scales[scale_id]
        checks: list[tuple[str, object, object]] = [
            ("valueQuantity.value", got.score, want.score),
            ("interpretation", got.band, want.band),
            (f"component[{DETAIL_CASENESS}].valueBoolean", got.caseness, want.caseness),
            (f"component[{DETAIL_ITEMS_MISSING}].valueInteger", got.n_missing, want.n_missing),
            (f"component[{DETAIL_PRORATED}].valueBoolean", got.prorated, want.prorated),
        ]
        for field, found, wanted in checks:
            if isinstance(found, float) and isinstance(wanted, float):
                # Decimals may come back re-serialised; a real difference is far above float noise.
                same = math.isclose(found, wanted, rel_tol=1e-12, abs_tol=1e-12)
            else:
                same = found == wanted
            if not same:
                yield (
                    "scale",
                    scale_id,
                    field,
                    SCORE_DIFFERS.format(found=_shown(found), expected=_shown(wanted)),
                )
    for rule_id, wanted_flag in expected.risk.items():
        found_flag = observed.risk[rule_id]
        if found_flag != wanted_flag:
            problem = SCORE_DIFFERS.format(found=_shown(found_flag), expected=_shown(wanted_flag))
            yield "risk", rule_id, "valueBoolean", problem


def _shown(value: object) -> str:
    if value is None:
        return "absent"
    return _format(value)


def check_observed_scores(parsed: ParsedBundle, scores: Mapping[str, ResponseScore]) -> None:
    """Refuse a bundle whose Observations disagree with the scores of its own answers (``scores``:
    response id -> score of its answers); the error names the Observation and the field."""
    for response_id, observed in parsed.observed.items():
        for kind, key, field, problem in score_differences(scores[response_id], observed):
            raise FhirError(f"{parsed.observation_fields[(response_id, kind, key)]}.{field}", problem)
