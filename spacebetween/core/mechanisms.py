"""Mechanisms of change: does a process measure this session go with symptom improvement by the next?

Framework-free and vectorised over clients: `process` and `symptom` are (n, S) panels on the same rows
(clients or episodes) and session columns, NaN = not measured; nothing loops over clients in Python.

The question, within each client: in sessions where this client's process score (mindfulness,
self-compassion, emotion regulation, mentalization, stress, flexibility, or the alliance) is higher than
their own usual level, does their symptom score improve more by the next measured session? Centring
each client's process scores on their own mean separates this within-client association from the
between-client one (clients who are generally more mindful may simply be less depressed; Curran &
Bauer 2011, Annu Rev Psychol 62:583–619, on disaggregating within- and between-person effects). The
design follows the session-by-session alliance studies, e.g. Falkenström, Granström & Holmqvist
(2013, J Couns Psychol 60:317–328: alliance at one session predicting symptom change to the next).
Those two sources are cited as background only; the project has not verified them.

Two stages (a two-stage multilevel model):

1. per client, ordinary least squares of y_t = improvement from session t to the next measured session
   (oriented so + = improvement whichever way the symptom measure runs) on x_t − mean(x), the process
   score at t centred on the client's mean over their pairs; the slope b_i and its sampling variance
   v_i = s²_i / Σ(x_t − mean x)², with s²_i the residual variance on k_i − 2 degrees of freedom;
2. random-effects pooling of the slopes, DerSimonian & Laird (1986, Control Clin Trials 7:177–188):
   fixed-effect weights w_i = 1/v_i, Q = Σ w_i (b_i − b_FE)², τ² = max(0, (Q − (k − 1)) / (Σw − Σw²/Σw)),
   then w*_i = 1/(v_i + τ²) and estimate = Σ w*_i b_i / Σ w*_i.

The 95% interval. DerSimonian & Laird use the normal quantile, estimate ± 1.96/√Σw*_i. Here the v_i
are themselves estimated from a few pairs per client, and 1/v_i then overstates the weights; in the
simulations of tests/core/test_mechanisms.py that interval covers the true pooled slope only about
90–94% of the time with 10–30 clients. The default is therefore the modified Knapp–Hartung interval
(Knapp & Hartung 2003, Stat Med 22:2693–2710; the modification max(1, q) as in Röver, Knapp & Friede
2015, BMC Med Res Methodol 15:99): SE = √(max(1, q) / Σw*_i) with q = Σ w*_i (b_i − estimate)² / (k − 1),
and estimate ± t_{.975}(k − 1)·SE, which held 94–96% there. `interval="normal"` gives the DerSimonian &
Laird interval. These four papers are cited as background only; the project has not verified them.

This is an association in observational data, not a causal effect: a process score that moves with
the current symptom level also picks up regression to the mean in the next change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacebetween.core.sudden_gains import critical_t
from spacebetween.core.trajectories import score_matrix

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# A product floor, not a published one. τ² is a variance estimated from k slopes and is very imprecise
# for a handful of them, and the interval with it; below 10 clients no claim is made. A practice sees
# this as "6 clients with 5 or more session pairs; needs 10".
MIN_CLIENTS = 10
# A client's slope needs a residual variance, so at least 3 pairs (k − 2 ≥ 1 degrees of freedom). With 1
# or 2 degrees of freedom the estimated variance is so unstable (χ²: 1 estimate in 10 is below 1/60 of
# the true variance on 1 df, below 1/10 on 2 df) that one client with a lucky near-perfect fit takes
# most of the pooled weight; with 5 pairs (3 df) 1 in 10 is below a fifth. A product choice: 5.
MIN_PAIRS_PER_CLIENT = 5
# Two-sided 95%: the normal quantile of DerSimonian & Laird (1986), or t on k − 1 df (Knapp & Hartung 2003).
Z_95 = 1.96
ALPHA = 0.05
Interval = Literal["knapp_hartung", "normal"]


@dataclass(frozen=True)
class LaggedAssociation:
    """A pooled within-client lagged association, or the reason none is claimed."""

    process: str
    outcome: str
    # Pooled within-client slope: next-session symptom improvement (symptom points, + = better) per point
    # of the process measure above the client's own mean. None = no claim.
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    standard_error: float | None
    tau2: float | None  # between-client variance of the slopes (DerSimonian & Laird)
    n_clients: int  # clients whose slope was pooled
    n_pairs: int  # (session, next session) pairs of those clients
    reason: str  # "" when estimated; otherwise why no claim is made, e.g. "6 clients; needs 10"
    clients_with_too_few_pairs: int = 0
    clients_without_variation: int = 0  # a flat process score, or a perfect fit that leaves no residual
    i2: float | None = None  # share of the slopes' spread beyond chance, (Q − df)/Q (Higgins & Thompson 2002)
    interval: str = ""  # "knapp_hartung" or "normal" when estimated

    def explain(self) -> str:
        """One plain sentence with the numbers, or the reason no claim is made."""
        left_out = self.clients_with_too_few_pairs + self.clients_without_variation
        note = f"; {left_out} more left out for too few or unvarying scores" if left_out else ""
        if self.estimate is None or self.ci_low is None or self.ci_high is None:
            return (
                f"{self.process} and next-session change in {self.outcome}: no estimate ({self.reason}{note})"
            )
        more = "more" if self.estimate >= 0 else "less"
        unclear = (
            ": the interval includes no difference, so no clear association"
            if self.ci_low <= 0 <= self.ci_high
            else ""
        )
        return (
            f"In sessions where a client's {self.process} was 1 point above their own usual level, their "
            f"{self.outcome} improved by {_number(abs(self.estimate))} points {more} by the next session "
            f"(95% CI {_number(self.ci_low)} to {_number(self.ci_high)}; {self.n_clients} clients, "
            f"{self.n_pairs} session pairs{note}){unclear}"
        )


def _number(x: float) -> str:
    return f"{x:.3g}"


def next_measured(scores: FloatArray) -> FloatArray:
    """Per cell, the score at the next later session with one (NaN where there is none)."""
    after = np.full(scores.shape, np.nan)
    for j in range(scores.shape[1] - 2, -1, -1):
        later = scores[:, j + 1]
        after[:, j] = np.where(np.isfinite(later), later, after[:, j + 1])
    return after


@dataclass(frozen=True)
class ClientSlopes:
    """Stage 1, per client (row): pairs, OLS slope and its sampling variance (NaN where not estimable)."""

    pairs: NDArray[np.int64]
    slope: FloatArray
    variance: FloatArray
    varies: BoolArray  # both the process score and the residuals vary


def client_slopes(process: FloatArray, improvement: FloatArray) -> ClientSlopes:
    """OLS of `improvement` on the client-mean-centred `process`, row by row, on cells where both exist."""
    valid = np.isfinite(process) & np.isfinite(improvement)
    k = valid.sum(axis=1)
    x = np.where(valid, process, 0.0)
    y = np.where(valid, improvement, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        x_c = np.where(valid, x - (x.sum(axis=1) / k)[:, None], 0.0)
        y_c = np.where(valid, y - (y.sum(axis=1) / k)[:, None], 0.0)
        sxx = (x_c**2).sum(axis=1)
        slope = (x_c * y_c).sum(axis=1) / sxx
        residual = np.where(valid, y_c - slope[:, None] * x_c, 0.0)
        sse = (residual**2).sum(axis=1)
        variance = sse / (k - 2) / sxx
    # Relative tolerances: scores are sums of answers, so a flat series centres to rounding noise only.
    scale_x = np.abs(x).max(axis=1, initial=0.0) + 1.0
    scale_y = (y_c**2).sum(axis=1)
    varies = (k >= 3) & (sxx > k * (1e-9 * scale_x) ** 2) & (sse > 1e-12 * scale_y)
    return ClientSlopes(
        pairs=k.astype(np.int64),
        slope=np.where(varies, slope, np.nan),
        variance=np.where(varies, variance, np.nan),
        varies=varies,
    )


@dataclass(frozen=True)
class RandomEffects:
    estimate: float
    standard_error: float  # of the chosen interval
    ci_low: float
    ci_high: float
    tau2: float
    q: float  # Cochran's Q with the fixed-effect weights
    i2: float


def dersimonian_laird(
    effects: ArrayLike, variances: ArrayLike, *, interval: Interval = "knapp_hartung"
) -> RandomEffects:
    """DerSimonian & Laird (1986) random-effects pooling of k ≥ 2 effects with variances > 0, with the
    modified Knapp–Hartung or the normal 95% interval (module docstring)."""
    b = np.asarray(effects, dtype=np.float64)
    v = np.asarray(variances, dtype=np.float64)
    if b.shape != v.shape or b.ndim != 1 or b.size < 2:
        raise ValueError(f"need two or more effects with one variance each, not {b.shape} and {v.shape}")
    if not (np.isfinite(b).all() and np.isfinite(v).all() and (v > 0).all()):
        raise ValueError("effects must be finite and variances finite and positive")
    if interval not in ("knapp_hartung", "normal"):
        raise ValueError(f"interval must be 'knapp_hartung' or 'normal', not {interval!r}")
    w = 1.0 / v
    fixed = float((w * b).sum() / w.sum())
    q = float((w * (b - fixed) ** 2).sum())
    df = b.size - 1
    c = float(w.sum() - (w**2).sum() / w.sum())
    tau2 = max(0.0, (q - df) / c)
    w_star = 1.0 / (v + tau2)
    estimate = float((w_star * b).sum() / w_star.sum())
    if interval == "normal":
        se, quantile = math.sqrt(1.0 / float(w_star.sum())), Z_95
    else:
        scale = float((w_star * (b - estimate) ** 2).sum()) / df
        se, quantile = math.sqrt(max(1.0, scale) / float(w_star.sum())), critical_t(df, ALPHA)
    # Higgins & Thompson (2002, Stat Med 21:1539–1558).
    i2 = max(0.0, (q - df) / q) if q > 0 else 0.0
    return RandomEffects(estimate, se, estimate - quantile * se, estimate + quantile * se, tau2, q, i2)


def lagged_association(
    process: FloatArray,
    symptom: FloatArray,
    *,
    process_name: str,
    outcome_name: str,
    symptom_higher_is_better: bool,
    min_clients: int = MIN_CLIENTS,
    min_pairs_per_client: int = MIN_PAIRS_PER_CLIENT,
    interval: Interval = "knapp_hartung",
) -> LaggedAssociation:
    """Pooled within-client association of the process score at session t with symptom improvement
    from t to the next measured session (module docstring; docs/insights.md, "Mechanisms of change").

    A pair needs the process and the symptom at t and a later symptom score; the next measured session
    counts however many sessions later it came. Clients with fewer than `min_pairs_per_client` pairs, or
    whose process score or residuals do not vary, are left out and counted; with fewer than
    `min_clients` clients left, no estimate is made and `reason` says why.
    """
    if min_clients < 2:
        raise ValueError(f"min_clients must be at least 2 (τ² needs two slopes), not {min_clients}")
    if min_pairs_per_client < 3:
        raise ValueError(
            f"min_pairs_per_client must be at least 3 (a slope's variance needs a residual), "
            f"not {min_pairs_per_client}"
        )
    x = score_matrix(process, "process")
    s = score_matrix(symptom, "symptom")
    if x.shape != s.shape:
        raise ValueError(f"process and symptom differ in shape ({x.shape} and {s.shape})")
    later = next_measured(s)
    improvement = later - s if symptom_higher_is_better else s - later
    fits = client_slopes(np.where(np.isfinite(improvement), x, np.nan), improvement)
    enough = fits.pairs >= min_pairs_per_client
    used = enough & fits.varies
    too_few = int(np.count_nonzero((fits.pairs > 0) & ~enough))
    flat = int(np.count_nonzero(enough & ~fits.varies))
    n_clients, n_pairs = int(np.count_nonzero(used)), int(fits.pairs[used].sum())
    if n_clients < min_clients:
        return LaggedAssociation(
            process=process_name,
            outcome=outcome_name,
            estimate=None,
            ci_low=None,
            ci_high=None,
            standard_error=None,
            tau2=None,
            n_clients=n_clients,
            n_pairs=n_pairs,
            reason=(
                f"{n_clients} clients with {min_pairs_per_client} or more session pairs; needs {min_clients}"
            ),
            clients_with_too_few_pairs=too_few,
            clients_without_variation=flat,
        )
    pooled = dersimonian_laird(fits.slope[used], fits.variance[used], interval=interval)
    return LaggedAssociation(
        process=process_name,
        outcome=outcome_name,
        estimate=pooled.estimate,
        ci_low=pooled.ci_low,
        ci_high=pooled.ci_high,
        standard_error=pooled.standard_error,
        tau2=pooled.tau2,
        n_clients=n_clients,
        n_pairs=n_pairs,
        reason="",
        i2=pooled.i2,
        interval=interval,
        clients_with_too_few_pairs=too_few,
        clients_without_variation=flat,
    )
