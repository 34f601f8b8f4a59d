"""Within-client lagged associations: hand-computed small cases and simulations with a known truth."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from spacebetween.core.mechanisms import (
    MIN_CLIENTS,
    MIN_PAIRS_PER_CLIENT,
    PLANNED_EFFECT,
    PRIOR_DF,
    dersimonian_laird,
    lagged_association,
    moderated_variances,
    next_measured,
)
from spacebetween.core.sudden_gains import critical_t

NAN = math.nan


def associate(process: np.ndarray, symptom: np.ndarray, **kwargs: object):  # type: ignore[no-untyped-def]
    options: dict[str, object] = {"symptom_higher_is_better": False} | kwargs
    return lagged_association(
        process,
        symptom,
        process_name="Self-compassion",
        outcome_name="PHQ-9",
        **options,  # type: ignore[arg-type]
    )


# --- stage 1 against a plain least-squares fit --------------------------------------------------------------
# Three clients, 10 sessions, lower-is-better symptom: improvement y_t = s_t − s_{t+1}, 9 pairs each.
PROCESS = np.array(
    [
        [3, 5, 4, 6, 5, 7, 6, 8, 7, 9],
        [10, 12, 9, 13, 11, 10, 14, 12, 15, 13],
        [20, 18, 21, 19, 17, 22, 20, 23, 21, 24],
    ],
    dtype=np.float64,
)
SYMPTOM = np.array(
    [
        [20, 18, 17, 15, 15, 12, 12, 10, 9, 9],
        [15, 16, 13, 13, 10, 11, 9, 9, 7, 8],
        [25, 22, 22, 19, 18, 18, 15, 16, 13, 12],
    ],
    dtype=np.float64,
)


def by_lstsq(process: np.ndarray, symptom: np.ndarray) -> tuple[float, float, float, int]:
    """One client's row (or rows, one per episode) by numpy's least squares with explicit columns: an
    intercept per episode, then x_t, t, ln t and s_t. Returns the slope of x, its design factor
    [(XᵀX)⁻¹]_xx, the residual sum of squares and the residual df."""
    columns, y = [], []
    rows = process.shape[0]
    for r in range(rows):
        for t in range(process.shape[1] - 1):
            if np.isfinite(process[r, t]) and np.isfinite(symptom[r, t]) and np.isfinite(symptom[r, t + 1]):
                dummies = [1.0 if e == r else 0.0 for e in range(rows)]
                columns.append([*dummies, process[r, t], t + 1, math.log(t + 1), symptom[r, t]])
                y.append(symptom[r, t] - symptom[r, t + 1])
    x, target = np.array(columns), np.array(y)
    coefficients, *_ = np.linalg.lstsq(x, target, rcond=None)
    residual = target - x @ coefficients
    inverse = np.linalg.inv(x.T @ x)
    return (
        float(coefficients[rows]),
        float(inverse[rows, rows]),
        float(residual @ residual),
        len(y) - x.shape[1],
    )


def dl_by_hand(slopes: list[float], variances: list[float]) -> dict[str, float]:
    """DerSimonian & Laird (1986), step by step in plain arithmetic."""
    w = [1 / v for v in variances]
    fixed = sum(wi * bi for wi, bi in zip(w, slopes, strict=True)) / sum(w)
    q = sum(wi * (bi - fixed) ** 2 for wi, bi in zip(w, slopes, strict=True))
    df = len(slopes) - 1
    c = sum(w) - sum(wi**2 for wi in w) / sum(w)
    tau2 = max(0.0, (q - df) / c)
    w_star = [1 / (v + tau2) for v in variances]
    estimate = sum(wi * bi for wi, bi in zip(w_star, slopes, strict=True)) / sum(w_star)
    se_normal = math.sqrt(1 / sum(w_star))
    scale = sum(wi * (bi - estimate) ** 2 for wi, bi in zip(w_star, slopes, strict=True)) / df
    se_kh = math.sqrt(max(1.0, scale) / sum(w_star))
    return {"estimate": estimate, "tau2": tau2, "q": q, "se_normal": se_normal, "se_kh": se_kh, "df": df}


def test_each_client_is_a_least_squares_fit_adjusted_for_time_and_the_current_symptom() -> None:
    fits = [by_lstsq(PROCESS[i : i + 1], SYMPTOM[i : i + 1]) for i in range(3)]
    slopes = [f[0] for f in fits]
    assert [f[3] for f in fits] == [9 - 1 - 4] * 3
    # Moderated variances by hand: s² = ΣSSE / Σdf, then (SSE_i + d0·s²) / (df_i + d0), times d_i.
    pooled = sum(f[2] for f in fits) / sum(f[3] for f in fits)
    variances = [(f[2] + PRIOR_DF * pooled) / (f[3] + PRIOR_DF) * f[1] for f in fits]
    assert moderated_variances([f[2] for f in fits], [f[3] for f in fits]) * np.array(
        [f[1] for f in fits]
    ) == pytest.approx(variances)
    # The standardising ratio: pooled within-episode SDs of the process and the symptom at t (9 pairs each).
    x_ss = sum(((PROCESS[i, :9] - PROCESS[i, :9].mean()) ** 2).sum() for i in range(3))
    s_ss = sum(((SYMPTOM[i, :9] - SYMPTOM[i, :9].mean()) ** 2).sum() for i in range(3))
    ratio = math.sqrt(x_ss / 24) / math.sqrt(s_ss / 24)
    hand = dl_by_hand([b * ratio for b in slopes], [v * ratio**2 for v in variances])
    found = associate(PROCESS, SYMPTOM, min_clients=3, interval="normal")
    assert (found.n_clients, found.n_pairs, found.n_episodes, found.reason) == (3, 27, 3, "")
    assert found.process_sd == pytest.approx(math.sqrt(x_ss / 24))
    assert found.symptom_sd == pytest.approx(math.sqrt(s_ss / 24))
    assert found.estimate == pytest.approx(hand["estimate"])
    assert found.standard_error == pytest.approx(hand["se_normal"])
    assert found.tau2 == pytest.approx(hand["tau2"])
    assert found.ci_low == pytest.approx(hand["estimate"] - 1.96 * hand["se_normal"])
    assert found.raw_estimate == pytest.approx(hand["estimate"] / ratio)
    kh = associate(PROCESS, SYMPTOM, min_clients=3)
    assert kh.standard_error == pytest.approx(hand["se_kh"])
    assert kh.ci_high == pytest.approx(hand["estimate"] + critical_t(2) * hand["se_kh"])


def test_a_client_with_two_episodes_is_one_client_with_an_intercept_per_episode() -> None:
    # Clients A and B as before; C's course split into two episodes of 6 and 4 sessions (5 + 3 pairs,
    # 8 − 2 − 4 = 2 residual df). Pairs never cross the episodes.
    first = np.full(10, NAN)
    second = np.full(10, NAN)
    first[:6], second[:4] = PROCESS[2, :6], PROCESS[2, 6:]
    process = np.vstack([PROCESS[:2], first, second])
    s_first, s_second = np.full(10, NAN), np.full(10, NAN)
    s_first[:6], s_second[:4] = SYMPTOM[2, :6], SYMPTOM[2, 6:]
    symptom = np.vstack([SYMPTOM[:2], s_first, s_second])
    slope_c, design_c, sse_c, df_c = by_lstsq(np.vstack([first, second]), np.vstack([s_first, s_second]))
    assert df_c == 2
    found = associate(process, symptom, clients=["a", "b", "c", "c"], min_clients=3)
    assert (found.n_clients, found.n_episodes, found.n_pairs) == (3, 4, 26)
    fits = [by_lstsq(PROCESS[i : i + 1], SYMPTOM[i : i + 1]) for i in range(2)] + [
        (slope_c, design_c, sse_c, df_c)
    ]
    pooled = sum(f[2] for f in fits) / sum(f[3] for f in fits)
    variances = [(f[2] + PRIOR_DF * pooled) / (f[3] + PRIOR_DF) * f[1] for f in fits]
    rows = [process[0, :9], process[1, :9], first[:5], second[:3]]
    s_rows = [symptom[0, :9], symptom[1, :9], s_first[:5], s_second[:3]]
    ratio = math.sqrt(sum(((r - r.mean()) ** 2).sum() for r in rows) / 22) / math.sqrt(
        sum(((r - r.mean()) ** 2).sum() for r in s_rows) / 22
    )
    hand = dl_by_hand([f[0] * ratio for f in fits], [v * ratio**2 for v in variances])
    assert found.estimate == pytest.approx(hand["estimate"])
    # As four separate clients the split one would count twice, and its episodes would have too few pairs.
    apart = associate(process, symptom, min_clients=2)
    assert (apart.n_clients, apart.clients_with_too_few_pairs) == (2, 2)


def test_the_standardised_slope_does_not_depend_on_the_units_of_either_measure() -> None:
    found = associate(PROCESS, SYMPTOM, min_clients=3)
    rescaled = associate(10 * PROCESS + 3, 2 * SYMPTOM, min_clients=3)
    assert rescaled.estimate == pytest.approx(found.estimate)
    assert rescaled.ci_low == pytest.approx(found.ci_low)
    assert rescaled.raw_estimate == pytest.approx((found.raw_estimate or 0.0) * 2 / 10)
    assert found.process_sd is not None and found.symptom_sd is not None and found.raw_estimate is not None
    assert found.estimate == pytest.approx(found.raw_estimate * found.process_sd / found.symptom_sd)


def test_moderated_variances_by_hand() -> None:
    # SSE 2 and 10 on 2 and 4 df: pooled 12/6 = 2; with d0 = 4: (2 + 8)/6 and (10 + 8)/8.
    assert moderated_variances([2.0, 10.0], [2, 4], prior_df=4) == pytest.approx([10 / 6, 18 / 8])
    assert moderated_variances([2.0, 10.0], [2, 4], prior_df=0) == pytest.approx([1.0, 2.5])


def test_dersimonian_laird_with_the_knapp_hartung_interval_by_hand() -> None:
    slopes, variances = [0.5, 1.75, -0.75], [0.75, 0.1875, 0.1875]
    # w = 4/3, 16/3, 16/3 (Σ 12); fixed = 1/2; Q = 50/3; C = 64/9; τ² = (50/3 − 2) / (64/9) = 2.0625.
    hand = dl_by_hand(slopes, variances)
    assert hand["tau2"] == pytest.approx(2.0625)
    pooled = dersimonian_laird(slopes, variances)
    assert pooled.tau2 == pytest.approx(2.0625)
    assert pooled.estimate == pytest.approx(hand["estimate"])
    assert pooled.standard_error == pytest.approx(hand["se_kh"])
    assert pooled.ci_low == pytest.approx(hand["estimate"] - critical_t(2) * hand["se_kh"])
    assert pooled.i2 == pytest.approx((hand["q"] - 2) / hand["q"])
    normal = dersimonian_laird(slopes, variances, interval="normal")
    assert normal.standard_error == pytest.approx(hand["se_normal"])
    assert normal.ci_high == pytest.approx(hand["estimate"] + 1.96 * hand["se_normal"])


def test_knapp_hartung_scales_the_error_up_when_the_slopes_spread_more_than_expected() -> None:
    # Two precise slopes close together and one imprecise far away: DL's τ² (0.593) is pulled down by
    # the precise pair, and q = Σw*(b − est)²/(k − 1) comes out above 1 (3.65), so the Knapp–Hartung SE
    # is √q times the plain one.
    slopes, variances = [0.0, 1.0, 4.0], [0.01, 0.01, 1.0]
    hand = dl_by_hand(slopes, variances)
    pooled = dersimonian_laird(slopes, variances)
    assert hand["se_kh"] > 1.5 * hand["se_normal"]
    assert pooled.standard_error == pytest.approx(hand["se_kh"])
    assert pooled.estimate == pytest.approx(hand["estimate"])
    assert pooled.ci_high - pooled.estimate == pytest.approx(critical_t(2) * hand["se_kh"])
    assert dersimonian_laird(slopes, variances, interval="normal").standard_error == pytest.approx(
        hand["se_normal"]
    )


def test_identical_slopes_have_no_between_client_variance() -> None:
    pooled = dersimonian_laird([0.5, 0.5, 0.5], [0.2, 0.4, 0.8])
    assert (pooled.estimate, pooled.tau2, pooled.q, pooled.i2) == (pytest.approx(0.5), 0.0, 0.0, 0.0)
    # τ² = 0 and q < 1: the Knapp–Hartung SE is the plain one, 1/√Σw = 1/√8.75.
    assert pooled.standard_error == pytest.approx(1 / math.sqrt(1 / 0.2 + 1 / 0.4 + 1 / 0.8))


# --- orientation, pairs and exclusions ----------------------------------------------------------------------


def test_improvement_is_positive_whichever_way_the_symptom_runs() -> None:
    lower = associate(PROCESS, SYMPTOM, min_clients=3)
    higher = associate(PROCESS, 30 - SYMPTOM, min_clients=3, symptom_higher_is_better=True)
    assert lower.estimate is not None
    assert higher.estimate == pytest.approx(lower.estimate)
    assert higher.ci_low == pytest.approx(lower.ci_low)
    # The same numbers read the wrong way round give the opposite slope.
    wrong = associate(PROCESS, 30 - SYMPTOM, min_clients=3)
    assert wrong.estimate == pytest.approx(-lower.estimate)


def test_the_next_measured_session_is_the_next_one_with_a_symptom_score() -> None:
    assert np.array_equal(
        next_measured(np.array([[10, NAN, 8, NAN, 5, NAN]])),
        np.array([[8, 8, 5, 5, NAN, NAN]]),
        equal_nan=True,
    )
    # Client A with the symptom missing at session 2: the pair at session 1 reaches session 3, and the
    # process at session 2 has no symptom score at 2, so it makes no pair: 8 pairs, still enough.
    symptom = SYMPTOM.copy()
    symptom[0, 1] = NAN
    found = associate(PROCESS, symptom, min_clients=2)
    assert (found.n_clients, found.n_pairs) == (3, 26)
    slope, *_ = by_lstsq(PROCESS[:1], symptom[:1])
    assert slope != pytest.approx(by_lstsq(PROCESS[:1], SYMPTOM[:1])[0])
    # One more gap and A falls below MIN_PAIRS_PER_CLIENT.
    symptom[0, 3] = NAN
    fewer = associate(PROCESS, symptom, min_clients=2)
    assert (fewer.n_clients, fewer.n_pairs, fewer.clients_with_too_few_pairs) == (2, 18, 1)


def test_a_flat_process_score_is_left_out_and_counted() -> None:
    process = PROCESS.copy()
    process[2] = 4.0
    found = associate(process, SYMPTOM, min_clients=2)
    assert (found.n_clients, found.clients_without_variation) == (2, 1)
    assert found.estimate == pytest.approx(associate(PROCESS[:2], SYMPTOM[:2], min_clients=2).estimate)


def test_a_process_score_that_is_only_the_session_number_has_no_slope_of_its_own() -> None:
    process = PROCESS.copy()
    process[2] = 2.0 * np.arange(1, 11) + 7  # a straight line in t: collinear with the trend
    found = associate(process, SYMPTOM, min_clients=2)
    assert (found.n_clients, found.clients_without_variation) == (2, 1)


def test_a_perfect_fit_leaves_no_variance_and_is_left_out() -> None:
    symptom = SYMPTOM.copy()
    x, t = PROCESS[0], np.arange(1, 11)
    # s_{t+1} = s_t − (0.5 x_t − 0.2 t + 1): an exact fit, no residual.
    for j in range(9):
        symptom[0, j + 1] = symptom[0, j] - (0.5 * x[j] - 0.2 * t[j] + 1)
    found = associate(PROCESS, symptom, min_clients=2)
    assert (found.n_clients, found.clients_without_variation) == (2, 1)


def test_too_few_clients_make_no_claim_and_say_why() -> None:
    found = associate(PROCESS, SYMPTOM)
    assert (found.estimate, found.ci_low, found.ci_high, found.standard_error, found.tau2) == (None,) * 5
    assert found.n_clients == 3
    assert found.reason == f"3 clients with {MIN_PAIRS_PER_CLIENT} or more session pairs; needs {MIN_CLIENTS}"
    assert "no estimate (3 clients" in found.explain()
    assert not found.clear
    # Only 7 sessions: 6 pairs each, too few for the default minimum.
    assert associate(PROCESS[:, :7], SYMPTOM[:, :7]).clients_with_too_few_pairs == 3


def test_the_sentence_names_the_units_and_the_adjustment() -> None:
    found = associate(PROCESS, SYMPTOM, min_clients=3)
    assert found.process_sd is not None
    text = found.explain()
    assert f"was 1 SD ({found.process_sd:.2f} points) above their own usual level" in text
    assert "at the same point of therapy and the same PHQ-9 score" in text
    assert "3 clients, 27 session pairs" in text


def test_bad_input_is_refused_with_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        associate(PROCESS, SYMPTOM[:, :3])
    with pytest.raises(ValueError, match="series × sessions"):
        associate(PROCESS[0], SYMPTOM[0])
    with pytest.raises(ValueError, match="infinite"):
        associate(PROCESS, np.where(SYMPTOM == 9, math.inf, SYMPTOM))
    with pytest.raises(ValueError, match="min_clients"):
        associate(PROCESS, SYMPTOM, min_clients=1)
    with pytest.raises(ValueError, match="min_pairs_per_client"):
        associate(PROCESS, SYMPTOM, min_pairs_per_client=4)
    with pytest.raises(ValueError, match="client keys"):
        associate(PROCESS, SYMPTOM, clients=[1, 2])
    with pytest.raises(ValueError, match="interval"):
        dersimonian_laird([1.0, 2.0], [1.0, 1.0], interval="wald")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        dersimonian_laird([1.0, 2.0], [1.0, 0.0])


# --- simulations with a known truth -------------------------------------------------------------------------


def simulate(
    rng: np.random.Generator,
    *,
    clients: int,
    sessions: int,
    slope: float,
    tau: float,
    missing: float = 0.0,
    carry: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Process x_t around each client's own level; a lower-is-better symptom on a straight line down
    (a client's own rate) plus a deviation d with d_{t+1} = carry·d_t − b_i (x_t − level_i) + e,
    b_i ~ N(slope, tau²), e ~ N(0, 1). So the improvement y_t = s_t − s_{t+1} is linear in x_t, t and s_t
    with the slope b_i of x_t: the client's regression is the true model. With carry > 0 a session's
    effect lasts into later sessions and s_t carries earlier process scores (see the attenuation test)."""
    level = rng.normal(0, 3, (clients, 1))
    x = level + rng.normal(0, 1.5, (clients, sessions))
    b = slope + tau * rng.standard_normal((clients, 1))
    rate = rng.normal(0.5, 0.5, (clients, 1))
    noise = rng.standard_normal((clients, sessions))
    deviation = np.zeros((clients, sessions))
    for j in range(1, sessions):
        deviation[:, j] = carry * deviation[:, j - 1] - b[:, 0] * (x[:, j - 1] - level[:, 0]) + noise[:, j]
    symptom = 20 - rate * np.arange(sessions) + deviation
    if missing:
        symptom[rng.random(symptom.shape) < missing] = NAN
        x[rng.random(x.shape) < missing] = NAN
    return x, symptom


