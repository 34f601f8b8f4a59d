"""Sudden gains and sudden losses in session-by-session scores (Tang & DeRubeis 1999).

Input is a matrix of scores, one row per client and one column per session in order (NaN =
missing); sessions are numbered 1..S by column position (project convention 7: a baseline that
is not a session is left out by the caller). Interval j (0-based) is the step from session j+1 to
session j+2, so its pre-gain session is N = j+1.

A sudden gain from session N to N+1 meets all three criteria of Tang & DeRubeis (1999), written
here for lower-is-better measures (mirrored for higher-is-better, see `sudden_gains`):

1. x_N − x_{N+1} ≥ cutoff (inclusive; 7 BDI points in the original, nowadays often the RCI in points);
2. x_N − x_{N+1} ≥ 25 % of x_N (inclusive);
3. mean(pre) − mean(post) > t · sqrt(((n1−1)s1² + (n2−1)s2²) / (n1+n2−2)), where pre holds the present
   values of x_{N−2}, x_{N−1}, x_N and post those of x_{N+1}, x_{N+2}, x_{N+3} (both windows clipped to
   the series), s are n−1 SDs and t = |t_{.025}(n1+n2−2)|: the pooled SD, not the standard error of the
   difference, as in Tang & DeRubeis and the suddengains R package (Wiedemann et al. 2020).

Missing values: Lutz et al. (2013) adjust criterion 3 by using the t quantile for the number of
values actually present (project convention 5: exact two-tailed quantiles at α = .05, computed here,
giving 2.776, 3.182 and 4.303 for df 4, 3 and 2). Each window needs at least 2 present values, and
x_N and x_{N+1} must both be present, so a gain never spans a missing session and the first and
last intervals are never gains.

Reversal (project convention 6, after Tang & DeRubeis: the client loses at least half of the gain):
a gain is reversed when any later score, from session N+2 on, is at or above
x_{N+1} + (x_N − x_{N+1}) / 2 for lower-is-better measures (mirrored for higher-is-better).

A sudden loss is the mirror image: a sudden worsening that meets the same three criteria in the
other direction, reversed when a later score recovers at least half of the loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# Tang & DeRubeis (1999), criterion 2: the gain is at least 25 % of the pre-gain score.
CRITERION2_FRACTION = 0.25
# Tang & DeRubeis (1999), criterion 3: two-tailed α = .05; three sessions on each side of the gain.
ALPHA = 0.05
WINDOW = 3
MIN_WINDOW_VALUES = 2


# --- Student t distribution -------------------------------------------------------------------------
# scipy is not a dependency, and criterion 3 needs only a handful of quantiles. The t CDF is written
# with the regularized incomplete beta function (Abramowitz & Stegun 1964, 26.7.1), evaluated by its
# continued fraction (A&S 26.5.8) with the modified Lentz algorithm (Press et al., Numerical Recipes,
# 3rd ed., §6.4 and §5.2); the quantile is found by bisection, which is slow but cannot miss.


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        # Even step of A&S 26.5.8.
        aa = m * (b - m) * x / ((a - 1.0 + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        # Odd step.
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1.0 + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            return h
    raise ArithmeticError(f"incomplete beta continued fraction did not converge (a={a}, b={b}, x={x})")


def regularized_incomplete_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1."""
    if not (a > 0 and b > 0):
        raise ValueError("a and b must be positive")
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = a * math.log(x) + b * math.log1p(-x) - (math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))
    # The continued fraction converges fast only below (a+1)/(a+b+2); above it use the symmetry
    # I_x(a, b) = 1 − I_{1−x}(b, a) (A&S 26.5.2).
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def student_t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with `df` degrees of freedom (A&S 26.7.1)."""
    if not df > 0:
        raise ValueError("degrees of freedom must be positive")
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * regularized_incomplete_beta(df / (df + t * t), df / 2.0, 0.5)
    return 1.0 - tail if t >= 0 else tail


def student_t_quantile(p: float, df: float) -> float:
    """The t with P(T ≤ t) = p, by bisection on `student_t_cdf` to double precision."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must lie strictly between 0 and 1")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -student_t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while student_t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if mid in (lo, hi):
            break
        if student_t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


@lru_cache(maxsize=64)
def critical_t(df: int, alpha: float = ALPHA) -> float:
    """|t_{α/2}(df)|, the two-tailed critical value (convention 5: exact, not a rounded table)."""
    return student_t_quantile(1.0 - alpha / 2.0, df)


# --- Sudden gains -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuddenGains:
    """Per-interval results, each of shape (clients, sessions − 1); interval j is session j+1 → j+2.

    `magnitude` is the change in the direction sought (positive for a gain or loss), for every
    interval with both scores present; `reversal_value` is the score a later session must reach
    for the gain to count as reversed.
    """

    gain: BoolArray
    criterion1: BoolArray
    criterion2: BoolArray
    criterion3: BoolArray
    testable: BoolArray
    magnitude: FloatArray
    reversal_value: FloatArray
    reversed: BoolArray

    def events(self) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """(row index, pre-gain session number from 1) of every gain, in row then session order."""
        rows, intervals = np.nonzero(self.gain)
        return rows, intervals + 1


