"""Trajectories and signals on hand-built series whose answers are worked out by hand in each test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spacebetween.core import instruments as catalogue
from spacebetween.core.change import parameters_from_scale
from spacebetween.core.instruments import Cutoff
from spacebetween.core.trajectories import (
    MIN_EPISODES_TO_FIT,
    ExpectedRecovery,
    NotEnoughData,
    Panel,
    Signal,
    SignalKind,
    SignalRules,
    band_status,
    detect_signals,
    fit_expected_recovery,
    overdue,
    scale_signals,
)

NAN = math.nan
PHQ9_RC = 6.0  # NHS Talking Therapies: a change of 6 or more points on the PHQ-9 is reliable


def panel(*rows: list[float]) -> Panel:
    width = max(len(r) for r in rows)
    scores = np.array([r + [NAN] * (width - len(r)) for r in rows], dtype=np.float64)
    return Panel(keys=np.arange(len(rows)), scores=scores)


def model(
    *,
    coefficients: tuple[float, float, float, float] = (0.0, 1.0, 0.0, 0.0),
    quantiles: tuple[float, float] = (-2.0, 3.0),
    higher_is_better: bool = False,
    max_session: int = 10,
) -> ExpectedRecovery:
    """A hand-made model; with the default coefficients the expected score is the intake itself."""
    return ExpectedRecovery(
        instrument_id="test",
        higher_is_better=higher_is_better,
        coefficients=coefficients,
        residual_quantiles=quantiles,
        coverage=0.8,
        n_episodes=40,
        n_scores=200,
        max_session=max_session,
    )


def found(signals: object) -> list[tuple[int, str, int, float, float]]:
    s = signals
    assert hasattr(s, "row")
    return [
        (int(r), str(k), int(n), float(v), float(t))
        for r, k, n, v, t in zip(s.row, s.kind, s.session_number, s.value, s.threshold, strict=True)  # type: ignore[attr-defined]
    ]


# --- Panel ------------------------------------------------------------------------------------------


def test_from_long_pivots_by_key_and_session_with_gaps() -> None:
    p = Panel.from_long(["b", "a", "a", "a"], [1, 1, 2, 4], [10, 20, 15, 12])
    assert p.keys.tolist() == ["a", "b"]
    np.testing.assert_array_equal(p.scores, [[20, 15, NAN, 12], [10, NAN, NAN, NAN]])


def test_from_long_accepts_whole_numbers_stored_as_floats() -> None:
    p = Panel.from_long([7, 7], [1.0, 3.0], [5, 6])
    np.testing.assert_array_equal(p.scores, [[5, NAN, 6]])


def test_from_long_refuses_a_duplicate_session_naming_the_key_and_both_entries() -> None:
    with pytest.raises(ValueError, match=r"two scores for 'a' at session 2 \(entries 1 and 3"):
        Panel.from_long(["a", "a", "b", "a"], [1, 2, 2, 2], [1, 2, 3, 4])


@pytest.mark.parametrize("bad", [2.5, 0, -1, NAN])
def test_from_long_refuses_a_session_that_is_not_an_integer_from_1(bad: float) -> None:
    with pytest.raises(ValueError, match=r"session number .* of 'x' \(entry 1"):
        Panel.from_long(["x", "x"], [1, bad], [3, 4])


def test_from_long_refuses_text_session_numbers() -> None:
    with pytest.raises(ValueError, match="must be integers"):
        Panel.from_long(["x"], ["1"], [3])


def test_intake_and_last_session_of_gappy_one_score_and_empty_rows() -> None:
    p = panel([NAN, NAN, 14, NAN, 9, NAN], [NAN] * 6, [7])
    np.testing.assert_array_equal(p.intake(), [14, NAN, 7])
    assert p.intake_session().tolist() == [3, 0, 1]
    assert p.last_session().tolist() == [5, 0, 1]
    np.testing.assert_array_equal(p.last_score(), [9, NAN, 7])


# --- Expected recovery ------------------------------------------------------------------------------


def _mirrored_pairs(n_pairs: int) -> tuple[Panel, list[float]]:
    """Pairs of episodes with the same intake and session whose residuals are +k and -k.

    Within a pair the residuals cancel, so they are orthogonal to every column of the design and OLS
    recovers the generating coefficients exactly; the residuals are then ±1 .. ±n_pairs.
    """
    b0, b1, b2, b3 = 2.0, 0.9, -1.5, -0.2
    rows = []
    for k in range(1, n_pairs + 1):
        intake = float(8 + k % 7)
        session = 2 + k % 5
        expected = b0 + b1 * intake + b2 * math.log(session) + b3 * intake * math.log(session)
        for sign in (1, -1):
            row = [intake] + [NAN] * 6
            row[session - 1] = expected + sign * k
            rows.append(row)
    return panel(*rows), [b0, b1, b2, b3]


def test_fit_recovers_the_coefficients_and_takes_the_band_from_residual_percentiles() -> None:
    p, coefficients = _mirrored_pairs(20)
    fit = fit_expected_recovery(p, instrument_id="phq9", higher_is_better=False)
    np.testing.assert_allclose(fit.coefficients, coefficients, atol=1e-9)
    # 40 residuals ±1..±20; numpy's default (linear, Hyndman & Fan type 7) 10th percentile lies at
    # position 0.1 · 39 = 3.9 of the sorted values −20, −19, −18, −17, −16, …: −17 + 0.9 = −16.1.
    np.testing.assert_allclose(fit.residual_quantiles, (-16.1, 16.1), atol=1e-9)
    assert (fit.n_episodes, fit.n_scores, fit.max_session, fit.coverage) == (40, 40, 6, 0.8)


def test_fit_needs_min_episodes_with_a_score_after_the_intake() -> None:
    p, _ = _mirrored_pairs(20)
    # Drop one episode's later score and add two that never had one: 39 usable episodes.
    scores = p.scores.copy()
    scores[0, 1:] = NAN
    extra = np.array([[12.0] + [NAN] * 6, [NAN] * 7])
    short = Panel(keys=np.arange(42), scores=np.vstack([scores, extra]))
    with pytest.raises(NotEnoughData) as info:
        fit_expected_recovery(short, instrument_id="phq9", higher_is_better=False)
    assert (info.value.needed, info.value.have) == (MIN_EPISODES_TO_FIT, 39) == (40, 39)
    fit = fit_expected_recovery(short, instrument_id="phq9", higher_is_better=False, min_episodes=39)
    assert fit.n_episodes == 39


def test_fit_refuses_intakes_that_do_not_vary() -> None:
    rows = [[10.0, 10.0 - k % 3, 9.0 - k % 2] for k in range(50)]
    with pytest.raises(NotEnoughData, match="do not vary enough"):
        fit_expected_recovery(panel(*rows), instrument_id="phq9", higher_is_better=False)


def test_expected_and_band_follow_the_formula_and_stop_outside_the_fitted_sessions() -> None:
    m = model(coefficients=(1.0, 0.5, -2.0, 0.1), quantiles=(-3.0, 4.0), max_session=8)
    intake, s = 20.0, 4
    by_hand = 1.0 + 0.5 * 20 - 2.0 * math.log(4) + 0.1 * 20 * math.log(4)
    assert m.expected(intake, s) == pytest.approx(by_hand)
    low, high = m.band([intake, intake, intake], [1, s, 9])
    np.testing.assert_allclose(low, [NAN, by_hand - 3, NAN])
    np.testing.assert_allclose(high, [NAN, by_hand + 4, NAN])


def test_model_json_round_trip_and_refusal_of_another_model() -> None:
    m = model(coefficients=(1.0, 0.5, -2.0, 0.1))
    assert ExpectedRecovery.from_json(m.to_json()) == m
    with pytest.raises(ValueError, match="unknown expected-recovery model"):
        ExpectedRecovery.from_json({**m.to_json(), "model": "something else"})
    with pytest.raises(ValueError, match="not an expected-recovery model"):
        ExpectedRecovery.from_json({"instrument_id": "x"})


# --- Band status ------------------------------------------------------------------------------------


def test_band_status_lower_is_better_edges_inside_intake_and_beyond_max_session_unbanded() -> None:
    # Expected = intake 10, band [8, 13] at every session up to 4.
    p = panel([10, 13, 13.5, 7.5, 99], [10, 8, NAN, 7.9])
    status = band_status(p, model(max_session=4))
    assert status.tolist() == [[0, 0, 1, -1, 0], [0, 0, 0, -1, 0]]


def test_band_status_higher_is_better_is_worse_below_the_band() -> None:
    p = panel([10, 7.5, 13.5, 8, 13])
    status = band_status(p, model(higher_is_better=True))
    assert status.tolist() == [[0, 1, -1, 0, 0]]


def test_band_status_without_a_model_is_all_zero() -> None:
    assert band_status(panel([10, 30, 0]), None).tolist() == [[0, 0, 0]]


# --- Signals ----------------------------------------------------------------------------------------


def test_not_on_track_only_at_the_last_score_and_only_beyond_the_edge() -> None:
    # Band [8, 13] around intake 10 (lower is better).
    p = panel(
        [10, 12, 14],  # last 14 > 13: not on track
        [10, 12, 13],  # exactly on the edge: inside
        [10, 20, 12],  # earlier score outside, last inside: nothing now
        [10, 12, 14, NAN, 14],  # session 5 beyond max_session 4: no band, no signal
    )
    got = detect_signals(p, rci_points=None, higher_is_better=False, model=model(max_session=4))
    assert found(got) == [(0, "not_on_track", 3, 14.0, 13.0)]


def test_not_on_track_for_higher_is_better_is_below_the_band() -> None:
    p = panel([10, 7], [10, 8], [10, 14])
    got = detect_signals(p, rci_points=None, higher_is_better=True, model=model(higher_is_better=True))
    assert found(got) == [(0, "not_on_track", 2, 7.0, 8.0)]


def test_no_model_no_not_on_track() -> None:
    got = detect_signals(panel([10, 27]), rci_points=None, higher_is_better=False, model=None)
    assert len(got) == 0


def test_reliable_deterioration_is_inclusive_at_the_reliable_change() -> None:
    # PHQ-9: a rise of 6 or more points is reliable (NHS Talking Therapies Manual, "6 or more").
    p = panel([10, 12, 16], [10, 12, 15], [NAN, 10, NAN, 17])
    got = detect_signals(p, rci_points=PHQ9_RC, higher_is_better=False, model=None)
    assert found(got) == [
        (0, "reliable_deterioration", 3, 16.0, 16.0),
        (2, "reliable_deterioration", 4, 17.0, 16.0),
    ]


def test_reliable_deterioration_for_higher_is_better_is_a_fall() -> None:
    p = panel([15, 12], [15, 13], [15, 21])
    got = detect_signals(p, rci_points=3.0, higher_is_better=True, model=None)
    assert found(got) == [(0, "reliable_deterioration", 2, 12.0, 12.0)]


def test_no_reliable_improvement_from_the_configured_session_on() -> None:
    p = panel(
        [15, NAN, NAN, NAN, NAN, 10],  # 5 points by session 6: not reliable
        [15, NAN, NAN, NAN, NAN, 9],  # 6 points: reliable improvement (inclusive)
        [15, NAN, NAN, NAN, 14],  # last score at session 5: too early to say
        [15, NAN, NAN, NAN, NAN, NAN, NAN, NAN, 15],  # session 9: still none
    )
    got = detect_signals(p, rci_points=PHQ9_RC, higher_is_better=False, model=None)
    assert found(got) == [
        (0, "no_reliable_improvement", 6, 10.0, 9.0),
        (3, "no_reliable_improvement", 9, 15.0, 9.0),
    ]
    earlier = detect_signals(
        p,
        rci_points=PHQ9_RC,
        higher_is_better=False,
        model=None,
        rules=SignalRules(no_improvement_by_session=5),
    )
    assert [(r, n) for r, k, n, _, _ in found(earlier)] == [(0, 6), (2, 5), (3, 9)]


def test_no_reliable_improvement_for_higher_is_better_needs_a_rise() -> None:
    p = panel([10, 12], [10, 13])
    got = detect_signals(
        p, rci_points=3.0, higher_is_better=True, model=None, rules=SignalRules(no_improvement_by_session=2)
    )
    assert found(got) == [(0, "no_reliable_improvement", 2, 12.0, 13.0)]


def test_one_score_and_empty_rows_give_no_signals() -> None:
    p = panel([NAN] * 8, [NAN, NAN, NAN, NAN, NAN, NAN, 20, NAN], [10])
    got = detect_signals(p, rci_points=PHQ9_RC, higher_is_better=False, model=model())
    assert len(got) == 0


def test_every_sudden_gain_is_reported_with_its_pregain_session() -> None:
    # Step 3 → 4: 20 → 10 is ≥ 6 points and ≥ 25% of 20; pre window 20, 21, 20 (mean 20.33) against
    # post window 10, 9, 10 (mean 9.67): pooled SD sqrt((0.667 + 0.667) / 4) = 0.577, t(4) = 2.776,
    # so 10.67 > 1.60. No other step falls by 6. The last score is a reliable improvement: no other signal.
    p = panel([20, 21, 20, 10, 9, 10])
    got = detect_signals(p, rci_points=PHQ9_RC, higher_is_better=False, model=None)
    assert found(got) == [(0, "sudden_gain", 3, 10.0, 6.0)]
    larger = detect_signals(p, rci_points=PHQ9_RC, higher_is_better=False, model=None, sudden_gain_points=11)
    assert len(larger) == 0


def test_sudden_gain_on_a_higher_is_better_measure_is_a_rise() -> None:
    p = panel([5, 4, 5, 15, 16, 15], [20, 21, 20, 10, 9, 10])
    got = detect_signals(p, rci_points=PHQ9_RC, higher_is_better=True, model=None)
    kinds = [(r, k, n) for r, k, n, _, _ in found(got)]
    # Row 1 fell by 10 on a higher-is-better measure: a reliable deterioration, not a gain.
    assert kinds == [
        (0, "sudden_gain", 3),
        (1, "reliable_deterioration", 6),
        (1, "no_reliable_improvement", 6),
    ]


def test_without_a_reliable_change_only_an_explicit_sudden_gain_cutoff_counts() -> None:
    p = panel([20, 21, 20, 10, 9, 10])
    assert len(detect_signals(p, rci_points=None, higher_is_better=False, model=None)) == 0
    got = detect_signals(p, rci_points=None, higher_is_better=False, model=None, sudden_gain_points=7)
    assert [k for _, k, _, _, _ in found(got)] == ["sudden_gain"]


def test_signals_of_one_row_in_session_order_with_plain_explanations() -> None:
    p = panel([12, 20, 21, 20, 10, 9, 10, 19], [5, 6])
    got = detect_signals(p, rci_points=PHQ9_RC, higher_is_better=False, model=model(quantiles=(-2, 3)))
    assert [(s.kind, s.session_number) for s in got.for_row(0)] == [
        (SignalKind.SUDDEN_GAIN, 4),
        (SignalKind.NOT_ON_TRACK, 8),
        (SignalKind.RELIABLE_DETERIORATION, 8),
        (SignalKind.NO_RELIABLE_IMPROVEMENT, 8),
    ]
    assert got.for_row(1) == []
    texts = [s.explain("PHQ-9") for s in got.for_row(0)]
    assert texts[0].startswith("PHQ-9 improved by 10 points from session 4 to session 5 (at least 6 points")
    assert texts[1] == (
        "PHQ-9 19 at session 8 is above the expected range for this intake (up to 15): not on track"
    )
    assert "(18 or worse): reliable deterioration" in texts[2]
    assert "(that would take 6 or better)" in texts[3]
    assert got.counts() == {
        "not_on_track": 1,
        "reliable_deterioration": 1,
        "no_reliable_improvement": 1,
        "not_a_case_at_intake": 0,
        "sudden_gain": 1,
        "overdue": 0,
    }


def test_signal_rules_refuse_the_intake_session_and_zero_days() -> None:
    with pytest.raises(ValueError, match="no_improvement_by_session"):
        SignalRules(no_improvement_by_session=1)
    with pytest.raises(ValueError, match="overdue_after_days"):
        SignalRules(overdue_after_days=0)


def test_overdue_is_more_than_the_allowed_days_and_never_for_no_date() -> None:
    last = np.array(["2026-01-01", "2026-01-02T23:59", "NaT", "2026-02-01"], dtype="datetime64[m]")
    today = np.datetime64("2026-01-16")
    # 15 days since 1 January: overdue; 14 since 2 January (any time of day): not yet; a later date: no.
    assert overdue(last, today, after_days=14).tolist() == [True, False, False, False]


@pytest.mark.parametrize("far", [4, 10**12])
def test_from_long_sorts_integer_keys_whether_close_together_or_far_apart(far: int) -> None:
    p = Panel.from_long([far, 3, far, -1], [2, 1, 1, 1], [8, 7, 6, 5])
    assert p.keys.tolist() == [-1, 3, far]
    np.testing.assert_array_equal(p.scores, [[5, NAN], [7, NAN], [6, 8]])


def test_explanations_of_a_higher_is_better_measure_and_of_overdue() -> None:
    below = Signal(row=0, kind=SignalKind.NOT_ON_TRACK, session_number=4, value=7.0, threshold=8.25)
    assert below.explain("WHO-5") == (
        "WHO-5 7 at session 4 is below the expected range for this intake (down to 8.2): not on track"
    )
    late = Signal(row=0, kind=SignalKind.OVERDUE, session_number=5, value=20.0, threshold=14.0)
    assert late.explain("PHQ-9") == "PHQ-9 last answered 20 days ago (session 5); overdue after 14 days"


# --- No reliable improvement only where it is possible and expected (issue #15) ---------------------

# PHQ-9 caseness, 10 or more (Kroenke et al. 2001; NHS Talking Therapies Manual).
PHQ9_CASE = Cutoff(10, ">=", "kroenke2001")
SIX = [NAN] * 4  # sessions 2-5 unmeasured, so the next score is at session 6


def test_a_non_case_at_intake_gets_a_note_not_no_reliable_improvement() -> None:
    p = panel(
        [4, *SIX, 0],  # 4 -> 0: the reviewer's case, below caseness and unable to fall 6 points
        [9, *SIX, 8],  # below caseness by one point
        [10, *SIX, 9],  # at the cut-off: a case (>= 10), and 10 - 6 = 4 is reachable
        [15, *SIX, 10],  # a case, 5 points better: not yet reliable
    )
    got = detect_signals(
        p, rci_points=PHQ9_RC, higher_is_better=False, model=None, scale_range=(0, 27), caseness=PHQ9_CASE
    )
    assert found(got) == [
        (0, "not_a_case_at_intake", 6, 4.0, 10.0),
        (1, "not_a_case_at_intake", 6, 9.0, 10.0),
        (2, "no_reliable_improvement", 6, 9.0, 4.0),
        (3, "no_reliable_improvement", 6, 10.0, 9.0),
    ]
    note = got.for_row(0)[0].explain("PHQ-9")
    assert "started at 4, below the clinical cut-off (10)" in note
    assert "reliable improvement is not expected" in note
    assert "-2" not in note and "no reliable improvement since" not in note


def test_a_non_case_who_reliably_improves_or_deteriorates_is_told_as_before() -> None:
    p = panel([9, *SIX, 3], [4, *SIX, 10])  # 9 -> 3: reliable improvement; 4 -> 10: deterioration
    got = detect_signals(
        p, rci_points=PHQ9_RC, higher_is_better=False, model=None, scale_range=(0, 27), caseness=PHQ9_CASE
    )
    assert [(r, k) for r, k, *_ in found(got)] == [
        (1, "reliable_deterioration"),
        (1, "not_a_case_at_intake"),
    ]


def test_no_reliable_improvement_is_not_raised_where_the_scale_cannot_hold_it() -> None:
    # No caseness given: only the floor counts. 5 - 6 = -1 is below the PHQ-9's 0; 6 - 6 = 0 is not.
    p = panel([5, *SIX, 3], [6, *SIX, 3])
    got = detect_signals(p, rci_points=PHQ9_RC, higher_is_better=False, model=None, scale_range=(0, 27))
    assert found(got) == [(1, "no_reliable_improvement", 6, 3.0, 0.0)]
    # Without a range the old rule stands (a definition's range is always given through scale_signals).
    unbounded = detect_signals(p, rci_points=PHQ9_RC, higher_is_better=False, model=None)
    assert [r for r, *_ in found(unbounded)] == [0, 1]


def test_higher_is_better_uses_the_ceiling_and_its_own_caseness_side() -> None:
    # A 0-25 scale, reliable change 3, caseness "below 13" (as the WHO-5 raw score).
    p = panel([23, *SIX, 22], [22, *SIX, 21], [12, *SIX, 13], [13, *SIX, 12])
    got = detect_signals(p, rci_points=3.0, higher_is_better=True, model=None, scale_range=(0, 25))
    assert found(got) == [
        (1, "no_reliable_improvement", 6, 21.0, 25.0),  # 22 + 3 = 25 is reachable; 23 + 3 = 26 is not
        (2, "no_reliable_improvement", 6, 13.0, 15.0),
        (3, "no_reliable_improvement", 6, 12.0, 16.0),
    ]
    with_case = detect_signals(
        p,
        rci_points=3.0,
        higher_is_better=True,
        model=None,
        scale_range=(0, 25),
        caseness=Cutoff(13, "<", "topp2015"),
    )
    assert found(with_case) == [
        (0, "not_a_case_at_intake", 6, 23.0, 13.0),
        (1, "not_a_case_at_intake", 6, 22.0, 13.0),
        (2, "no_reliable_improvement", 6, 13.0, 15.0),
        (3, "not_a_case_at_intake", 6, 13.0, 13.0),  # 13 is not below 13
    ]
    assert "above the clinical cut-off (13)" in with_case.for_row(0)[0].explain("WHO-5")
    assert "at the clinical cut-off (13)" in with_case.for_row(3)[0].explain("WHO-5")


def test_scale_signals_reads_the_shipped_definition() -> None:
    phq9 = catalogue.get("phq9").scales[0]
    got = scale_signals(panel([4, *SIX, 0], [15, *SIX, 10]), phq9, model=None)
    assert [(r, k) for r, k, *_ in found(got)] == [
        (0, "not_a_case_at_intake"),
        (1, "no_reliable_improvement"),
    ]


@pytest.mark.parametrize("instrument_id", ["k10", "who5"])
def test_scale_signals_raise_not_on_track_without_a_reliable_change(instrument_id: str) -> None:
    # K10 and WHO-5 give no reliable change, but a fitted band still says "not on track".
    scale = catalogue.get(instrument_id).scales[0]
    assert parameters_from_scale(scale).reliable_change_points() is None
    higher = scale.direction == "higher_is_better"
    worse = 11.0 if higher else 40.0  # intake 20 + expected 0 change; band -2..+3
    fitted = model(higher_is_better=higher)
    got = scale_signals(panel([20, 20, worse]), scale, model=fitted)
    assert [(r, k, n) for r, k, n, *_ in found(got)] == [(0, "not_on_track", 3)]