def raw_se(found) -> float:  # type: ignore[no-untyped-def]
    """The standard error in symptom points per process point."""
    assert found.standard_error is not None and found.process_sd and found.symptom_sd
    return float(found.standard_error * found.symptom_sd / found.process_sd)


@pytest.mark.parametrize("slope", [0.5, 0.0])
def test_a_known_pooled_slope_is_recovered(slope: float) -> None:
    x, symptom = simulate(
        np.random.default_rng(11), clients=200, sessions=12, slope=slope, tau=0.3, missing=0.1
    )
    found = associate(x, symptom, min_clients=2)
    assert found.raw_estimate is not None and found.raw_ci_low is not None and found.raw_ci_high is not None
    assert found.raw_ci_low <= slope <= found.raw_ci_high
    # About 170 clients × 9 pairs: the SE is near 0.04, so 4 SE is a wide margin for one seed.
    assert abs(found.raw_estimate - slope) < 4 * raw_se(found)
    assert raw_se(found) < 0.06
    assert found.n_clients > 150


def test_a_null_association_is_reported_as_no_clear_one() -> None:
    x, symptom = simulate(np.random.default_rng(20), clients=60, sessions=12, slope=0.0, tau=0.0)
    found = associate(x, symptom)
    assert found.ci_low is not None and found.ci_high is not None
    assert found.ci_low <= 0.0 <= found.ci_high
    assert found.explain().endswith("the interval includes no difference, so no clear association")


