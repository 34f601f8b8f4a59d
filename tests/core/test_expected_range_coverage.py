"""The expected range follows the session: its width by hand, its storage, and its coverage by simulation.

Clients who recover at different rates (a random intercept and a random slope in ln(session), the
model of Finch, Lambert & Schaalje 2001) spread further apart session by session, so a band of one
width (residuals pooled over sessions) covers too much early and too little late. The simulation fits
on one sample and counts, on a fresh sample from the same process, the scores above and below the 80%
band at every session 2..16: each tail must hold 10% ± 3 percentage points.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from spacebetween.core.trajectories import (
    VARIANCE_FLOOR_FRACTION,
    ExpectedRecovery,
    Panel,
    fit_expected_recovery,
)

NAN = math.nan
SESSIONS = 16
TOLERANCE = 0.03  # percentage points of each tail, as a fraction


def simulate(rng: np.random.Generator, n: int, *, complete: bool) -> Panel:
    """PHQ-9-like courses: score = intake + u0 + slope·ln(s) + e, slope = −2.5 − 0.15·(intake − 16) + u1.

    The expected score is exactly Finch et al.'s form (b0 = 0, b1 = 1, b2 = −0.1, b3 = −0.15); around it
    the variance is 1² + 1.8²·ln² s + 1.5², 4.8 points² at session 2 and 28.2 at session 16. A fitting
    sample ends at a random session from 8 to 16 (independent of the course, so it is not selected);
    a checking sample is complete.
    """
    intake = rng.normal(16.0, 4.0, n)
    intercept = rng.normal(0.0, 1.0, n)
    slope = -2.5 - 0.15 * (intake - 16.0) + rng.normal(0.0, 1.8, n)
    session = np.arange(1, SESSIONS + 1)
    log_s = np.log(session)
    scores = (
        intake[:, None] + intercept[:, None] + slope[:, None] * log_s + rng.normal(0.0, 1.5, (n, SESSIONS))
    )
    scores[:, 0] = intake
    if not complete:
        last = rng.integers(8, SESSIONS + 1, n)
        scores[session[None, :] > last[:, None]] = NAN
    return Panel(keys=np.arange(n), scores=scores)


def tails(model: ExpectedRecovery, panel: Panel) -> tuple[np.ndarray, np.ndarray]:
    """Share of scores above and below the band at sessions 2..16."""
    session = np.arange(1, SESSIONS + 1)
    low, high = model.band(panel.intake()[:, None], session[None, :])
    above = (panel.scores > high).mean(axis=0)[1:]
    below = (panel.scores < low).mean(axis=0)[1:]
    return above, below


@pytest.fixture(scope="module")
def simulated() -> tuple[ExpectedRecovery, Panel]:
    rng = np.random.default_rng(20010601)
    fit = fit_expected_recovery(
        simulate(rng, 2_000, complete=False), instrument_id="phq9", higher_is_better=False
    )
    return fit, simulate(rng, 20_000, complete=True)


def test_the_band_holds_its_coverage_in_each_tail_at_every_session(
    simulated: tuple[ExpectedRecovery, Panel],
) -> None:
    fit, fresh = simulated
    above, below = tails(fit, fresh)
    nominal = (1 - fit.coverage) / 2
    off = {
        (f"session {s}", tail): round(float(share) * 100, 1)
        for tail, shares in (("above", above), ("below", below))
        for s, share in zip(range(2, SESSIONS + 1), shares, strict=True)
        if abs(share - nominal) > TOLERANCE
    }
    assert off == {}, f"tails outside {nominal:.0%} ± {TOLERANCE:.0%}: {off}"


def test_the_pooled_band_of_one_width_fails_the_same_check(simulated: tuple[ExpectedRecovery, Panel]) -> None:
    # The band as it was before it followed the session: the fit's pooled residual quantiles at every
    # session. Too wide early (few scores above it), too narrow late (many).
    fit, fresh = simulated
    pooled = dataclasses.replace(fit, residual_variance=None, scaled_quantiles=None)
    above, below = tails(pooled, fresh)
    assert above[0] < 0.10 - 0.06 and below[0] < 0.10 - 0.06  # session 2
    assert above[-1] > 0.10 + 0.06 and below[-1] > 0.10 + 0.06  # session 16


def test_the_fitted_variance_follows_the_generating_quadratic_in_ln_session(
    simulated: tuple[ExpectedRecovery, Panel],
) -> None:
    # 1² + 1.8²·ln² s + 1.5²: 4.8 at session 2 and 28.2 at session 16, within sampling error.
    fit, _ = simulated
    generating = [1 + 1.8**2 * math.log(s) ** 2 + 1.5**2 for s in (2, 16)]
    assert fit.spread([2, 16]) ** 2 == pytest.approx(generating, rel=0.1)


# --- the band by hand -------------------------------------------------------------------------------


def by_session(variance: tuple[float, float, float], floor: float = 0.0) -> ExpectedRecovery:
    return ExpectedRecovery(
        instrument_id="test",
        higher_is_better=False,
        coefficients=(0.0, 1.0, 0.0, 0.0),  # the expected score is the intake
        residual_quantiles=(-5.0, 5.0),
        coverage=0.8,
        n_episodes=40,
        n_scores=200,
        max_session=10,
        residual_variance=variance,
        variance_floor=floor,
        scaled_quantiles=(-1.5, 2.0),
    )


def test_the_band_is_the_scaled_quantiles_times_the_spread_of_each_session() -> None:
    # Variance 1 + 2·ln s + 3·ln² s: at session 4 (ln 4 = 1.386) 1 + 2.773 + 5.765 = 9.538, sd 3.088.
    m = by_session((1.0, 2.0, 3.0))
    log4 = math.log(4)
    sd = math.sqrt(1 + 2 * log4 + 3 * log4**2)
    low, high = m.band([10.0, 10.0, 10.0], [1, 4, 11])
    np.testing.assert_allclose(low, [NAN, 10 - 1.5 * sd, NAN])
    np.testing.assert_allclose(high, [NAN, 10 + 2.0 * sd, NAN])


def test_the_spread_never_falls_below_the_floor() -> None:
    # 4 − 4·ln s is 4 − 2.77 = 1.23 at session 2 and negative from session 3: there the floor, 0.25.
    m = by_session((4.0, -4.0, 0.0), floor=0.25)
    np.testing.assert_allclose(m.spread([2, 3, 9]), [math.sqrt(4 - 4 * math.log(2)), 0.5, 0.5])


def test_a_model_stored_before_the_band_followed_the_session_keeps_its_pooled_band() -> None:
    stored = {
        "model": "finch2001-ols-intake-log-session",
        "instrument_id": "phq9",
        "higher_is_better": False,
        "coefficients": [0.0, 1.0, 0.0, 0.0],
        "residual_quantiles": [-3.0, 4.0],
        "coverage": 0.8,
        "n_episodes": 40,
        "n_scores": 200,
        "max_session": 10,
    }
    m = ExpectedRecovery.from_json(stored)
    assert (m.residual_variance, m.scaled_quantiles) == (None, None)
    low, high = m.band([12.0, 12.0], [2, 9])
    np.testing.assert_allclose(low, [9.0, 9.0])
    np.testing.assert_allclose(high, [16.0, 16.0])
    assert m.to_json() == stored


def test_a_model_by_session_round_trips_through_json() -> None:
    m = by_session((1.0, 2.0, 3.0), floor=0.5)
    data = m.to_json()
    assert (data["residual_variance"], data["variance_floor"], data["scaled_quantiles"]) == (
        [1.0, 2.0, 3.0],
        0.5,
        [-1.5, 2.0],
    )
    assert ExpectedRecovery.from_json(data) == m
    with pytest.raises(ValueError, match="not an expected-recovery model"):
        ExpectedRecovery.from_json({**data, "scaled_quantiles": None})


def test_variance_and_scaled_quantiles_come_together() -> None:
    with pytest.raises(ValueError, match="come together"):
        dataclasses.replace(by_session((1.0, 0.0, 0.0)), scaled_quantiles=None)


# --- the fit by hand --------------------------------------------------------------------------------


def _two_session_panel() -> Panel:
    """40 episodes with an intake at session 1 and scores at sessions 2 and 3 only.

    Residuals are ±1 at session 2 and ±3 at session 3 (mirrored pairs, so OLS recovers the generating
    curve, expected = intake): with two sessions only a line in ln s can pass through the variances
    1 and 9, and it does so exactly.
    """
    rows = []
    for k in range(20):
        intake = float(10 + k % 7)
        for sign in (1, -1):
            rows.append([intake, intake + sign * 1.0, intake + sign * 3.0])
    return Panel(keys=np.arange(40), scores=np.array(rows))


def test_with_two_sessions_the_variance_is_a_line_through_both() -> None:
    fit = fit_expected_recovery(_two_session_panel(), instrument_id="phq9", higher_is_better=False)
    np.testing.assert_allclose(fit.coefficients, (0.0, 1.0, 0.0, 0.0), atol=1e-9)
    assert fit.residual_variance is not None
    c0, c1, c2 = fit.residual_variance
    slope = (9 - 1) / (math.log(3) - math.log(2))
    np.testing.assert_allclose((c0, c1, c2), (1 - slope * math.log(2), slope, 0.0), atol=1e-9)
    # Scaled, every residual is ±1, so the band is expected ± 1 sd: ±1 at session 2 and ±3 at session 3.
    low, high = fit.band([12.0, 12.0], [2, 3])
    np.testing.assert_allclose(low, [11.0, 9.0], atol=1e-9)
    np.testing.assert_allclose(high, [13.0, 15.0], atol=1e-9)
    # The pooled quantiles stay as the summary: 10th/90th percentiles of ±1 (40) and ±3 (40) are ∓3.
    np.testing.assert_allclose(fit.residual_quantiles, (-3.0, 3.0), atol=1e-9)
    assert fit.variance_floor == pytest.approx(VARIANCE_FLOOR_FRACTION * (1 + 9) / 2)
