"""Reliable change, cut-offs, classes, MID and NHS Talking Therapies outcomes on hand-worked examples.

Every expected number was worked out by hand from the formula named next to it (or taken from the
external source named), not by running the code under test.
"""

from __future__ import annotations

import json
import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spacebetween.core import change
from spacebetween.core import instruments as catalogue
from spacebetween.core.change import (
    DETERIORATED,
    HARMED,
    IMPROVED,
    INCOMPLETE,
    RECOVERED,
    UNCHANGED,
    MissingParameterError,
)

NaN = math.nan


# --- S_diff and the RC index (Jacobson & Truax 1991) -----------------------------------------------


def test_standard_error_of_difference_matches_hand_computation() -> None:
    # SD 10, r .75: SE = 10·sqrt(.25) = 5; S_diff = sqrt(2)·5 = 7.0710678.
    assert change.standard_error_of_difference(sd=10, reliability=0.75) == pytest.approx(7.0710678, abs=1e-7)


def test_reliable_change_points_matches_suddengains_define_crit1_cutoff() -> None:
    # suddengains tests/testthat/test-define_crit1_cutoff.R: sd 10.5, r .961 -> S_diff 2.93249, RCI 5.747681.
    assert change.standard_error_of_difference(sd=10.5, reliability=0.961) == pytest.approx(2.93249, abs=1e-5)
    assert change.reliable_change_points(sd=10.5, reliability=0.961) == pytest.approx(5.747681, abs=1e-6)


def test_rc_is_post_minus_pre_over_s_diff() -> None:
    # S_diff 7.0710678 as above; (5 − 20)/7.0710678 = −2.1213; (22 − 20)/7.07 = 0.2828.
    result = change.reliable_change([20, 20], [5, 22], reliability=0.75, sd=10)
    assert result.rc == pytest.approx([-2.1213203, 0.2828427], abs=1e-6)
    assert result.improved.tolist() == [True, False]
    assert result.deteriorated.tolist() == [False, False]
    assert not result.sd_from_sample


def test_reliable_means_strictly_beyond_the_critical_value() -> None:
    # SD 2.5, r .5 -> S_diff 2.5; a change of 1.97·2.5 is reliable, one of 1.95·2.5 is not.
    result = change.reliable_change([10, 10], [10 - 1.97 * 2.5, 10 - 1.95 * 2.5], reliability=0.5, sd=2.5)
    assert result.improved.tolist() == [True, False]
    assert result.points == pytest.approx(1.96 * 2.5)


def test_sd_defaults_to_n_minus_1_sd_of_pre_scores_of_complete_pairs() -> None:
    # Complete pairs are (10, 5) and (30, 25); the pre score 20 has no post and is dropped first.
    # n−1 SD of [10, 30] = sqrt(((10−20)² + (30−20)²)/1) = sqrt(200) = 14.1421356 (with 20 it would be 10).
    result = change.reliable_change([10, 20, 30, NaN], [5, NaN, 25, 1], reliability=0.5)
    assert result.sd == pytest.approx(14.1421356, abs=1e-7)
    assert result.sd_from_sample
    assert result.complete.tolist() == [True, False, True, False]
    assert np.isnan(result.rc[[1, 3]]).all()


def test_given_sd_is_used_instead_of_the_sample() -> None:
    result = change.reliable_change([10, 30], [5, 25], reliability=0.5, sd=4.0)
    assert result.sd == 4.0
    # S_diff = sqrt(2)·4·sqrt(.5) = 4; RC = −5/4.
    assert result.rc == pytest.approx([-1.25, -1.25])


def test_higher_is_better_turns_a_reliable_rise_into_improvement() -> None:
    result = change.reliable_change([10, 10], [20, 0], reliability=0.5, sd=2.5, higher_is_better=True)
    assert result.improved.tolist() == [True, False]
    assert result.deteriorated.tolist() == [False, True]


def test_too_few_complete_pairs_for_a_sample_sd_is_a_missing_parameter() -> None:
    with pytest.raises(MissingParameterError, match="at least 2 complete"):
        change.reliable_change([10, 12], [NaN, 3], reliability=0.8)