def test_between_client_heterogeneity_shows_in_tau2() -> None:
    # τ = 0.3 → τ² = 0.09 in raw units; τ² is reported on the standardised scale, so it is converted back.
    rng = np.random.default_rng(13)
    spread = associate(*simulate(rng, clients=200, sessions=12, slope=0.5, tau=0.3))
    equal = associate(*simulate(rng, clients=200, sessions=12, slope=0.5, tau=0.0))
    assert spread.tau2 is not None and equal.tau2 is not None and spread.i2 is not None
    assert spread.process_sd and spread.symptom_sd and equal.process_sd and equal.symptom_sd
    raw_tau2 = spread.tau2 * (spread.symptom_sd / spread.process_sd) ** 2
    assert 0.09 - 0.05 < raw_tau2 < 0.09 + 0.05
    assert equal.tau2 * (equal.symptom_sd / equal.process_sd) ** 2 < 0.03
    assert spread.i2 > 0.3


def test_the_interval_covers_the_truth_about_95_percent_of_the_time_at_the_minimum() -> None:
    # 400 replicates with the minimum number of clients and spread slopes. The binomial SD of a 95%
    # coverage over 400 replicates is 0.011; the Knapp–Hartung interval must land within about 3 SDs of
    # 0.95. The normal (DerSimonian & Laird) interval is narrower and covers less: the reason for the default.
    rng = np.random.default_rng(14)
    covered = {"knapp_hartung": 0, "normal": 0}
    replicates = 400
    for _ in range(replicates):
        x, symptom = simulate(rng, clients=MIN_CLIENTS, sessions=12, slope=0.5, tau=0.3)
        for interval in covered:
            found = associate(x, symptom, interval=interval)
            assert found.raw_ci_low is not None and found.raw_ci_high is not None
            covered[interval] += found.raw_ci_low <= 0.5 <= found.raw_ci_high
    assert 0.92 <= covered["knapp_hartung"] / replicates <= 0.98
    assert covered["normal"] < covered["knapp_hartung"]


