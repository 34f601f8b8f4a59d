"""Within-client lagged associations: hand-computed small cases and simulations with a known truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spacebetween.core.mechanisms import (
    MIN_CLIENTS,
    MIN_PAIRS_PER_CLIENT,
    dersimonian_laird,
    lagged_association,
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


# --- three clients by hand --------------------------------------------------------------------------------
# Process at sessions 1–3 and a lower-is-better symptom at sessions 1–4, so improvement y_t = s_t − s_{t+1}.
#   A: x = 1, 2, 3; s = 10, 9, 6, 4  → y = 1, 3, 2
#   B: x = 2, 4, 6; s = 20, 20, 18, 11 → y = 0, 2, 7
#   C: x = 5, 3, 1; s = 15, 13, 11, 6  → y = 2, 2, 5
# A process score at session 4 has no next symptom score and makes no pair.
PROCESS = np.array([[1, 2, 3, 9], [2, 4, 6, 1], [5, 3, 1, 5]], dtype=np.float64)
SYMPTOM = np.array([[10, 9, 6, 4], [20, 20, 18, 11], [15, 13, 11, 6]], dtype=np.float64)

# Per client, by hand: centred x, Sxx = Σx_c², slope = Σx_c·y_c / Sxx, SSE of the residuals, and the
# slope's variance SSE / (3 − 2) / Sxx.
#   A: x_c = −1, 0, 1 (Sxx 2); y_c = −1, 1, 0 → slope 1/2; residuals −1/2, 1, −1/2 → SSE 3/2 → v 3/4
#   B: x_c = −2, 0, 2 (Sxx 8); y_c = −3, −1, 4 → slope 14/8; residuals 1/2, −1, 1/2 → SSE 3/2 → v 3/16
#   C: x_c = 2, 0, −2 (Sxx 8); y_c = −1, −1, 2 → slope −6/8; residuals 1/2, −1, 1/2 → SSE 3/2 → v 3/16
SLOPES = [0.5, 1.75, -0.75]
VARIANCES = [0.75, 0.1875, 0.1875]


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


def test_three_clients_pooled_by_hand() -> None:
    # w = 4/3, 16/3, 16/3 (Σ 12); fixed = (2/3 + 28/3 − 4) / 12 = 1/2; Q = 2 · 16/3 · 1.25² = 50/3;
    # C = 12 − (16/9 + 2 · 256/9) / 12 = 64/9; τ² = (50/3 − 2) / (64/9) = 2.0625.
    hand = dl_by_hand(SLOPES, VARIANCES)
    assert hand["tau2"] == pytest.approx(2.0625)
    found = associate(PROCESS, SYMPTOM, min_clients=3, min_pairs_per_client=3, interval="normal")
    assert found.estimate == pytest.approx(hand["estimate"])
    assert found.tau2 == pytest.approx(2.0625)
    assert found.standard_error == pytest.approx(hand["se_normal"])
    assert found.ci_low == pytest.approx(hand["estimate"] - 1.96 * hand["se_normal"])
    assert found.ci_high == pytest.approx(hand["estimate"] + 1.96 * hand["se_normal"])
    assert (found.n_clients, found.n_pairs, found.reason) == (3, 9, "")
    assert found.i2 == pytest.approx((hand["q"] - 2) / hand["q"])


def test_two_clients_with_the_knapp_hartung_interval_by_hand() -> None:
    # A and B alone: w = 4/3, 16/3; fixed = (2/3 + 28/3) / (20/3) = 1.5; Q = 4/3 · 1 + 16/3 · 1/16 = 5/3;
    # C = 20/3 − (16/9 + 256/9) / (20/3) = 20/3 − 68/15 = 32/15; τ² = (5/3 − 1) / (32/15) = 0.3125.
    hand = dl_by_hand(SLOPES[:2], VARIANCES[:2])
    assert hand["tau2"] == pytest.approx(0.3125)
    found = associate(PROCESS[:2], SYMPTOM[:2], min_clients=2, min_pairs_per_client=3)
    t = critical_t(1)
    assert t == pytest.approx(12.706, abs=1e-3)  # t.975 on 1 df
    assert found.estimate == pytest.approx(hand["estimate"])
    assert found.standard_error == pytest.approx(hand["se_kh"])
    assert found.ci_low == pytest.approx(hand["estimate"] - t * hand["se_kh"])
    assert found.ci_high == pytest.approx(hand["estimate"] + t * hand["se_kh"])
    assert found.interval == "knapp_hartung"


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
    lower = associate(PROCESS, SYMPTOM, min_clients=3, min_pairs_per_client=3)
    higher = associate(
        PROCESS, 100 - SYMPTOM, min_clients=3, min_pairs_per_client=3, symptom_higher_is_better=True
    )
    assert higher.estimate == pytest.approx(lower.estimate)
    assert higher.ci_low == pytest.approx(lower.ci_low)
    # The same numbers read the wrong way round give the opposite slope.
    wrong = associate(PROCESS, 100 - SYMPTOM, min_clients=3, min_pairs_per_client=3)
    assert wrong.estimate == pytest.approx(-(lower.estimate or 0.0))


def test_the_next_measured_session_is_the_next_one_with_a_symptom_score() -> None:
    assert np.array_equal(
        next_measured(np.array([[10, NAN, 8, NAN, 5, NAN]])),
        np.array([[8, 8, 5, 5, NAN, NAN]]),
        equal_nan=True,
    )
    # Client A with the symptom missing at session 2: pairs are (1 → 3) and (3 → 4), with process at 1, 3.
    # The process at session 2 has no symptom score at 2, so it makes no pair.
    symptom = SYMPTOM.copy()
    symptom[0, 1] = NAN
    found = associate(PROCESS, symptom, min_clients=2, min_pairs_per_client=3)
    assert (found.n_clients, found.n_pairs, found.clients_with_too_few_pairs) == (2, 6, 1)


def test_a_flat_process_score_is_left_out_and_counted() -> None:
    process = PROCESS.copy()
    process[2, :3] = 4.0
    found = associate(process, SYMPTOM, min_clients=2, min_pairs_per_client=3)
    assert (found.n_clients, found.clients_without_variation) == (2, 1)
    assert found.estimate == pytest.approx(dl_by_hand(SLOPES[:2], VARIANCES[:2])["estimate"])


def test_a_perfect_fit_leaves_no_variance_and_is_left_out() -> None:
    symptom = SYMPTOM.copy()
    symptom[0] = [10, 9, 7, 4]  # y = 1, 2, 3 on x = 1, 2, 3: no residual
    found = associate(PROCESS, symptom, min_clients=2, min_pairs_per_client=3)
    assert (found.n_clients, found.clients_without_variation) == (2, 1)


def test_too_few_clients_make_no_claim_and_say_why() -> None:
    found = associate(PROCESS, SYMPTOM, min_pairs_per_client=3)
    assert (found.estimate, found.ci_low, found.ci_high, found.standard_error, found.tau2) == (None,) * 5
    assert found.n_clients == 3
    assert found.reason == f"3 clients with 3 or more session pairs; needs {MIN_CLIENTS}"
    assert "no estimate (3 clients" in found.explain()
    # With the default minimum of pairs, three pairs each are too few.
    assert associate(PROCESS, SYMPTOM).clients_with_too_few_pairs == 3


def test_bad_input_is_refused_with_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        associate(PROCESS, SYMPTOM[:, :3])
    with pytest.raises(ValueError, match="series × sessions"):
        associate(PROCESS[0], SYMPTOM[0])
    with pytest.raises(ValueError, match="infinite"):
        associate(PROCESS, np.where(SYMPTOM == 4, math.inf, SYMPTOM))
    with pytest.raises(ValueError, match="min_clients"):
        associate(PROCESS, SYMPTOM, min_clients=1)
    with pytest.raises(ValueError, match="min_pairs_per_client"):
        associate(PROCESS, SYMPTOM, min_pairs_per_client=2)
    with pytest.raises(ValueError, match="interval"):
        dersimonian_laird([1.0, 2.0], [1.0, 1.0], interval="wald")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        dersimonian_laird([1.0, 2.0], [1.0, 0.0])


# --- simulations with a known truth -------------------------------------------------------------------------


def simulate(
    rng: np.random.Generator, *, clients: int, sessions: int, slope: float, tau: float, missing: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Process x_t around each client's own level; improvement to the next session
    y_t = a_i + b_i (x_t − level_i) + e, with b_i ~ N(slope, tau²), e ~ N(0, 1); a lower-is-better symptom
    built from the improvements. The OLS slope with an intercept does not depend on where x is centred,
    so each client's estimate is unbiased for b_i and the pooled estimate for `slope`."""
    level = rng.normal(0, 3, (clients, 1))
    x = level + rng.normal(0, 1.5, (clients, sessions))
    b = slope + tau * rng.standard_normal((clients, 1))
    y = rng.normal(0.5, 0.5, (clients, 1)) + b * (x - level) + rng.standard_normal((clients, sessions))
    symptom = 20 - np.concatenate([np.zeros((clients, 1)), np.cumsum(y[:, :-1], axis=1)], axis=1)
    if missing:
        symptom[rng.random(symptom.shape) < missing] = NAN
        x[rng.random(x.shape) < missing] = NAN
    return x, symptom


