"""Sudden gains and losses (Tang & DeRubeis 1999; Lutz et al. 2013) on hand-worked series.

Expected values were worked out by hand from the three criteria and the project's conventions 5-7
(docs/change-statistics.md); the t quantiles are checked against printed tables and closed forms.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from spacebetween.core import sudden_gains as sg

NaN = math.nan


# --- Student t ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("df", "table"), [(1, 12.706), (2, 4.303), (3, 3.182), (4, 2.776), (30, 2.042)])
def test_critical_t_matches_printed_tables(df: int, table: float) -> None:
    assert round(sg.critical_t(df), 3) == table


def test_t_quantile_matches_closed_forms() -> None:
    # df 1 is the Cauchy distribution: t_p = tan(π(p − ½)).
    assert sg.student_t_quantile(0.975, 1) == pytest.approx(math.tan(math.pi * 0.475), rel=1e-12)
    # df 2: t_p = (2p − 1)/sqrt(2p(1 − p)) (Hill 1970).
    p = 0.975
    assert sg.student_t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-12)


def test_t_cdf_closed_form_df_2_and_symmetry() -> None:
    # df 2: F(t) = ½ + t / (2·sqrt(2 + t²)).
    for t in (-3.0, -0.5, 0.0, 1.0, 4.303):
        assert sg.student_t_cdf(t, 2) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)), abs=1e-13)
    assert sg.student_t_cdf(-1.7, 5) == pytest.approx(1 - sg.student_t_cdf(1.7, 5), abs=1e-14)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 7, 25])
@pytest.mark.parametrize("p", [0.6, 0.9, 0.975, 0.995])
def test_quantile_inverts_the_cdf(df: int, p: float) -> None:
    assert sg.student_t_cdf(sg.student_t_quantile(p, df), df) == pytest.approx(p, abs=1e-12)
    assert sg.student_t_quantile(1 - p, df) == pytest.approx(-sg.student_t_quantile(p, df))


# --- the three criteria ---------------------------------------------------------------------------------


def one(series: list[float], **kwargs: object) -> sg.SuddenGains:
    return sg.sudden_gains(np.array([series], dtype=float), **kwargs)  # type: ignore[arg-type]


def sessions_with_gains(result: sg.SuddenGains) -> list[int]:
    return result.events()[1].tolist()


def test_a_clear_gain_between_sessions_3_and_4() -> None:
    # 20 -> 10 at sessions 3 -> 4: drop 10 ≥ 7, 10 ≥ 25 % of 20; pre window 20, 21, 20 (mean 20.33,
    # SS 0.667), post window 10, 9, 10 (mean 9.67, SS 0.667): pooled SD sqrt(1.333/4) = 0.577,
    # 2.776·0.577 = 1.60 < 10.67.
    result = one([20, 21, 20, 10, 9, 10], cutoff=7)
    assert sessions_with_gains(result) == [3]
    assert result.magnitude[0, 2] == 10
    # Reversal value x_{N+1} + (x_N − x_{N+1})/2 = 10 + 5 = 15; the later scores 9 and 10 stay below it.
    assert result.reversal_value[0, 2] == 15
    assert not result.reversed[0, 2]


def test_reaching_the_reversal_value_from_session_n_plus_2_reverses_the_gain() -> None:
    # As above with session 6 = 15, exactly the reversal value (inclusive). Criterion 3 still holds:
    # post 10, 9, 15 (mean 11.33, SS 20.67), pooled SD sqrt(21.33/4) = 2.31, 2.776·2.31 = 6.41 < 9.
    result = one([20, 21, 20, 10, 9, 15], cutoff=7)
    assert sessions_with_gains(result) == [3]
    assert result.reversed[0, 2]


def test_just_below_the_reversal_value_is_not_reversed() -> None:
    # Reversal value 15; the later scores 14.9, 12, 11 stay below it.
    result = one([20, 21, 20, 10, 14.9, 12, 11], cutoff=7)
    assert sessions_with_gains(result) == [3]
    assert not result.reversed[0, 2]


def test_session_n_plus_2_can_reverse() -> None:
    # 15 at session 5 (N+2) reaches the reversal value at once; post window 10, 15, 9 keeps criterion 3
    # (mean 11.33, SS 20.67, as in the test above).
    result = one([20, 21, 20, 10, 15, 9], cutoff=7)
    assert sessions_with_gains(result) == [3]
    assert result.reversed[0, 2]


def test_criteria_1_and_2_are_inclusive() -> None:
    # 28 -> 21: drop 7 ≥ 7 and 7 ≥ .25·28 = 7; windows have no spread, so criterion 3 holds.
    assert sessions_with_gains(one([28, 28, 28, 21, 21, 21], cutoff=7)) == [3]
    assert sessions_with_gains(one([28, 28, 28, 21.5, 21, 21], cutoff=7)) == []


def test_criterion_2_rejects_a_drop_small_relative_to_the_pre_gain_score() -> None:
    # 50 -> 42: 8 ≥ 7 but 8 < 12.5; without criterion 2 it is a gain.
    assert sessions_with_gains(one([50, 50, 50, 42, 42, 42], cutoff=7)) == []
    assert sessions_with_gains(one([50, 50, 50, 42, 42, 42], cutoff=7, fraction=0)) == [3]


def test_lutz_adjustment_uses_the_t_for_the_values_present() -> None:
    # Pre window 13, 11 (session 1 missing: n1 2, mean 12, SS 2), post 4, 8.5, 6.25 (n2 3, mean 6.25,
    # SS 10.125); difference 5.75. df 3: pooled SD sqrt(12.125/3) = 2.010, 3.182·2.010 = 6.40 > 5.75: no gain.
    # (With the complete-data t of 2.776 it would pass: 2.776·2.010 = 5.58.)
    missing = one([NaN, 13, 11, 4, 8.5, 6.25], cutoff=7)
    assert missing.criterion1[0, 2] and missing.criterion2[0, 2]
    assert not missing.criterion3[0, 2]
    # With session 1 present (12): n1 3, same mean and SS; df 4: pooled SD sqrt(12.125/4) = 1.741,
    # 2.776·1.741 = 4.83 < 5.75: a gain.
    assert sessions_with_gains(one([12, 13, 11, 4, 8.5, 6.25], cutoff=7)) == [3]


def test_pooled_sd_not_standard_error_of_the_difference() -> None:
    # Pre 30, 24, 22 (mean 25.33, SS 34.67), post 12, 19, 14 (mean 15, SS 26): difference 10.33.
    # Pooled SD sqrt(60.67/4) = 3.894; 2.776·3.894 = 10.81 > 10.33: no gain. The standard error of the
    # difference, 3.894·sqrt(1/3 + 1/3) = 3.180, would give 8.83 and call it a gain.
    result = one([30, 24, 22, 12, 19, 14], cutoff=7)
    assert result.criterion1[0, 2] and result.criterion2[0, 2]
    assert not result.criterion3[0, 2]
    # Post 12, 17, 14 (mean 14.33, SS 12.67): pooled SD sqrt(47.33/4) = 3.440,
    # 2.776·3.440 = 9.55 < 11: a gain.
    assert sessions_with_gains(one([30, 24, 22, 12, 17, 14], cutoff=7)) == [3]


def test_windows_need_two_values_and_a_gain_cannot_span_a_missing_session() -> None:
    # The big drop 20 -> 10 spans the missing session 4; 20 -> (missing) and (missing) -> 10 are not gains.
    result = one([20, 20, 20, NaN, 10, 10, 10], cutoff=7)
    assert sessions_with_gains(result) == []
    assert not result.testable[0, 2] and not result.testable[0, 3]


def test_the_first_and_last_intervals_are_never_gains() -> None:
    # 40 -> 20 at 1→2 and 20 -> 5 at 4→5 would pass criteria 1 and 2, but a window has a single value.
    result = one([40, 20, 21, 20, 5], cutoff=7)
    assert not result.testable[0, 0] and not result.testable[0, 3]
    assert sessions_with_gains(result) == []


def test_higher_is_better_gain_is_an_increase() -> None:
    # 10 -> 18: rise 8 ≥ 7 and ≥ .25·10 = 2.5; reversal value 18 − 4 = 14.
    result = one([10, 10, 10, 18, 18, 18], cutoff=7, higher_is_better=True)
    assert sessions_with_gains(result) == [3]
    assert result.magnitude[0, 2] == 8
    assert result.reversal_value[0, 2] == 14
    assert sessions_with_gains(one([10, 10, 10, 18, 18, 18], cutoff=7)) == []


def test_higher_is_better_reversal_when_a_later_score_falls_back() -> None:
    result = one([10, 10, 10, 18, 18, 14], cutoff=7, higher_is_better=True)
    assert sessions_with_gains(result) == [3]
    assert result.reversed[0, 2]


def test_sudden_loss_on_a_lower_is_better_measure() -> None:
    # 10 -> 18 is a worsening of 8; reversed when a later score comes back to 18 − 4 = 14 or below.
    losses = sg.sudden_losses(
        np.array([[10, 10, 10, 18, 18, 18], [10, 10, 10, 18, 18, 14]], dtype=float), cutoff=7
    )
    assert losses.events()[1].tolist() == [3, 3]
    assert losses.magnitude[0, 2] == 8
    assert losses.reversed[:, 2].tolist() == [False, True]
    assert not sg.sudden_gains(np.array([[10, 10, 10, 18, 18, 18]], dtype=float), cutoff=7).gain.any()


def test_events_are_in_row_then_session_order() -> None:
    scores = np.array([[20, 21, 20, 10, 9, 10], [9, 9, 9, 9, 9, 9], [30, 30, 30, 20, 20, 20]], dtype=float)
    rows, sessions = sg.sudden_gains(scores, cutoff=7).events()
    assert rows.tolist() == [0, 2]
    assert sessions.tolist() == [3, 3]


@pytest.mark.parametrize("cutoff", [0, -7, NaN])
def test_cutoff_must_be_positive(cutoff: float) -> None:
    with pytest.raises(ValueError, match="criterion 1"):
        one([1, 2, 3, 4], cutoff=cutoff)


def test_short_series_have_no_intervals_or_none_testable() -> None:
    assert one([20], cutoff=7).gain.shape == (1, 0)
    assert not one([20, 10], cutoff=7).testable.any()


# --- a plain loop, written straight from the definitions, as a second implementation -------------------


def reference(series: np.ndarray, cutoff: float, fraction: float) -> list[tuple[int, bool]]:
    """(pre-gain session, reversed) of each gain in one lower-is-better series."""
    out = []
    s = len(series)
    for n in range(s - 1):
        x_n, x_n1 = series[n], series[n + 1]
        if math.isnan(x_n) or math.isnan(x_n1):
            continue
        pre = [v for v in series[max(0, n - 2) : n + 1] if not math.isnan(v)]
        post = [v for v in series[n + 1 : n + 4] if not math.isnan(v)]
        if len(pre) < 2 or len(post) < 2:
            continue
        m1, m2 = sum(pre) / len(pre), sum(post) / len(post)
        ss = sum((v - m1) ** 2 for v in pre) + sum((v - m2) ** 2 for v in post)
        df = len(pre) + len(post) - 2
        if (
            x_n - x_n1 >= cutoff
            and x_n - x_n1 >= fraction * x_n
            and m1 - m2 > sg.critical_t(df) * math.sqrt(ss / df)
        ):
            later = [v for v in series[n + 2 :] if not math.isnan(v)]
            out.append((n + 1, any(v >= x_n1 + (x_n - x_n1) / 2 for v in later)))
    return out


score_matrices = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 6), st.integers(2, 12)),
    elements=st.one_of(st.integers(0, 63).map(float), st.just(NaN)),
)


@settings(max_examples=300, deadline=None)
@given(score_matrices, st.sampled_from([3.0, 5.0, 7.0]), st.sampled_from([0.0, 0.25]))
def test_vectorised_result_equals_the_plain_loop(scores: np.ndarray, cutoff: float, fraction: float) -> None:
    result = sg.sudden_gains(scores, cutoff=cutoff, fraction=fraction)
    rows, sessions = result.events()
    got = [(int(r), int(n), bool(result.reversed[r, n - 1])) for r, n in zip(rows, sessions, strict=True)]
    expected = [
        (r, n, rev) for r in range(scores.shape[0]) for n, rev in reference(scores[r], cutoff, fraction)
    ]
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(score_matrices, st.integers(-100, 100).map(float))
def test_criteria_1_and_3_do_not_depend_on_the_scale_origin(scores: np.ndarray, shift: float) -> None:
    base = sg.sudden_gains(scores, cutoff=7, fraction=0)
    moved = sg.sudden_gains(scores + shift, cutoff=7, fraction=0)
    np.testing.assert_array_equal(base.gain, moved.gain)
    np.testing.assert_array_equal(base.reversed, moved.reversed)


@settings(max_examples=300, deadline=None)
@given(score_matrices)
def test_higher_is_better_mirrors_lower_is_better(scores: np.ndarray) -> None:
    lower = sg.sudden_gains(scores, cutoff=7, fraction=0)
    higher = sg.sudden_gains(-scores, cutoff=7, fraction=0, higher_is_better=True)
    np.testing.assert_array_equal(lower.gain, higher.gain)
    np.testing.assert_array_equal(lower.reversed, higher.reversed)
    np.testing.assert_array_equal(lower.reversal_value, -higher.reversal_value)


@settings(max_examples=300, deadline=None)
@given(score_matrices)
def test_losses_are_gains_of_the_mirrored_series(scores: np.ndarray) -> None:
    losses = sg.sudden_losses(scores, cutoff=7, fraction=0)
    gains_of_mirror = sg.sudden_gains(-scores, cutoff=7, fraction=0)
    np.testing.assert_array_equal(losses.gain, gains_of_mirror.gain)
    np.testing.assert_array_equal(losses.reversed, gains_of_mirror.reversed)


@settings(max_examples=300, deadline=None)
@given(score_matrices)
def test_structural_guarantees(scores: np.ndarray) -> None:
    result = sg.sudden_gains(scores, cutoff=7)
    assert not result.gain[:, 0].any() and not result.gain[:, -1].any()
    assert not (result.gain & ~result.testable).any()
    assert not (result.reversed & ~result.gain).any()
    assert (result.magnitude[result.gain] >= 7).all()
