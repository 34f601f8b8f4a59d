"""The shipped RFQ-8 definition says what its sources say.

Sources (expected values are written by hand from them, never read back from rfq8.json):

- Fonagy P, Luyten P, Moulton-Perkins A, et al. (2016) PLoS ONE 11(7): e0158678 (CC BY): the RFQ, two
  scales, certainty (RFQ_c) and uncertainty (RFQ_u) about mental states.
- The UCL scoring key as implemented in the Millisecond RFQ-8 manual (K. Borchert, 2018/2023):
  RFQ_c = mean of items 1-6 rescored 1 = 3, 2 = 2, 3 = 1, 4+ = 0;
  RFQ_u = mean of items 2, 4, 5, 6, 8 rescored 4 and below = 0, 5 = 1, 6 = 2, 7 = 3, and item 7 rescored
  1 = 3, 2 = 2, 3 = 1, 4+ = 0.
- Item wording and numbering: the canonical RFQ-8 order, 7-point scale 1 Strongly disagree ... 7 Strongly
  agree.

Worked examples are computed by hand in the comment next to them.
"""

from __future__ import annotations

import numpy as np
import pytest

from spacebetween.core.instruments import Instrument, get
from spacebetween.core.scoring import ScoringError, score_response, score_table

ITEM_TEXTS = [
    "People's thoughts are a mystery to me",
    "I don't always know why I do what I do",
    "When I get angry I say things without really knowing why I am saying them",
    "When I get angry I say things that I later regret",
    "If I feel insecure I can behave in ways that put others' backs up",
    "Sometimes I do things without really knowing why",
    "I always know what I feel",
    "Strong feelings often cloud my thinking",
]
# Answer -> scored value, per the key above.
CERTAINTY_KEY = {1: 3, 2: 2, 3: 1, 4: 0, 5: 0, 6: 0, 7: 0}
UNCERTAINTY_KEY = {1: 0, 2: 0, 3: 0, 4: 0, 5: 1, 6: 2, 7: 3}


@pytest.fixture(scope="module")
def rfq8() -> Instrument:
    return get("rfq8")


def _ids(*numbers: int) -> tuple[str, ...]:
    return tuple(f"rfq8_{n}" for n in numbers)


def _answers(*values: int | None) -> dict[str, int | None]:
    return {f"rfq8_{i}": v for i, v in enumerate(values, start=1)}


def _scores(rfq8: Instrument, *values: int | None) -> dict[str, float | None]:
    return {sid: sc.score for sid, sc in score_response(rfq8, _answers(*values)).scales.items()}


# --------------------------------------------------------------------------------------- form and pack


def test_rfq8_ships_in_the_core_pack(rfq8: Instrument) -> None:
    # Development paper published under CC BY (attribution only): licence class A/B, so core.
    assert rfq8.pack == "core"
    assert rfq8.licence.licence_class in {"A", "B"}
    assert "Creative Commons Attribution" in rfq8.licence.statement
    assert any(c.doi == "10.1371/journal.pone.0158678" for c in rfq8.citations)


def test_rfq8_has_the_eight_items_in_canonical_order(rfq8: Instrument) -> None:
    assert rfq8.item_ids == _ids(1, 2, 3, 4, 5, 6, 7, 8)
    assert [item.text for item in rfq8.items] == ITEM_TEXTS


def test_rfq8_answers_run_1_strongly_disagree_to_7_strongly_agree_on_every_item(rfq8: Instrument) -> None:
    for item in rfq8.items:
        assert item.values == (1, 2, 3, 4, 5, 6, 7)
        assert (item.options[0].display, item.options[-1].display) == ("Strongly disagree", "Strongly agree")
        assert item.required


def test_rfq8_has_no_risk_item(rfq8: Instrument) -> None:
    assert rfq8.risk_rules == ()


# --------------------------------------------------------------------------------------------- scoring


def test_certainty_is_the_mean_of_items_1_to_6_recoded_3_2_1_0(rfq8: Instrument) -> None:
    scale = rfq8.scale("certainty")
    assert scale.items == _ids(1, 2, 3, 4, 5, 6)
    assert (scale.method, scale.range, scale.reverse) == ("mean", (0, 3), ())
    for item_id in scale.items:
        recode = scale.recode_for(item_id)
        assert recode is not None, item_id
        assert {v: recode.scored(v) for v in range(1, 8)} == CERTAINTY_KEY, item_id


def test_uncertainty_is_items_2_4_5_6_8_recoded_0_1_2_3_plus_item_7_reversed(rfq8: Instrument) -> None:
    scale = rfq8.scale("uncertainty")
    assert set(scale.items) == set(_ids(2, 4, 5, 6, 7, 8)) and len(scale.items) == 6
    assert (scale.method, scale.range, scale.reverse) == ("mean", (0, 3), ())
    for item_id in _ids(2, 4, 5, 6, 8):
        recode = scale.recode_for(item_id)
        assert recode is not None, item_id
        assert {v: recode.scored(v) for v in range(1, 8)} == UNCERTAINTY_KEY, item_id
    item7 = scale.recode_for("rfq8_7")
    assert item7 is not None
    assert {v: item7.scored(v) for v in range(1, 8)} == CERTAINTY_KEY


