"""Scoring against hand-worked examples.

Every expected number below was worked out by hand from the source rule named next to it, not by
running the scorer.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from spacebetween.core import instruments as catalogue
from spacebetween.core.instruments import Instrument
from spacebetween.core.scoring import ScoringError, score_response, score_table

NaN = math.nan


@pytest.fixture(scope="module")
def phq9() -> Instrument:
    return catalogue.get("phq9")


@pytest.fixture(scope="module")
def gad7() -> Instrument:
    return catalogue.get("gad7")


def phq(*values: int | None, difficulty: int | None = None) -> dict[str, int | None]:
    answers: dict[str, int | None] = {f"phq9_{i}": v for i, v in enumerate(values, start=1)}
    answers["phq9_10"] = difficulty
    return answers


# --- PHQ-9 (Kroenke et al. 2001: sum of 9 items; bands at 5, 10, 15, 20; caseness >= 10) ------------


def test_phq9_worked_example(phq9: Instrument) -> None:
    # 1+2+3+0+1+2+3+0+1 = 13 -> "moderate" (10-14), a case (>= 10); item 9 = 1 -> risk flag.
    result = score_response(phq9, phq(1, 2, 3, 0, 1, 2, 3, 0, 1), "client-7")
    total = result.scales["total"]
    assert (total.score, total.band, total.caseness) == (13, "moderate", True)
    assert (total.n_missing, total.prorated) == (0, False)
    assert result.risk == {"phq9_9": True}
    assert result.risk_flags == ("thoughts of death or self-harm",)
    assert result.respondent_id == "client-7"


@pytest.mark.parametrize(
    ("answers", "score", "band", "case"),
    [
        ((0, 0, 0, 0, 0, 0, 0, 0, 0), 0, "minimal", False),
        ((1, 1, 1, 1, 0, 0, 0, 0, 0), 4, "minimal", False),
        ((1, 1, 1, 1, 1, 0, 0, 0, 0), 5, "mild", False),
        ((3, 3, 3, 0, 0, 0, 0, 0, 0), 9, "mild", False),
        ((3, 3, 3, 1, 0, 0, 0, 0, 0), 10, "moderate", True),
        ((2, 2, 2, 2, 2, 2, 2, 0, 0), 14, "moderate", True),
        ((3, 3, 3, 3, 3, 0, 0, 0, 0), 15, "moderately severe", True),
        ((3, 3, 3, 3, 3, 3, 1, 0, 0), 19, "moderately severe", True),
        ((3, 3, 3, 3, 3, 3, 2, 0, 0), 20, "severe", True),
        ((3, 3, 3, 3, 3, 3, 3, 3, 3), 27, "severe", True),
    ],
)
def test_phq9_band_edges(
    phq9: Instrument, answers: tuple[int, ...], score: int, band: str, case: bool
) -> None:
    total = score_response(phq9, phq(*answers)).scales["total"]
    assert (total.score, total.band, total.caseness) == (score, band, case)


def test_phq9_difficulty_item_does_not_change_the_score(phq9: Instrument) -> None:
    plain = score_response(phq9, phq(1, 1, 1, 1, 1, 1, 1, 1, 0))
    with_difficulty = score_response(phq9, phq(1, 1, 1, 1, 1, 1, 1, 1, 0, difficulty=3))
    assert plain.scales["total"].score == with_difficulty.scales["total"].score == 8


def test_gad7_worked_example(gad7: Instrument) -> None:
    # Spitzer et al. 2006: 3*5 = 15 -> "severe" (15-21), >= 10 is a case. GAD-7 has no risk item.
    answers = {f"gad7_{i}": v for i, v in enumerate([3, 3, 3, 3, 3, 0, 0], start=1)}
    result = score_response(gad7, answers)
    assert (result.scales["total"].score, result.scales["total"].band) == (15, "severe")
    assert result.scales["total"].caseness is True
    assert result.risk == {}


# --- impossible input is an error naming respondent, item and value ---------------------------------


def test_value_outside_the_options_is_an_error(phq9: Instrument) -> None:
    with pytest.raises(ScoringError) as info:
        score_response(phq9, phq(1, 1, 4, 1, 1, 1, 1, 1, 1), "client-3")
    err = info.value
    assert (err.respondent_id, err.item, err.value) == ("client-3", "phq9_3", 4)
    assert "client-3" in str(err) and "phq9_3" in str(err) and "value 4" in str(err)


def test_fractional_value_is_an_error(phq9: Instrument) -> None:
    with pytest.raises(ScoringError, match="phq9_2: value 1.5"):
        score_response(phq9, phq(1, 1.5, 1, 1, 1, 1, 1, 1, 1))  # type: ignore[arg-type]


def test_unscored_item_is_still_validated(phq9: Instrument) -> None:
    with pytest.raises(ScoringError, match="phq9_10: value 7"):
        score_response(phq9, phq(0, 0, 0, 0, 0, 0, 0, 0, 0, difficulty=7))


def test_unknown_item_is_an_error(phq9: Instrument) -> None:
    with pytest.raises(ScoringError) as info:
        score_response(phq9, {**phq(0, 0, 0, 0, 0, 0, 0, 0, 0), "phq9_11": 2}, "c1")
    assert (info.value.item, info.value.value, info.value.respondent_id) == ("phq9_11", 2, "c1")


def test_non_number_is_an_error(phq9: Instrument) -> None:
    with pytest.raises(ScoringError, match="not a number"):
        score_response(phq9, {**phq(0, 0, 0, 0, 0, 0, 0, 0, 0), "phq9_1": "2"})  # type: ignore[dict-item]


def test_missing_item_is_an_error_naming_scale_and_count(phq9: Instrument) -> None:
    # PHQ-9 allows no missing item (definition: max_missing 0).
    with pytest.raises(ScoringError) as info:
        score_response(phq9, phq(1, None, 1, None, 1, 1, 1, 1, 0), "c9")
    err = info.value
    assert (err.respondent_id, err.scale, err.item) == ("c9", "total", "phq9_2")
    assert "2 item(s) missing (phq9_2, phq9_4)" in str(err)
    assert err.risk_flags == ()


def test_error_for_missing_items_still_carries_the_risk_flag(phq9: Instrument) -> None:
    with pytest.raises(ScoringError) as info:
        score_response(phq9, phq(None, None, None, None, None, None, None, None, 2))
    assert info.value.risk_flags == ("thoughts of death or self-harm",)
    assert "RISK FLAG RAISED: thoughts of death or self-harm" in str(info.value)


def test_incomplete_nan_mode_keeps_the_risk_flag(phq9: Instrument) -> None:
    result = score_response(phq9, phq(None, None, None, None, None, None, None, None, 3), incomplete="nan")
    total = result.scales["total"]
    assert (total.score, total.band, total.caseness, total.n_missing) == (None, None, None, 8)
    assert result.risk == {"phq9_9": True}


def test_unanswered_risk_item_is_unknown_not_no_risk(phq9: Instrument) -> None:
    result = score_response(phq9, phq(0, 0, 0, 0, 0, 0, 0, 0, None), incomplete="nan")
    assert result.risk == {"phq9_9": None}


# --- tables ----------------------------------------------------------------------------------------


def test_table_scores_every_row(phq9: Instrument) -> None:
    answers = np.array(
        [
            [0, 0, 0, 0, 0, 0, 0, 0, 0, NaN],  # 0 minimal
            [3, 3, 3, 3, 3, 3, 3, 3, 3, 3],  # 27 severe, risk
            [2, 2, 1, 1, 1, 1, 1, 0, 0, 1],  # 9 mild
        ]
    )
    table = score_table(phq9, answers, ["a", "b", "c"])
    total = table.scales["total"]
    assert total.score.tolist() == [0, 27, 9]
    assert total.band_labels.tolist() == ["minimal", "severe", "mild"]
    assert total.caseness.tolist() == [False, True, False]
    assert table.risk["phq9_9"].flag.tolist() == [False, True, False]
    assert table.any_risk.tolist() == [False, True, False]


def test_table_error_names_the_first_bad_respondent_and_row(phq9: Instrument) -> None:
    answers = np.zeros((4, 10))
    answers[2, 4] = 5
    answers[3, 0] = -1
    with pytest.raises(ScoringError) as info:
        score_table(phq9, answers, ["r1", "r2", "r3", "r4"])
    assert (info.value.row, info.value.respondent_id, info.value.item, info.value.value) == (
        2,
        "r3",
        "phq9_5",
        5,
    )


def test_table_reports_the_earliest_problem_row(phq9: Instrument) -> None:
    answers = np.zeros((3, 10))
    answers[1, 0] = NaN  # row 1: too many missing
    answers[2, 0] = 9  # row 2: bad value
    with pytest.raises(ScoringError) as info:
        score_table(phq9, answers, ["x", "y", "z"])
    assert (info.value.respondent_id, info.value.scale) == ("y", "total")


def test_table_is_not_modified(instrument_factory: Callable[..., Instrument]) -> None:
    inst = instrument_factory(reverse=["t_1"])
    answers = np.array([[1.0, 2.0, 3.0, 4.0]])
    score_table(inst, answers)
    assert answers.tolist() == [[1.0, 2.0, 3.0, 4.0]]


def test_wrong_number_of_columns(phq9: Instrument) -> None:
    with pytest.raises(ValueError, match=r"shape \(n, 10\)"):
        score_table(phq9, np.zeros((2, 9)))


# --- rules the shipped instruments do not exercise (synthetic definitions) --------------------------


def test_reverse_keying_is_min_plus_max_minus_value(instrument_factory: Callable[..., Instrument]) -> None:
    # Items 1-5, items 2 and 4 reverse-keyed: [5, 1, 4, 2] -> [5, 6-1, 4, 6-2] = [5, 5, 4, 4], mean 4.5.
    inst = instrument_factory(reverse=["t_2", "t_4"])
    result = score_response(inst, {"t_1": 5, "t_2": 1, "t_3": 4, "t_4": 2})
    assert result.scales["total"].score == 4.5


def test_mean_with_a_missing_item_is_the_mean_of_the_rest(
    instrument_factory: Callable[..., Instrument],
) -> None:
    # [5, -, 4, 2] with t_4 reversed -> [5, 4, 4], mean 13/3.
    inst = instrument_factory(reverse=["t_4"], max_missing=1)
    total = score_response(inst, {"t_1": 5, "t_2": None, "t_3": 4, "t_4": 2}).scales["total"]
    assert total.score == pytest.approx(13 / 3)
    assert (total.n_missing, total.prorated) == (1, True)


def test_mean_bands_two_decimals(instrument_factory: Callable[..., Instrument]) -> None:
    # BRS-style bands (Smith et al. 2013): 1.00-2.99 low, 3.00-4.30 normal, 4.31-5.00 high.
    inst = instrument_factory(n_items=6, bands=[(1, 2.99, "low"), (3, 4.30, "normal"), (4.31, 5, "high")])
    rows = np.array(
        [
            [3, 3, 3, 3, 3, 2],  # 17/6 = 2.83 -> low
            [3, 3, 3, 3, 3, 3],  # 3.00 -> normal
            [5, 5, 4, 4, 4, 4],  # 26/6 = 4.33 -> high
        ]
    )
    assert score_table(inst, rows).scales["total"].band_labels.tolist() == ["low", "normal", "high"]


def test_prorated_sum_is_mean_times_items(instrument_factory: Callable[..., Instrument]) -> None:
    # CORE-10-style: 10 items 0-4, one may be missing; items 2 and 3 reversed (4 - value).
    # Answers 2,1,3,2,2,0,1,2,3,- -> 2,3,1,2,2,0,1,2,3 = 16 over 9 items -> 16 * 10 / 9 = 17.78.
    inst = instrument_factory(
        n_items=10, values=(0, 1, 2, 3, 4), method="sum", reverse=["t_2", "t_3"], max_missing=1, prorate=True
    )
    answers = dict(zip([f"t_{i}" for i in range(1, 11)], [2, 1, 3, 2, 2, 0, 1, 2, 3, None], strict=True))
    total = score_response(inst, answers).scales["total"]
    assert total.score == pytest.approx(160 / 9)
    assert total.prorated is True


def test_prorated_sum_rounds_halves_up(instrument_factory: Callable[..., Instrument]) -> None:
    # 6 items 0-3, two missing: answered 1+1+1+0 = 3 -> 3 * 6 / 4 = 4.5 -> 5 (half up; half-even gives 4).
    inst = instrument_factory(
        n_items=6, values=(0, 1, 2, 3), method="sum", max_missing=2, prorate=True, rounding="nearest_integer"
    )
    answers = {"t_1": 1, "t_2": 1, "t_3": 1, "t_4": 0, "t_5": None, "t_6": None}
    assert score_response(inst, answers).scales["total"].score == 5


def test_complete_sum_is_not_marked_prorated(instrument_factory: Callable[..., Instrument]) -> None:
    inst = instrument_factory(n_items=3, values=(0, 1, 2), method="sum", max_missing=1, prorate=True)
    total = score_response(inst, {"t_1": 2, "t_2": 1, "t_3": 0}).scales["total"]
    assert (total.score, total.prorated) == (3, False)


def test_multiply_transform(instrument_factory: Callable[..., Instrument]) -> None:
    # WHO-5 percentage score (Topp et al. 2015): raw 5+4+3+2+1 = 15, x4 = 60.
    inst = instrument_factory(n_items=5, values=(0, 1, 2, 3, 4, 5), method="sum", multiply=4)
    answers = {"t_1": 5, "t_2": 4, "t_3": 3, "t_4": 2, "t_5": 1}
    assert score_response(inst, answers).scales["total"].score == 60


def test_caseness_operator_from_the_definition(instrument_factory: Callable[..., Instrument]) -> None:
    # Higher-is-worse with a strict ">" cut-off of 3.0 on a 1-5 mean.
    inst = instrument_factory(caseness=(">", 3.0))
    rows = np.array([[3, 3, 3, 3], [3, 3, 3, 4]])
    assert score_table(inst, rows).scales["total"].caseness.tolist() == [False, True]


def test_risk_rule_on_a_reverse_keyed_item_uses_the_raw_answer(
    instrument_factory: Callable[..., Instrument],
) -> None:
    rule = {"item": "t_2", "operator": ">=", "value": 4, "label": "hopelessness", "source": "test rule"}
    inst = instrument_factory(reverse=["t_2"], risk=[rule])
    result = score_response(inst, {"t_1": 1, "t_2": 5, "t_3": 1, "t_4": 1})
    assert result.risk == {"t_2": True}
