"""Scale-level ``recode``: the loader's refusals, hand-worked scores, and one path for table and response.

The RFQ-8 rules used for the worked examples are the published key (Fonagy et al. 2016; UCL key as
implemented in the Millisecond RFQ-8 manual), written out here by hand:

- certainty: items 1-6, each answer 1 -> 3, 2 -> 2, 3 -> 1, 4..7 -> 0; score = mean of the six;
- uncertainty: items 2, 4, 5, 6, 8 with 1..4 -> 0, 5 -> 1, 6 -> 2, 7 -> 3, plus item 7 recoded like the
  certainty items; score = mean of the six.

The definitions are synthetic (built here through the real loader), so these tests exercise the format and
the scorer, not the shipped rfq8.json (tests/core/test_definitions_rfq8.py checks that file).
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spacebetween.core.instruments import (
    Instrument,
    InstrumentDefinitionError,
    build_instrument,
    load_definition,
)
from spacebetween.core.scoring import ScoringError, score_response, score_table
from tests.core.conftest import make_doc

NaN = math.nan
SEVEN = (1, 2, 3, 4, 5, 6, 7)
CERTAIN = {"1": 3, "2": 2, "3": 1, "4": 0, "5": 0, "6": 0, "7": 0}
UNCERTAIN = {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1, "6": 2, "7": 3}


def _ids(*numbers: int) -> list[str]:
    return [f"t_{n}" for n in numbers]


def _scale(scale_id: str, items: list[str], recode: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    scale: dict[str, Any] = {
        "id": scale_id,
        "title": scale_id,
        "items": items,
        "reverse": [],
        "recode": recode,
        "method": "mean",
        "transform": None,
        "missing": {"max_missing": 0, "prorate": False, "source": "test rule"},
        "range": [0, 3],
        "direction": "lower_is_better",
        "bands": [],
        "caseness": None,
    }
    scale.update(extra)
    return scale


def rfq_like_doc(values: tuple[int, ...] = SEVEN, max_missing: int = 0) -> dict[str, Any]:
    """Eight 1-7 items scored with the RFQ-8 key (two scales that recode shared items differently)."""
    doc = make_doc(n_items=8, values=values)
    missing = {"max_missing": max_missing, "prorate": False, "source": "test rule"}
    doc["scoring"]["scales"] = [
        _scale(
            "certainty",
            _ids(1, 2, 3, 4, 5, 6),
            [{"items": _ids(1, 2, 3, 4, 5, 6), "map": CERTAIN, "source": "RFQ key, certainty"}],
            missing=missing,
        ),
        _scale(
            "uncertainty",
            _ids(2, 4, 5, 6, 7, 8),
            [
                {"items": _ids(2, 4, 5, 6, 8), "map": UNCERTAIN, "source": "RFQ key, uncertainty"},
                {"items": _ids(7), "map": CERTAIN, "source": "RFQ key, item 7"},
            ],
            missing=missing,
        ),
    ]
    return doc


def _build(doc: dict[str, Any], name: str = "recode.json") -> Instrument:
    return build_instrument(doc, Path(name))


RFQ_LIKE = _build(rfq_like_doc())


def _answers(*values: int | None) -> dict[str, int | None]:
    return {f"t_{i}": v for i, v in enumerate(values, start=1)}


def _scores(inst: Instrument, *values: int | None) -> dict[str, float | None]:
    return {sid: sc.score for sid, sc in score_response(inst, _answers(*values)).scales.items()}


# --- hand-worked scores (RFQ-8 key) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "certainty", "uncertainty"),
    [
        # All 1: certainty 6 x 3 / 6 = 3; uncertainty 5 x 0 + item 7 (1 -> 3) = 3 / 6 = 0.5.
        ((1, 1, 1, 1, 1, 1, 1, 1), 3, 0.5),
        # All 4 (the midpoint): 0 on every recode.
        ((4, 4, 4, 4, 4, 4, 4, 4), 0, 0),
        # All 7: certainty 0; uncertainty 5 x 3 + item 7 (7 -> 0) = 15 / 6 = 2.5.
        ((7, 7, 7, 7, 7, 7, 7, 7), 0, 2.5),
        # 1..7 then 1: certainty 3+2+1+0+0+0 = 6 / 6 = 1; uncertainty item2 2->0, item4 4->0, item5 5->1,
        # item6 6->2, item7 7->0, item8 1->0 = 3 / 6 = 0.5.
        ((1, 2, 3, 4, 5, 6, 7, 1), 1, 0.5),
        # 3,6,2,7,5,5,2,6: certainty 1+0+2+0+0+0 = 3 / 6 = 0.5; uncertainty item2 6->2, item4 7->3,
        # item5 5->1, item6 5->1, item7 2->2, item8 6->2 = 11 / 6.
        ((3, 6, 2, 7, 5, 5, 2, 6), 0.5, 11 / 6),
    ],
)
def test_rfq_key_worked_examples(answers: tuple[int, ...], certainty: float, uncertainty: float) -> None:
    scores = _scores(RFQ_LIKE, *answers)
    assert scores["certainty"] == pytest.approx(certainty, abs=1e-12)
    assert scores["uncertainty"] == pytest.approx(uncertainty, abs=1e-12)


def test_the_same_answer_scores_differently_on_each_scale() -> None:
    # Item 2 only answered "Strongly disagree" (1), the rest at the midpoint: certainty gets 3 from it
    # (3 / 6 = 0.5), uncertainty gets 0 from it (0 / 6 = 0).
    assert _scores(RFQ_LIKE, 4, 1, 4, 4, 4, 4, 4, 4) == {"certainty": 0.5, "uncertainty": 0.0}
    # Item 2 "Strongly agree" (7): certainty 0, uncertainty 3 / 6 = 0.5.
    assert _scores(RFQ_LIKE, 4, 7, 4, 4, 4, 4, 4, 4) == {"certainty": 0.0, "uncertainty": 0.5}


def test_table_path_worked_rows_and_a_missing_item() -> None:
    rows = np.array(
        [
            [1, 1, 1, 1, 1, 1, 1, 1],  # 3, 0.5
            [7, 7, 7, 7, 7, 7, 7, 7],  # 0, 2.5
            [1, 2, 3, 4, 5, 6, 7, NaN],  # certainty 1; uncertainty misses item 8 -> not scored
        ]
    )
    table = score_table(RFQ_LIKE, rows, ["a", "b", "c"], incomplete="nan")
    assert table.scales["certainty"].score.tolist() == [3, 0, 1]
    unc = table.scales["uncertainty"]
    assert unc.score[:2].tolist() == [0.5, 2.5] and math.isnan(unc.score[2])
    assert unc.incomplete.tolist() == [False, False, True]
    assert unc.n_missing.tolist() == [0, 0, 1]


def test_missing_answer_with_allowed_missing_is_left_out_of_the_mean() -> None:
    # One missing allowed: certainty over items 1, 3-6 = 3+1+0+0+0 = 4 / 5 = 0.8.
    inst = _build(rfq_like_doc(max_missing=1))
    result = score_response(inst, _answers(1, None, 3, 4, 5, 6, 7, 1)).scales["certainty"]
    assert result.score == pytest.approx(0.8)
    assert (result.n_missing, result.prorated) == (1, True)


def test_answer_that_is_not_an_option_is_still_an_error_on_a_recoded_item() -> None:
    with pytest.raises(ScoringError) as info:
        score_response(RFQ_LIKE, _answers(1, 8, 1, 1, 1, 1, 1, 1), "client-2")
    assert (info.value.respondent_id, info.value.item, info.value.value) == ("client-2", "t_2", 8)


def test_recode_with_options_listed_high_to_low() -> None:
    # Options in the questionnaire run 7..1 (like MAAS); the map, not the order, decides the score.
    inst = _build(rfq_like_doc(values=(7, 6, 5, 4, 3, 2, 1)))
    assert _scores(inst, 3, 6, 2, 7, 5, 5, 2, 6) == _scores(RFQ_LIKE, 3, 6, 2, 7, 5, 5, 2, 6)


def test_recode_and_reverse_on_different_items_of_one_sum_scale() -> None:
    # Items 1-5: t_1 recoded {1: 0, 2: 0, 3: 1, 4: 5, 5: 10}, t_2 reverse-keyed (6 - value), t_3 plain.
    doc = make_doc(n_items=3, values=(1, 2, 3, 4, 5), method="sum", reverse=["t_2"])
    scale = doc["scoring"]["scales"][0]
    scale["recode"] = [{"items": ["t_1"], "map": {"1": 0, "2": 0, "3": 1, "4": 5, "5": 10}, "source": "test"}]
    scale["range"] = [2, 20]  # t_1 0..10 + t_2 1..5 + t_3 1..5
    inst = _build(doc)
    # t_1 = 4 -> 5; t_2 = 2 -> 4; t_3 = 3 -> 3; sum 12.
    assert score_response(inst, {"t_1": 4, "t_2": 2, "t_3": 3}).scales["total"].score == 12


def test_risk_rule_on_a_recoded_item_reads_the_raw_answer() -> None:
    doc = rfq_like_doc()
    doc["scoring"]["risk_items"] = [
        {"item": "t_7", "operator": "<=", "value": 1, "label": "test flag", "source": "test rule"}
    ]
    inst = _build(doc)
    # Raw 1 fires (recoded it would be 3); raw 7 does not (recoded it would be 0).
    assert score_response(inst, _answers(4, 4, 4, 4, 4, 4, 1, 4)).risk == {"t_7": True}
    assert score_response(inst, _answers(4, 4, 4, 4, 4, 4, 7, 4)).risk == {"t_7": False}


def test_callers_table_is_not_modified() -> None:
    rows = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 1.0]])
    score_table(RFQ_LIKE, rows)
    assert rows.tolist() == [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 1.0]]


def test_loaded_scale_exposes_its_recode() -> None:
    unc = RFQ_LIKE.scale("uncertainty")
    item7 = unc.recode_for("t_7")
    assert item7 is not None
    assert [item7.scored(v) for v in SEVEN] == [3, 2, 1, 0, 0, 0, 0]
    assert RFQ_LIKE.scale("certainty").recode_for("t_7") is None
    assert unc.range == (0, 3)


# --- the loader refuses a bad recode (file, JSON pointer, problem) ----------------------------------


def _refusal(doc: dict[str, Any]) -> InstrumentDefinitionError:
    with pytest.raises(InstrumentDefinitionError) as info:
        build_instrument(doc, Path("bad_recode.json"))
    assert info.value.file == "bad_recode.json"
    return info.value


def _with_certainty(**changes: Any) -> dict[str, Any]:
    doc = rfq_like_doc()
    doc["scoring"]["scales"][0].update(changes)
    return doc


def _certainty_rule(**changes: Any) -> list[dict[str, Any]]:
    rule: dict[str, Any] = {"items": _ids(1, 2, 3, 4, 5, 6), "map": dict(CERTAIN), "source": "RFQ key"}
    rule.update(changes)
    return [rule]


def test_refuses_a_recoded_item_outside_the_scale() -> None:
    err = _refusal(_with_certainty(recode=_certainty_rule(items=_ids(1, 2, 3, 4, 5, 6, 7))))
    assert err.pointer == "/scoring/scales/0/recode/0/items/6"
    assert "'t_7' is not in this scale's items" in err.problem


def test_refuses_a_raw_value_that_is_not_an_answer_option() -> None:
    err = _refusal(_with_certainty(recode=_certainty_rule(map={**CERTAIN, "8": 0})))
    assert err.pointer == "/scoring/scales/0/recode/0/map/8"
    assert "raw value 8 is not an answer option of t_1" in err.problem
    assert "options: 1, 2, 3, 4, 5, 6, 7" in err.problem


def test_refuses_an_answer_option_without_a_scored_value() -> None:
    partial = {k: v for k, v in CERTAIN.items() if k not in ("5", "6")}
    err = _refusal(_with_certainty(recode=_certainty_rule(map=partial)))
    assert err.pointer == "/scoring/scales/0/recode/0/map"
    assert "no scored value for answer option(s) 5, 6 of t_1" in err.problem


def test_refuses_an_item_that_is_both_recoded_and_reverse_keyed() -> None:
    err = _refusal(_with_certainty(reverse=["t_3"]))
    assert err.pointer == "/scoring/scales/0/recode/0/items/2"
    assert "both recoded and reverse-keyed" in err.problem


def test_refuses_an_item_recoded_twice_in_one_scale() -> None:
    rules = _certainty_rule() + [{"items": ["t_4"], "map": dict(UNCERTAIN), "source": "RFQ key"}]
    err = _refusal(_with_certainty(recode=rules))
    assert err.pointer == "/scoring/scales/0/recode/1/items/0"
    assert "'t_4' is already recoded at /scoring/scales/0/recode/0/items/3" in err.problem


def test_refuses_the_same_raw_value_written_twice() -> None:
    err = _refusal(_with_certainty(recode=_certainty_rule(map={**CERTAIN, "1.0": 0})))
    assert err.pointer == "/scoring/scales/0/recode/0/map/1.0"
    assert "raw value '1.0' repeats '1'" in err.problem


def test_refuses_a_scored_value_that_is_not_finite() -> None:
    err = _refusal(_with_certainty(recode=_certainty_rule(map={**CERTAIN, "7": math.inf})))
    assert err.pointer == "/scoring/scales/0/recode/0/map/7"
    assert "finite number" in err.problem


@pytest.mark.parametrize(
    ("rule_change", "pointer", "problem"),
    [
        ({"map": {**CERTAIN, "one": 0}}, "/scoring/scales/0/recode/0/map", "'one' does not match"),
        ({"map": {**CERTAIN, "7": "0"}}, "/scoring/scales/0/recode/0/map/7", "is not of type 'number'"),
        ({"source": ""}, "/scoring/scales/0/recode/0/source", "is too short"),
        ({"items": []}, "/scoring/scales/0/recode/0/items", "should be non-empty"),
        ({"weights": {}}, "/scoring/scales/0/recode/0", "unknown field"),
    ],
)
def test_schema_refuses_a_malformed_recode(rule_change: dict[str, Any], pointer: str, problem: str) -> None:
    err = _refusal(_with_certainty(recode=_certainty_rule(**rule_change)))
    assert err.pointer == pointer
    assert problem in err.problem


def test_refuses_a_range_that_ignores_the_recode() -> None:
    # The raw options run 1..7 but the recoded items give 0..3.
    err = _refusal(_with_certainty(range=[1, 7]))
    assert err.pointer == "/scoring/scales/0/range"
    assert "differs from what the items give: [0, 3]" in err.problem


def test_bands_are_checked_against_the_recoded_range() -> None:
    bands = [{"min": 1, "max": 4, "label": "low"}, {"min": 4.01, "max": 7, "label": "high"}]
    err = _refusal(_with_certainty(bands=bands, bands_source="test bands"))
    assert err.pointer == "/scoring/scales/0/bands/0/min"
    assert "the range at 0" in err.problem
    ok = [{"min": 0, "max": 1.49, "label": "low"}, {"min": 1.5, "max": 3, "label": "high"}]
    assert _build(_with_certainty(bands=ok, bands_source="test bands")).scale("certainty").bands[1].min == 1.5


def test_fractional_recoded_values_make_a_sum_continuous_for_band_gaps() -> None:
    # Integer answers recoded to halves: a sum can be 0.5, so whole-number bands 0-1, 2-3 leave a gap.
    doc = make_doc(n_items=2, values=(0, 1, 2), method="sum")
    scale = doc["scoring"]["scales"][0]
    scale["recode"] = [{"items": ["t_1", "t_2"], "map": {"0": 0, "1": 0.5, "2": 1.5}, "source": "test"}]
    scale["range"] = [0, 3]
    scale["bands"] = [{"min": 0, "max": 1, "label": "low"}, {"min": 2, "max": 3, "label": "high"}]
    scale["bands_source"] = "test bands"
    err = _refusal(doc)
    assert err.pointer == "/scoring/scales/0/bands/1/min"
    assert "gap between 1 and 2" in err.problem


def test_a_file_with_a_repeated_key_is_refused(tmp_path: Path) -> None:
    # json.loads would keep the last "1" silently and score 1 -> 0 instead of 3.
    text = json.dumps(rfq_like_doc(), indent=1).replace('"1": 3,', '"1": 3, "1": 0,', 1)
    path = tmp_path / "repeated_key.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InstrumentDefinitionError) as info:
        load_definition(path)
    assert (info.value.file, info.value.pointer) == (str(path), "/")
    assert "key '1' appears twice" in info.value.problem


def test_the_document_is_not_modified_by_loading() -> None:
    doc = rfq_like_doc()
    before = copy.deepcopy(doc)
    _build(doc)
    assert doc == before


# --- one path: score_response equals the row of score_table ----------------------------------------

MIXED = _build(
    {
        **rfq_like_doc(max_missing=2),
        "scoring": {
            "scales": [
                *rfq_like_doc(max_missing=2)["scoring"]["scales"],
                # A third scale mixing a recoded item, reverse-keyed items and plain items, prorated sum.
                _scale(
                    "mixed",
                    _ids(1, 3, 7, 8),
                    [{"items": ["t_8"], "map": UNCERTAIN, "source": "test"}],
                    reverse=["t_1", "t_7"],
                    method="sum",
                    range=[3, 24],
                    missing={
                        "max_missing": 1,
                        "prorate": True,
                        "rounding": "nearest_integer",
                        "source": "test rule",
                    },
                ),
            ],
            "risk_items": [],
        },
    }
)

answer_or_missing = st.one_of(st.sampled_from(SEVEN), st.just(None))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(answer_or_missing, min_size=8, max_size=8), min_size=1, max_size=15))
def test_single_response_equals_table_row_with_recode(rows: list[list[int | None]]) -> None:
    table_rows = np.array([[NaN if v is None else v for v in row] for row in rows], dtype=float)
    table = score_table(MIXED, table_rows, [f"r{i}" for i in range(len(rows))], incomplete="nan")
    for i, row in enumerate(rows):
        single = score_response(MIXED, _answers(*row), f"r{i}", incomplete="nan")
        assert single == table.response(i)


def _oracle_mean(rule: dict[str, int], items: list[int], row: list[int]) -> float:
    return sum(rule[str(row[n - 1])] for n in items) / len(items)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.sampled_from(SEVEN), min_size=8, max_size=8), min_size=1, max_size=20))
def test_vectorised_recode_equals_a_plain_lookup(rows: list[list[int]]) -> None:
    table = score_table(RFQ_LIKE, np.array(rows, dtype=float))
    for i, row in enumerate(rows):
        certainty = _oracle_mean(CERTAIN, [1, 2, 3, 4, 5, 6], row)
        uncertainty = (5 * _oracle_mean(UNCERTAIN, [2, 4, 5, 6, 8], row) + CERTAIN[str(row[6])]) / 6
        assert table.scales["certainty"].score[i] == pytest.approx(certainty, abs=1e-12)
        assert table.scales["uncertainty"].score[i] == pytest.approx(uncertainty, abs=1e-12)
        assert 0 <= table.scales["certainty"].score[i] <= 3