@pytest.mark.parametrize("slope", [0.5, 0.0])
def test_a_known_pooled_slope_is_recovered(slope: float) -> None:
    x, symptom = simulate(
        np.random.default_rng(11), clients=200, sessions=12, slope=slope, tau=0.3, missing=0.1
    )
    found = associate(x, symptom)
    assert found.estimate is not None and found.ci_low is not None and found.ci_high is not None
    assert found.standard_error is not None
    assert found.ci_low <= slope <= found.ci_high
    # About 200 clients × 10 pairs: the SE is near 0.03, so 4 SE (≈ 0.12) is a wide margin for one seed.
    assert abs(found.estimate - slope) < 4 * found.standard_error
    assert found.standard_error < 0.05
    assert found.n_clients > 190


def test_a_null_association_is_reported_as_no_clear_one() -> None:
    x, symptom = simulate(np.random.default_rng(12), clients=60, sessions=10, slope=0.0, tau=0.0)
    found = associate(x, symptom)
    assert found.ci_low is not None and found.ci_high is not None
    assert found.ci_low <= 0.0 <= found.ci_high
    assert found.explain().endswith("the interval includes no difference, so no clear association")


def test_between_client_heterogeneity_shows_in_tau2() -> None:
    # τ = 0.3 → τ² = 0.09. Over 200 seeds DL's τ² here had a mean of 0.099 and an SD of 0.016 with spread
    # slopes, and never exceeded 0.023 with equal ones (estimated within-client variances add a little).
    rng = np.random.default_rng(13)
    spread = associate(*simulate(rng, clients=200, sessions=12, slope=0.5, tau=0.3))
    equal = associate(*simulate(rng, clients=200, sessions=12, slope=0.5, tau=0.0))
    assert spread.tau2 is not None and equal.tau2 is not None and spread.i2 is not None
    assert 0.09 - 0.05 < spread.tau2 < 0.09 + 0.05
    assert equal.tau2 < 0.03
    assert spread.i2 > 0.3


def test_the_interval_covers_the_truth_about_95_percent_of_the_time_with_few_clients() -> None:
    # 600 replicates with the minimum of 10 clients and spread slopes. The binomial SD of a 95% coverage
    # over 600 replicates is 0.009; the Knapp–Hartung interval must land within about 3 SDs of 0.95. The
    # normal (DerSimonian & Laird) interval is narrower and covers less: the reason for the default.
    rng = np.random.default_rng(14)
    covered = {"knapp_hartung": 0, "normal": 0}
    replicates = 600
    for _ in range(replicates):
        x, symptom = simulate(rng, clients=MIN_CLIENTS, sessions=10, slope=0.5, tau=0.3)
        for interval in covered:
            found = associate(x, symptom, interval=interval)
            assert found.ci_low is not None and found.ci_high is not None
            covered[interval] += found.ci_low <= 0.5 <= found.ci_high
    assert 0.92 <= covered["knapp_hartung"] / replicates <= 0.98
    assert covered["normal"] < covered["knapp_hartung"]


def test_the_defaults() -> None:
    assert (MIN_CLIENTS, MIN_PAIRS_PER_CLIENT) == (10, 5)