def test_an_effect_that_lasts_is_underestimated_not_overestimated() -> None:
    # When each session's effect stays (carry = 1: the symptom is a random walk), s_t holds the earlier
    # process scores' effects, and holding s_t fixed within a client's short series takes part of the
    # slope with it (the bias of a lagged outcome with person-mean centring; Falkenström et al. 2017).
    # Over 100 runs of 30 clients × 12 sessions the estimate averaged about 0.37 for a true 0.5 (0.47 with
    # carry 0.3, 0.49 with none): towards no association, never away from it.
    rng = np.random.default_rng(18)
    estimates = []
    for _ in range(60):
        found = associate(*simulate(rng, clients=30, sessions=12, slope=0.5, tau=0.3, carry=1.0))
        assert found.raw_estimate is not None
        estimates.append(found.raw_estimate)
    assert 0.3 < float(np.mean(estimates)) < 0.45


# --- the false-positive rate and the power, with the trends of ordinary therapy -----------------------------


def courses(
    rng: np.random.Generator,
    *,
    clients: int,
    sessions: int = 12,
    effect: float = 0.0,
    tracking: float = 0.0,
    missing: float = 0.1,
) -> tuple[np.ndarray, np.ndarray]:
    """Courses of therapy with trends and no (or a planted) lagged effect. A PHQ-9-like symptom falls
    from about 16 by about 8 points, fastest early (an exponential approach with a client's own pace),
    with session-to-session noise of SD 2.5 carried over at 0.3 (autoregressive), rounded and kept in
    0–27; a process score (alliance-like, around 40) rises by about 6 points on its own curve, with its
    own noise of SD 3. `tracking` adds the symptom's deviation from its trend at the same session to the
    process score (a client who feels worse rates the process worse): 1 = point for point. `effect`
    plants a lagged effect: the process score's own noise at t lowers the symptom at t + 1 by `effect`
    points per point. 10% of each measure's scores are missing at random."""
    t = np.arange(sessions)[None, :]
    pace = rng.uniform(2, 6, (clients, 1))
    s_trend = rng.normal(16, 4, (clients, 1)) - np.clip(rng.normal(8, 3, (clients, 1)), 0, None) * (
        1 - np.exp(-t / pace)
    )
    x_pace = rng.uniform(2, 6, (clients, 1))
    x_trend = rng.normal(40, 6, (clients, 1)) + rng.normal(6, 3, (clients, 1)) * (1 - np.exp(-t / x_pace))
    noise = rng.normal(0, 2.5, (clients, sessions))
    own = rng.normal(0, 3, (clients, sessions))
    symptom, process = np.empty((clients, sessions)), np.empty((clients, sessions))
    carried, pushed = np.zeros(clients), np.zeros(clients)
    for j in range(sessions):
        carried = 0.3 * carried + noise[:, j]
        symptom[:, j] = s_trend[:, j] + carried + pushed
        process[:, j] = x_trend[:, j] + own[:, j] - tracking * (symptom[:, j] - s_trend[:, j])
        pushed = -effect * own[:, j]
    symptom = np.clip(np.round(symptom), 0, 27)
    symptom[rng.random(symptom.shape) < missing] = NAN
    process[rng.random(process.shape) < missing] = NAN
    return process, symptom