def test_items_1_and_3_are_certainty_only_and_7_and_8_uncertainty_only(rfq8: Instrument) -> None:
    certainty, uncertainty = set(rfq8.scale("certainty").items), set(rfq8.scale("uncertainty").items)
    assert certainty & uncertainty == set(_ids(2, 4, 5, 6))
    assert certainty - uncertainty == set(_ids(1, 3))
    assert uncertainty - certainty == set(_ids(7, 8))


def test_directions_and_no_published_cut_offs(rfq8: Instrument) -> None:
    certainty, uncertainty = rfq8.scale("certainty"), rfq8.scale("uncertainty")
    # Fonagy et al. 2016: high RFQ_u = hypomentalizing; high RFQ_c = (extreme) certainty, toward
    # hypermentalizing; low scores on both = genuine mentalizing. So a rise in certainty is never
    # "better": neither scale is higher_is_better (the closest the format's enum allows).
    assert (certainty.direction, uncertainty.direction) == ("lower_is_better", "lower_is_better")
    for scale in (certainty, uncertainty):
        assert (scale.bands, scale.caseness, scale.reliable_change) == ((), None, None)
        assert (scale.missing.max_missing, scale.missing.prorate) == (0, False)


@pytest.mark.parametrize(
    ("answers", "certainty", "uncertainty"),
    [
        # All "Strongly disagree": c = 6 x 3 / 6 = 3; u = items 2,4,5,6,8 -> 0, item 7 (1 -> 3) = 3 / 6 = 0.5.
        ((1, 1, 1, 1, 1, 1, 1, 1), 3, 0.5),
        # All "Strongly agree": c = 0; u = 5 x 3 + item 7 (7 -> 0) = 15 / 6 = 2.5.
        ((7, 7, 7, 7, 7, 7, 7, 7), 0, 2.5),
        # All 4: every recode gives 0.
        ((4, 4, 4, 4, 4, 4, 4, 4), 0, 0),
        # 2,1,3,6,5,2,6,3: c = 2+3+1+0+0+2 = 8 / 6; u = item2 1->0, item4 6->2, item5 5->1, item6 2->0,
        # item7 6->0, item8 3->0 = 3 / 6 = 0.5.
        ((2, 1, 3, 6, 5, 2, 6, 3), 8 / 6, 0.5),
        # 5,7,4,7,6,6,2,7: c = 0 (no answer below 4 among items 1-6); u = item2 7->3, item4 7->3,
        # item5 6->2, item6 6->2, item7 2->2, item8 7->3 = 15 / 6 = 2.5.
        ((5, 7, 4, 7, 6, 6, 2, 7), 0, 2.5),
    ],
)
def test_worked_examples(
    rfq8: Instrument, answers: tuple[int, ...], certainty: float, uncertainty: float
) -> None:
    scores = _scores(rfq8, *answers)
    assert scores["certainty"] == pytest.approx(certainty, abs=1e-12)
    assert scores["uncertainty"] == pytest.approx(uncertainty, abs=1e-12)


def test_not_the_raw_sum(rfq8: Instrument) -> None:
    # The "8-56 total" seen online is not the published scoring: all 7s score 0 and 2.5, never 56.
    scores = _scores(rfq8, 7, 7, 7, 7, 7, 7, 7, 7)
    assert set(scores) == {"certainty", "uncertainty"}
    assert max(v for v in scores.values() if v is not None) <= 3


def test_same_answer_on_every_item_through_the_table(rfq8: Instrument) -> None:
    # Row v answers v to every item: c = CERTAINTY_KEY[v];
    # u = (5 x UNCERTAINTY_KEY[v] + CERTAINTY_KEY[v]) / 6 (items 2, 4, 5, 6, 8 and item 7).
    table = score_table(rfq8, np.array([[v] * 8 for v in range(1, 8)], dtype=float))
    assert table.scales["certainty"].score.tolist() == [3, 2, 1, 0, 0, 0, 0]
    expected_u = [0.5, 2 / 6, 1 / 6, 0, 5 / 6, 10 / 6, 2.5]
    assert table.scales["uncertainty"].score.tolist() == pytest.approx(expected_u, abs=1e-12)


def test_a_missing_item_leaves_its_scales_unscored(rfq8: Instrument) -> None:
    # No published rule for missing items: item 8 is on the uncertainty scale only.
    result = score_response(rfq8, _answers(1, 2, 3, 4, 5, 6, 7, None), incomplete="nan")
    assert result.scales["certainty"].score == 1  # 3+2+1+0+0+0 = 6 / 6
    assert result.scales["uncertainty"].score is None
    with pytest.raises(ScoringError, match="scale uncertainty: 1 item"):
        score_response(rfq8, _answers(1, 2, 3, 4, 5, 6, 7, None))
