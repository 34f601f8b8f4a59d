"""Small synthetic definitions for the core tests.

The shipped PHQ-9/GAD-7 have no reverse keys, means, prorating or transforms, so the rules for those are
tested on made-up instruments built here through the same loader (`build_instrument`) as real files.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from spacebetween.core.instruments import CORE_DIR, ORDINAL_VALUE_URL, Instrument, build_instrument

MakeDoc = Callable[..., dict[str, Any]]
MakeInstrument = Callable[..., Instrument]


def choice_item(link_id: str, values: Sequence[float], text: str | None = None) -> dict[str, Any]:
    return {
        "linkId": link_id,
        "type": "choice",
        "text": text or f"Question {link_id}",
        "answerOption": [
            {
                "valueCoding": {"system": "urn:test", "code": f"a{v}", "display": f"Answer {v}"},
                "extension": [{"url": ORDINAL_VALUE_URL, "valueDecimal": v}],
            }
            for v in values
        ],
    }


def make_doc(
    *,
    n_items: int = 4,
    values: Sequence[float] = (1, 2, 3, 4, 5),
    reverse: Sequence[str] = (),
    method: str = "mean",
    multiply: float | None = None,
    max_missing: int = 0,
    prorate: bool = False,
    rounding: str = "none",
    value_range: Sequence[float] | None = None,
    bands: Sequence[tuple[float, float, str]] = (),
    caseness: tuple[str, float] | None = None,
    risk: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    item_ids = [f"t_{i}" for i in range(1, n_items + 1)]
    lo, hi = min(values), max(values)
    if value_range is None:
        factor = multiply or 1
        value_range = (
            [lo * factor, hi * factor] if method == "mean" else [lo * n_items * factor, hi * n_items * factor]
        )
    scale: dict[str, Any] = {
        "id": "total",
        "title": "Test total",
        "items": item_ids,
        "reverse": list(reverse),
        "method": method,
        "transform": {"multiply": multiply} if multiply else None,
        "missing": {
            "max_missing": max_missing,
            "prorate": prorate,
            "rounding": rounding,
            "source": "test rule",
        },
        "range": list(value_range),
        "direction": "lower_is_better",
        "bands": [{"min": a, "max": b, "label": label} for a, b, label in bands],
        "caseness": {"cutoff": caseness[1], "operator": caseness[0], "source": "test cut-off"}
        if caseness
        else None,
    }
    if bands:
        scale["bands_source"] = "test bands"
    return {
        "id": "test",
        "version": "1.0.0",
        "language": "en",
        "title": "Test instrument",
        "construct": "distress",
        "pack": "core",
        "respondent": "client",
        "licence": {"class": "A", "name": "Test", "statement": "Test statement"},
        "citations": [{"key": "test2024", "text": "Test citation"}],
        "questionnaire": {
            "resourceType": "Questionnaire",
            "status": "active",
            "item": [{"linkId": "t_instructions", "type": "display", "text": "Answer these."}]
            + [choice_item(i, values) for i in item_ids],
        },
        "scoring": {"scales": [scale], "risk_items": list(risk)},
    }


@pytest.fixture
def doc_factory() -> MakeDoc:
    return make_doc


@pytest.fixture
def instrument_factory() -> MakeInstrument:
    def build(**kwargs: Any) -> Instrument:
        return build_instrument(make_doc(**kwargs), Path("test.json"))

    return build


@pytest.fixture
def phq9_doc() -> dict[str, Any]:
    """A fresh copy of the shipped PHQ-9 definition, for tests that break it on purpose."""
    return copy.deepcopy(json.loads((CORE_DIR / "phq9.json").read_text(encoding="utf-8")))