@pytest.mark.parametrize("reliability", [1.0, -0.1, 1.5, NaN])
def test_reliability_outside_0_to_below_1_is_refused(reliability: float) -> None:
    with pytest.raises(ValueError, match="reliability"):
        change.reliable_change([10, 20], [5, 15], reliability=reliability, sd=5)


def test_zero_sd_is_refused() -> None:
    with pytest.raises(ValueError, match="SD"):
        change.reliable_change([10, 10, 10], [5, 5, 5], reliability=0.8)


def test_reliable_change_in_points_is_inclusive() -> None:
    # NHS Talking Therapies wording: a change of 6 or more points on the PHQ-9.
    result = change.reliable_change_in_points([15, 15, 15, NaN], [9, 10, 21, 3], points=6)
    assert result.improved.tolist() == [True, False, False, False]
    assert result.deteriorated.tolist() == [False, False, True, False]
    assert result.method == change.POINTS
    assert np.isnan(result.rc).all()


# --- cut-offs a, b, c ---------------------------------------------------------------------------------


def test_cutoffs_lower_is_better_with_unequal_sds() -> None:
    # M_clin 30, SD_clin 5, M_fun 10, SD_fun 4:
    # a = 30 − 2·5 = 20; b = 10 + 2·4 = 18 (J&T: functional SD; the R package would give 10 + 2·5 = 20);
    # c = (5·10 + 4·30)/(5 + 4) = 170/9.
    norms: dict[str, Any] = {"clinical_mean": 30, "clinical_sd": 5, "functional_mean": 10, "functional_sd": 4}
    assert change.clinical_cutoff("a", **norms) == 20
    assert change.clinical_cutoff("b", **norms) == 18
    assert change.clinical_cutoff("c", **norms) == pytest.approx(170 / 9)


def test_cutoffs_higher_is_better_match_clinicalsignificance_test_calc_cutoff() -> None:
    # clinicalsignificance tests/testthat/test-calc_cutoff.R: M_clin 40, SD 7.5, M_fun 60, SD 7.5,
    # higher is better -> a = 55, c = 50; b = 60 − 2·7.5 = 45 (equal SDs, so both conventions agree).
    norms = {"clinical_mean": 40, "clinical_sd": 7.5, "functional_mean": 60, "functional_sd": 7.5}
    assert change.clinical_cutoff("a", higher_is_better=True, **norms) == 55
    assert change.clinical_cutoff("b", higher_is_better=True, **norms) == 45
    assert change.clinical_cutoff("c", higher_is_better=True, **norms) == 50


def test_cutoff_b_uses_the_functional_sd_when_higher_is_better() -> None:
    # 60 − 2·3 = 54, not 60 − 2·10 = 40.
    assert change.cutoff_b(functional_mean=60, functional_sd=3, higher_is_better=True) == 54


@pytest.mark.parametrize(
    ("criterion", "given", "missing"),
    [
        ("a", {"functional_mean": 1, "functional_sd": 1}, "clinical mean"),
        ("b", {"clinical_mean": 1, "clinical_sd": 1}, "functional mean"),
        ("c", {"clinical_mean": 20, "clinical_sd": 5, "functional_mean": 5}, "functional SD"),
    ],
)
def test_a_missing_norm_is_named(criterion: change.Criterion, given: dict[str, Any], missing: str) -> None:
    with pytest.raises(MissingParameterError, match=missing):
        change.clinical_cutoff(criterion, **given)


def test_unknown_criterion_is_refused() -> None:
    with pytest.raises(ValueError, match="a, b or c"):
        change.clinical_cutoff("d", clinical_mean=1, clinical_sd=1)  # type: ignore[arg-type]


def test_score_on_the_cutoff_is_neither_clinical_nor_functional() -> None:
    scores = [14, 15, 16, NaN]
    assert change.is_clinical(scores, 15).tolist() == [False, False, True, False]
    assert change.is_functional(scores, 15).tolist() == [True, False, False, False]
    assert change.is_clinical(scores, 15, higher_is_better=True).tolist() == [True, False, False, False]
    assert change.is_functional(scores, 15, higher_is_better=True).tolist() == [False, False, True, False]


# --- classes ------------------------------------------------------------------------------------------