def significant_share(rng: np.random.Generator, runs: int, *, clients: int, **kwargs: Any) -> float:
    """The share of runs whose 95% interval excludes no association, each with `clients` clients that
    have enough pairs (courses are drawn in surplus and the first `clients` with enough pairs kept:
    missingness is unrelated to the scores, so this picks no one by outcome)."""
    hits = 0
    for _ in range(runs):
        process, symptom = courses(rng, clients=2 * clients, **kwargs)
        pairs = (np.isfinite(process) & np.isfinite(symptom) & np.isfinite(next_measured(symptom))).sum(
            axis=1
        )
        keep = np.flatnonzero(pairs >= MIN_PAIRS_PER_CLIENT)[:clients]
        assert keep.size == clients
        found = associate(process[keep], symptom[keep], min_clients=2)
        hits += found.clear
    return hits / runs


@pytest.mark.parametrize("tracking", [0.0, 1.0], ids=["trends", "trends and a process tracking the symptom"])
def test_with_no_effect_about_5_percent_of_runs_are_significant(tracking: float) -> None:
    # The reviewer's case: no lagged effect, ordinary trends. Centring on the client's mean alone (the
    # analysis before this one) was "significant" in about 29% of such runs at 30 clients, and in 100%
    # when the process score tracked the current symptom score. Binomial SD of 5% over 400 runs: 1.1%.
    share = significant_share(np.random.default_rng(15), 400, clients=MIN_CLIENTS, tracking=tracking)
    assert 0.02 <= share <= 0.08


@pytest.mark.parametrize("tracking", [0.0, 1.0], ids=["trends", "trends and a process tracking the symptom"])
def test_a_planted_effect_of_the_named_size_is_found_in_80_percent_of_runs_at_the_minimum(
    tracking: float,
) -> None:
    # The planted raw effect is set so that the analysis's large-sample estimate, in its standardised
    # units, is about PLANNED_EFFECT (the process score's within-client SD grows when it tracks the
    # symptom, so the same raw effect is more SDs of the symptom per SD of the process).
    raw = {0.0: 0.27, 1.0: 0.23}[tracking]
    large = associate(*courses(np.random.default_rng(16), clients=4000, effect=raw, tracking=tracking))
    assert large.estimate == pytest.approx(PLANNED_EFFECT, abs=0.02)
    share = significant_share(
        np.random.default_rng(17), 300, clients=MIN_CLIENTS, effect=raw, tracking=tracking
    )
    assert share >= 0.80


def test_the_defaults() -> None:
    assert (MIN_CLIENTS, MIN_PAIRS_PER_CLIENT, PRIOR_DF, PLANNED_EFFECT) == (30, 8, 4.0, 0.25)