def _window_stats(y: FloatArray, first: int) -> tuple[NDArray[np.intp], FloatArray, FloatArray]:
    """Count, mean and sum of squared deviations of the present values in the window of each interval.

    Interval j's window covers sessions j + first .. j + first + WINDOW − 1 (0-based), clipped to the
    series: first = −2 gives the pre window (x_{N−2}..x_N), first = 1 the post window (x_{N+1}..x_{N+3}).
    Built from WINDOW shifted column slices of a NaN-padded copy, each a whole-matrix operation.
    """
    n, s = y.shape
    pad = np.full((n, WINDOW - 1), np.nan)
    padded = np.concatenate([pad, y, pad], axis=1)
    start = first + WINDOW - 1
    columns = [padded[:, start + i : start + i + s - 1] for i in range(WINDOW)]
    present = [np.isfinite(c) for c in columns]
    count = sum((p.astype(np.intp) for p in present), np.zeros((n, s - 1), dtype=np.intp))
    with np.errstate(invalid="ignore", divide="ignore"):
        total = sum(
            (np.where(p, c, 0.0) for p, c in zip(present, columns, strict=True)), np.zeros((n, s - 1))
        )
        mean = total / count
        squares = sum(
            (np.where(p, (c - mean) ** 2, 0.0) for p, c in zip(present, columns, strict=True)),
            np.zeros((n, s - 1)),
        )
    return count, mean, squares


def sudden_gains(
    scores: ArrayLike,
    *,
    cutoff: float,
    higher_is_better: bool = False,
    losses: bool = False,
    fraction: float = CRITERION2_FRACTION,
    alpha: float = ALPHA,
) -> SuddenGains:
    """Sudden gains (or, with `losses=True`, sudden losses) of each client, vectorised over clients.

    Mirroring: for higher-is-better measures, and for losses on lower-is-better ones, the change
    sought is an increase; criteria 1 and 3 and the reversal test are applied to the mirrored
    series. Criterion 2 always compares the size of the change with the pre-gain score x_N itself,
    as Tang & DeRubeis define it on the raw scale. `fraction=0` switches criterion 2 off.
    """
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"scores must be a clients × sessions matrix, not of shape {x.shape}")
    if not (math.isfinite(cutoff) and cutoff > 0):
        raise ValueError(f"the criterion 1 cut-off must be a positive number, not {cutoff}")
    if not (math.isfinite(fraction) and fraction >= 0):
        raise ValueError(f"the criterion 2 fraction must be zero or positive, not {fraction}")
    n, s = x.shape
    # Orient so that the change sought is always a decrease of y.
    seek_increase = higher_is_better != losses
    y = -x if seek_increase else x
    intervals = max(s - 1, 0)
    if intervals == 0:
        empty_b = np.zeros((n, 0), dtype=bool)
        empty_f = np.zeros((n, 0))
        return SuddenGains(empty_b, empty_b, empty_b, empty_b, empty_b, empty_f, empty_f, empty_b)

    y_n, y_n1 = y[:, :-1], y[:, 1:]
    x_n = x[:, :-1]
    magnitude = y_n - y_n1
    both = np.isfinite(magnitude)

    n1, mean1, ss1 = _window_stats(y, -(WINDOW - 1))
    n2, mean2, ss2 = _window_stats(y, 1)
    testable = both & (n1 >= MIN_WINDOW_VALUES) & (n2 >= MIN_WINDOW_VALUES)
    df = np.where(testable, n1 + n2 - 2, 0)
    # df is 2, 3 or 4 with windows of 3; index 0 and 1 are never used by a testable interval.
    t_table = np.array([math.nan, math.nan] + [critical_t(k, alpha) for k in range(2, 2 * WINDOW - 1)])
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled_sd = np.sqrt((ss1 + ss2) / df)
        criterion1 = both & (magnitude >= cutoff)
        criterion2 = both & (magnitude >= fraction * x_n)
        criterion3 = testable & (mean1 - mean2 > t_table[df] * pooled_sd)
    gain = criterion1 & criterion2 & criterion3

    # Reversal: the best-for-reversal later score is the highest y from session N+2 on.
    later = np.where(np.isfinite(y), y, -np.inf)
    suffix_max = np.maximum.accumulate(later[:, ::-1], axis=1)[:, ::-1]
    after = np.concatenate([suffix_max[:, 2:], np.full((n, 1), -np.inf)], axis=1)
    threshold = y_n1 + magnitude / 2.0
    with np.errstate(invalid="ignore"):
        reversed_ = gain & (after >= threshold)
    reversal_value = -threshold if seek_increase else threshold
    return SuddenGains(
        gain=gain,
        criterion1=criterion1,
        criterion2=criterion2,
        criterion3=criterion3,
        testable=testable,
        magnitude=np.where(both, magnitude, np.nan),
        reversal_value=np.where(both, reversal_value, np.nan),
        reversed=reversed_,
    )


def sudden_losses(
    scores: ArrayLike,
    *,
    cutoff: float,
    higher_is_better: bool = False,
    fraction: float = CRITERION2_FRACTION,
    alpha: float = ALPHA,
) -> SuddenGains:
    """Sudden losses: `sudden_gains` in the other direction (`gain` marks the losses)."""
    return sudden_gains(
        scores, cutoff=cutoff, higher_is_better=higher_is_better, losses=True, fraction=fraction, alpha=alpha
    )