# Lower is better, cut-off 15, SD 2.5 and r .5 so S_diff = 2.5 and a change of more than 4.9 is reliable.
CLASS_CASES = [
    (20, 10, RECOVERED),  # −10 reliable; clinical at pre (20 > 15), functional at post (10 < 15)
    (30, 20, IMPROVED),  # reliable, but 20 is not functional
    (14, 8, IMPROVED),  # reliable, but 14 was not clinical
    (15, 8, IMPROVED),  # pre exactly on the cut-off is not clinical (convention 4)
    (20, 15, IMPROVED),  # −5 reliable; post exactly on the cut-off is not functional
    (20, 18, UNCHANGED),  # −2 is not reliable
    (10, 20, HARMED),  # +10 reliable; not clinical at pre, not functional at post
    (15, 21, HARMED),  # pre on the cut-off counts as "not clinical", as the README words harmed
    (12, 15, UNCHANGED),  # +3 is not reliable
    (20, 28, DETERIORATED),  # reliable, but clinical at pre
    (5, 12, DETERIORATED),  # reliable, but still functional at post (12 < 15)
    (NaN, 5, INCOMPLETE),
    (5, NaN, INCOMPLETE),
]


def test_jacobson_truax_classes_on_hand_cases() -> None:
    pre, post, expected = zip(*CLASS_CASES, strict=True)
    result = change.reliable_change(pre, post, reliability=0.5, sd=2.5)
    assert change.classify(result, cutoff=15).tolist() == list(expected)


def test_without_a_cutoff_only_improved_unchanged_deteriorated() -> None:
    pre, post, _ = zip(*CLASS_CASES, strict=True)
    result = change.reliable_change(pre, post, reliability=0.5, sd=2.5)
    classes = change.classify(result)
    assert set(classes.tolist()) == {IMPROVED, UNCHANGED, DETERIORATED, INCOMPLETE}
    assert change.count_classes(classes, with_cutoff=False) == {
        "improved": 5,
        "unchanged": 2,
        "deteriorated": 4,
        "incomplete": 2,
    }


def test_count_classes_with_a_cutoff_lists_all_five() -> None:
    pre, post, _ = zip(*CLASS_CASES, strict=True)
    classes = change.classify(change.reliable_change(pre, post, reliability=0.5, sd=2.5), cutoff=15)
    assert change.count_classes(classes, with_cutoff=True) == {
        "recovered": 1,
        "improved": 4,
        "unchanged": 2,
        "deteriorated": 2,
        "harmed": 2,
        "incomplete": 2,
    }


# --- properties ---------------------------------------------------------------------------------------

scores = st.integers(min_value=0, max_value=80).map(float)
maybe_scores = st.one_of(scores, scores, scores, st.just(NaN))
pairs = st.lists(st.tuples(maybe_scores, maybe_scores), min_size=1, max_size=30)
sds = st.floats(min_value=0.5, max_value=20)
reliabilities = st.floats(min_value=0.0, max_value=0.95)


def _columns(data: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    pre, post = zip(*data, strict=True)
    return np.array(pre), np.array(post)


@settings(max_examples=200, deadline=None)
@given(pairs, sds, reliabilities)
def test_rc_changes_sign_when_pre_and_post_swap(data: list[tuple[float, float]], sd: float, r: float) -> None:
    pre, post = _columns(data)
    forward = change.reliable_change(pre, post, reliability=r, sd=sd)
    backward = change.reliable_change(post, pre, reliability=r, sd=sd)
    np.testing.assert_array_equal(forward.rc, -backward.rc)
    np.testing.assert_array_equal(forward.improved, backward.deteriorated)


@settings(max_examples=200, deadline=None)
@given(pairs, sds, reliabilities, st.integers(min_value=0, max_value=80).map(float))
def test_mirroring_the_scale_and_direction_keeps_every_class(
    data: list[tuple[float, float]], sd: float, r: float, cutoff: float
) -> None:
    pre, post = _columns(data)
    lower = change.reliable_change(pre, post, reliability=r, sd=sd)
    higher = change.reliable_change(-pre, -post, reliability=r, sd=sd, higher_is_better=True)
    np.testing.assert_array_equal(
        change.classify(lower, cutoff=cutoff), change.classify(higher, cutoff=-cutoff)
    )


@settings(max_examples=200, deadline=None)
@given(pairs, sds, reliabilities)
def test_swapping_direction_swaps_improved_and_deteriorated(
    data: list[tuple[float, float]], sd: float, r: float
) -> None:
    pre, post = _columns(data)
    lower = change.classify(change.reliable_change(pre, post, reliability=r, sd=sd))
    higher = change.classify(change.reliable_change(pre, post, reliability=r, sd=sd, higher_is_better=True))
    swap = {IMPROVED: DETERIORATED, DETERIORATED: IMPROVED}
    assert higher.tolist() == [swap.get(c, c) for c in lower.tolist()]


@settings(max_examples=200, deadline=None)
@given(pairs, sds, reliabilities, st.floats(min_value=0, max_value=80))
def test_every_complete_pair_gets_exactly_one_class(
    data: list[tuple[float, float]], sd: float, r: float, cutoff: float
) -> None:
    pre, post = _columns(data)
    result = change.reliable_change(pre, post, reliability=r, sd=sd)
    classes = change.classify(result, cutoff=cutoff)
    counts = change.count_classes(classes, with_cutoff=True)
    assert sum(counts.values()) == len(data)
    assert counts["incomplete"] == int((~result.complete).sum())
    # Recovered and harmed are refinements of reliable improvement and deterioration.
    assert counts["recovered"] + counts["improved"] == int(result.improved.sum())
    assert counts["harmed"] + counts["deteriorated"] == int(result.deteriorated.sum())


def test_one_client_and_many_give_the_same_answer() -> None:
    rng = np.random.default_rng(7)
    pre = rng.integers(0, 28, 1000).astype(float)
    post = rng.integers(0, 28, 1000).astype(float)
    many = change.classify(change.reliable_change(pre, post, reliability=0.84, sd=5.7), cutoff=9.9)
    for i in range(0, 1000, 97):
        one = change.classify(
            change.reliable_change(pre[i : i + 1], post[i : i + 1], reliability=0.84, sd=5.7), cutoff=9.9
        )
        assert one.tolist() == [many[i]]


# --- minimal important difference ---------------------------------------------------------------------


def test_mid_is_inclusive_in_both_directions() -> None:
    # MID 5, lower is better: −5 improved, −4 unchanged, +5 deteriorated, +4 unchanged.
    classes = change.mid_change([20, 20, 20, 20, NaN], [15, 16, 25, 24, 10], mid=5)
    assert classes.tolist() == [IMPROVED, UNCHANGED, DETERIORATED, UNCHANGED, INCOMPLETE]


def test_mid_higher_is_better() -> None:
    assert change.mid_change([10, 10], [13, 7], mid=3, higher_is_better=True).tolist() == [
        IMPROVED,
        DETERIORATED,
    ]


def test_mid_must_be_positive() -> None:
    with pytest.raises(ValueError, match="minimal important difference"):
        change.mid_change([1], [2], mid=0)


# --- NHS Talking Therapies ----------------------------------------------------------------------------


def test_talking_therapies_thresholds_are_the_published_ones() -> None:
    # NHS Talking Therapies Manual / Fingertips glossary: caseness PHQ-9 ≥ 10, GAD-7 ≥ 8;
    # reliable change 6 (PHQ-9) and 4 (GAD-7) points.
    assert (change.PHQ9_CASENESS, change.GAD7_CASENESS) == (10, 8)
    assert (change.PHQ9_RELIABLE_CHANGE, change.GAD7_RELIABLE_CHANGE) == (6, 4)


# (PHQ-9 pre, post, GAD-7 pre, post) -> (case at start, recovery, reliable improvement,
#                                        reliable deterioration, reliable recovery)
TT_CASES = [
    ((15, 8, 10, 5), (True, True, True, False, True)),  # both below caseness at the end; PHQ −7
    ((15, 9, 5, 9), (True, False, False, True, False)),  # PHQ −6 but GAD +4: deterioration cancels it
    ((9, 9, 7, 7), (False, False, False, False, False)),  # never a case
    ((10, 9, 7, 7), (True, True, False, False, False)),  # PHQ exactly 10 is a case; −1 not reliable
    ((12, 12, 12, 8), (True, False, True, False, False)),  # GAD 8 at the end is still a case; GAD −4
    ((20, 4, 9, 7), (True, True, True, False, True)),  # GAD −2 is neither improvement nor deterioration
    ((5, 11, 3, 3), (False, False, False, True, False)),  # PHQ +6
    ((15, 9, 10, 7), (True, True, True, False, True)),  # PHQ −6 and GAD −3; both below caseness
]


@pytest.mark.parametrize(("scores", "expected"), TT_CASES)
def test_talking_therapies_outcomes(scores: tuple[float, ...], expected: tuple[bool, ...]) -> None:
    out = change.talking_therapies_outcomes(*([s] for s in scores))
    got = (
        out.case_at_start[0],
        out.recovery[0],
        out.reliable_improvement[0],
        out.reliable_deterioration[0],
        out.reliable_recovery[0],
    )
    assert tuple(bool(g) for g in got) == expected
    assert out.paired[0]


def test_talking_therapies_vectorised_over_referrals() -> None:
    columns = [np.array([case[0][k] for case in TT_CASES], dtype=float) for k in range(4)]
    out = change.talking_therapies_outcomes(*columns)
    assert out.recovery.tolist() == [case[1][1] for case in TT_CASES]
    assert out.reliable_recovery.tolist() == [case[1][4] for case in TT_CASES]


def test_talking_therapies_needs_all_four_scores() -> None:
    out = change.talking_therapies_outcomes([15, 15], [5, NaN], [10, 10], [NaN, 5])
    assert out.paired.tolist() == [False, False]
    assert not (
        out.case_at_start | out.recovery | out.reliable_improvement | out.reliable_deterioration
    ).any()


def test_talking_therapies_with_an_anxiety_disorder_specific_measure() -> None:
    # An ADSM with caseness 20 and reliable change 10 replaces the GAD-7: 25 -> 12 is a case that
    # recovers with a reliable drop of 13; PHQ-9 stays below caseness.
    out = change.talking_therapies_outcomes(
        [8], [7], [25], [12], anxiety_caseness=20, anxiety_reliable_change=10
    )
    assert (out.case_at_start[0], out.recovery[0], out.reliable_recovery[0]) == (True, True, True)


# --- parameters from a definition ---------------------------------------------------------------------

SCALE_JSON = {
    "id": "total",
    "direction": "higher_is_better",
    "reliable_change": {"reliability": 0.84, "sd": 5.7, "rci": 6, "source": "test"},
    "clinical_significance": {
        "clinical_mean": None,
        "clinical_sd": None,
        "functional_mean": 2.91,
        "functional_sd": 3.5,
        "source": "test",
    },
    "mid": {"value": 5, "source": "test"},
}


def test_parameters_from_a_json_scale() -> None:
    params = change.parameters_from_scale(SCALE_JSON)
    assert params == change.ChangeParameters(
        reliability=0.84,
        sd=5.7,
        rci_points=6,
        functional_mean=2.91,
        functional_sd=3.5,
        mid=5,
        higher_is_better=True,
    )


def test_parameters_from_an_attribute_object() -> None:
    scale = SimpleNamespace(
        direction="lower_is_better",
        reliable_change=SimpleNamespace(reliability=0.9, sd=None, rci=None),
        clinical_significance=None,
        mid=None,
    )
    assert change.parameters_from_scale(scale) == change.ChangeParameters(reliability=0.9)


def test_parameters_from_the_shipped_phq9_definition() -> None:
    doc = json.loads((catalogue.CORE_DIR / "phq9.json").read_text(encoding="utf-8"))
    scale_json = doc["scoring"]["scales"][0]
    loaded = catalogue.get("phq9").scale(scale_json["id"])
    assert change.parameters_from_scale(loaded) == change.parameters_from_scale(scale_json)
    assert change.parameters_from_scale(loaded).rci_points == scale_json["reliable_change"]["rci"]


def test_unknown_direction_is_refused() -> None:
    with pytest.raises(ValueError, match="direction"):
        change.parameters_from_scale({"direction": "sideways"})
