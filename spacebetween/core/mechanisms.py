"""Mechanisms of change: does a process measure this session go with symptom improvement by the next?

Framework-free and vectorised: `process` and `symptom` are (n, S) panels on the same rows (episodes) and
session columns, NaN = not measured, and `clients` says which client each row belongs to; nothing loops
over clients in Python.

The question, within each client: in sessions where this client's process score (mindfulness,
self-compassion, emotion regulation, mentalization, stress, flexibility, or the alliance) is higher than
their own usual level, does their symptom score improve more by the next measured session than it
otherwise would at that point of therapy and from that symptom level? This is the within-person,
cross-lagged question of the process–outcome literature (Curran & Bauer 2011, Annu Rev Psychol
62:583–619, on disaggregating within- and between-person effects; Falkenström, Finkel, Sandell, Rubel &
Holmqvist 2017, J Consult Clin Psychol 85:537–549, doi:10.1037/ccp0000203, on trends and the lagged
outcome in dynamic panel models; the design of the session-by-session alliance studies, e.g.
Falkenström, Granström & Holmqvist 2013, J Couns Psychol 60:317–328). These are cited as method
background; the project has not verified them.

Why three adjustments, not only centring. Therapy has trends: symptoms fall, fastest early, while process
scores rise. Centring on the client's mean alone leaves the process score high late in therapy, when
improvement has slowed, and a practice with no true effect then sees a "significant" negative
association; and a process score that moves with the current symptom score (a client who feels worse
rates the session worse) picks up regression to the mean: a worse-than-usual session is followed by
improvement whatever the process score did. In the simulations of tests/core/test_mechanisms.py the
centred-only analysis was "significant" at α = .05 in 29% of null runs with trends and 30 clients, and
in 100% when the process score also tracked the current symptom score (95% with 10 clients). So, per
client, the regression holds the point in therapy and the current symptom level fixed (detrending and
the lagged outcome, as Falkenström et al. 2017 discuss).

Two stages (a two-stage multilevel model):

1. per client, ordinary least squares of y_t = improvement from session t to the next measured session
   (oriented so + = improvement whichever way the symptom measure runs) on
       x_t        the process score at t,
       t, ln t    the session number and its natural log: the within-person trend, linear or
                  decelerating (change in therapy is often fastest early; the dose–effect curve of
                  Howard, Kopta, Krause & Orlinsky 1986, Am Psychol 41:159–164, is linear in log
                  sessions); with t alone or ln t alone the simulated null runs of the other shape were
                  biased, and
       s_t        the symptom score at t (the lagged outcome: y_t adjusted for s_t is s_{t+1} adjusted
                  for s_t, the cross-lagged panel model),
   with one intercept per episode: every variable is centred on its episode's own mean over the pairs
   (person-mean centring; by Frisch–Waugh–Lovell the same as an intercept per episode). This gives the
   slope b_i of x and d_i = [(XᵀX)⁻¹]_xx, and the residual sum of squares on df_i = k_i − e_i − 4
   degrees of freedom (k_i pairs in e_i episodes). A client with several episodes has one slope for
   each of x, t, ln t and s_t across them and an intercept per episode; pairs never cross an episode,
   and the client counts once.
2. the slope's sampling variance v_i = s̃²_i·d_i, with the residual variance moderated towards the
   pooled one, s̃²_i = (SSE_i + d0·s²) / (df_i + d0), s² = ΣSSE/Σdf over the clients and d0 = PRIOR_DF:
   the moderated variance of Smyth (2004, Stat Appl Genet Mol Biol 3:Article 3), here with a fixed
   prior df instead of an estimated one. A client's own variance on 3 or 4 df is so noisy that a few
   lucky fits take most of the weight and the interval is too narrow (8% false positives at 30 clients
   in the simulations, 5% moderated).
3. random-effects pooling of the slopes, DerSimonian & Laird (1986, Control Clin Trials 7:177–188):
   fixed-effect weights w_i = 1/v_i, Q = Σ w_i (b_i − b_FE)², τ² = max(0, (Q − (k − 1)) / (Σw − Σw²/Σw)),
   then w*_i = 1/(v_i + τ²) and estimate = Σ w*_i b_i / Σ w*_i.

Units. The pooled slope is reported standardised: next-session improvement in within-client SDs of the
symptom measure per within-client SD of the process measure. Each SD is pooled over the clients used:
√(Σ (score − its episode's mean)² / Σ (k_e − 1)) over the pairs' session-t scores, i.e. how far a client's
scores typically lie from their own average over the course (the trend included). Both are constants of
the analysis, so standardising moves no client's weight and changes no test; the raw slope (symptom
points per process point) is kept beside it. The standardised interval treats the two SDs as known (they
are pooled over all pairs).

The 95% interval. DerSimonian & Laird use the normal quantile, estimate ± 1.96/√Σw*_i. Here the v_i
are themselves estimated from a few pairs per client, and 1/v_i then overstates the weights; in the
simulations of tests/core/test_mechanisms.py that interval covers the true pooled slope less often than
95%. The default is therefore the modified Knapp–Hartung interval (Knapp & Hartung 2003, Stat Med
22:2693–2710; the modification max(1, q) as in Röver, Knapp & Friede 2015, BMC Med Res Methodol 15:99):
SE = √(max(1, q) / Σw*_i) with q = Σ w*_i (b_i − estimate)² / (k − 1), and estimate ± t_{.975}(k − 1)·SE.
`interval="normal"` gives the DerSimonian & Laird interval. These papers are cited as background only;
the project has not verified them.

What it can show, and what not. A within-client association in observational data, not a cause: a third
thing that changes from session to session (a life event) can move both. The adjustment is for a trend
of the shape a + b·t + c·ln t and for the symptom score as measured: a trend of another shape, or a
process measure that follows the client's true symptom level more closely than the noisy symptom score
does, can still leave some bias (a lagged covariate measured with error; in the simulations a process
score tracking the true level, with measurement error of SD 1.5 on the symptom, gave a bias of about
+0.03 SD and 4–7% false positives with 30 to 100 clients). Falkenström et al. (2017) also discuss the
bias of a lagged outcome with person-mean centring in short series; it falls on s_t's own slope, which is
not reported. The simulations pin the false-positive rate and the power only for the courses they
simulate.
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

# The smallest number of clients (with enough pairs each) for which a figure is shown. τ² is a variance
# estimated from k slopes and is very imprecise for a handful of them; and a figure from a practice too
# small to find an effect worth knowing about would mostly read "no clear association". A product floor
# sized by simulation (tests/core/test_mechanisms.py; courses of 12 sessions with trends, 10% of scores
# missing): with 30 clients a standardised association of PLANNED_EFFECT was found in 84–92% of runs at
# α = .05 (about 78% with 20 clients), one of 0.1 in about 29%. A practice sees "24 clients with 8 or
# more session pairs; needs 30".
MIN_CLIENTS = 30
# The standardised association (module docstring, "Units") MIN_CLIENTS is sized to find in 80% of runs,
# named on the page. A product choice; smaller true associations are often missed at this size.
PLANNED_EFFECT = 0.25
# Beside the process score a client's regression has 3 more slopes (session number, its log, the symptom
# at t) and an intercept per episode: COVARIATES + 2 = 5 pairs in one episode give 1 residual degree of
# freedom. With 1 or 2 degrees of freedom the estimated variance is so unstable (χ²: 1 estimate in 10 is
# below 1/60 of the true variance on 1 df, below 1/10 on 2 df) that one client with a lucky near-perfect
# fit takes most of the pooled weight; with 3 df 1 in 10 is below a fifth. A product choice: 8 pairs
# (3 residual df in one episode), and the variances are moderated as well (PRIOR_DF).
MIN_PAIRS_PER_CLIENT = 8
# The prior degrees of freedom with which a client's residual variance is moderated towards the pooled
# one (module docstring). A product choice, as informative as 4 more pairs: in the simulations of
# tests/core/test_mechanisms.py a client's own variance (prior 0) gave 8% false positives with 30
# clients, priors of 3 to 6 gave 4.5–5%, and the pooled variance alone (prior ∞) 4%.
PRIOR_DF = 4.0
# Covariates beside the process score: the session number, its natural log, and the symptom score at t.
COVARIATES = 3
# Two-sided 95%: the normal quantile of DerSimonian & Laird (1986), or t on k − 1 df (Knapp & Hartung 2003).
Z_95 = 1.96
ALPHA = 0.05
Interval = Literal["knapp_hartung", "normal"]


@dataclass(frozen=True)
class LaggedAssociation:
    """A pooled within-client lagged association, or the reason none is claimed."""

    process: str
    outcome: str
    # Pooled within-client slope, standardised: next-session symptom improvement (+ = better) in
    # within-client SDs of the symptom per within-client SD of the process above the client's own
    # level, for the same session number and the same symptom score at t. None = no claim.
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    standard_error: float | None
    tau2: float | None  # between-client variance of the standardised slopes (DerSimonian & Laird)
    n_clients: int  # clients (not episodes) whose slope was pooled
    n_pairs: int  # (session, next session) pairs of those clients
    reason: str  # "" when estimated; otherwise why no claim is made, e.g. "6 clients; needs 30"
    clients_with_too_few_pairs: int = 0
    clients_without_variation: int = 0  # a flat process score, or a fit that leaves no residual
    i2: float | None = None  # share of the slopes' spread beyond chance, (Q − df)/Q (Higgins & Thompson 2002)
    interval: str = ""  # "knapp_hartung" or "normal" when estimated
    # The units: pooled within-client SDs in each measure's points, and the slope and interval in points
    # of the symptom per point of the process (the standardised ones times process_sd / symptom_sd).
    process_sd: float | None = None
    symptom_sd: float | None = None
    raw_estimate: float | None = None
    raw_ci_low: float | None = None
    raw_ci_high: float | None = None
    n_episodes: int = 0  # episodes of the pooled clients that gave pairs

    @property
    def clear(self) -> bool:
        """An estimate whose 95% interval excludes no difference."""
        return self.ci_low is not None and self.ci_high is not None and not self.ci_low <= 0 <= self.ci_high

    def explain(self) -> str:
        """One plain sentence with the numbers, or the reason no claim is made."""
        left_out = self.clients_with_too_few_pairs + self.clients_without_variation
        note = f"; {left_out} more left out for too few pairs or unvarying scores" if left_out else ""
        if (
            self.estimate is None
            or self.ci_low is None
            or self.ci_high is None
            or self.process_sd is None
            or self.symptom_sd is None
        ):
            return (
                f"{self.process} and next-session change in {self.outcome}: no estimate ({self.reason}{note})"
            )
        more = "more" if self.estimate >= 0 else "less"
        unclear = ": the interval includes no difference, so no clear association" if not self.clear else ""
        return (
            f"In sessions where a client's {self.process} was 1 SD ({_number(self.process_sd)} points) above "
            f"their own usual level, at the same point of therapy and the same {self.outcome} score, their "
            f"{self.outcome} improved by {_number(abs(self.estimate))} SD "
            f"({_number(self.symptom_sd)} points) {more} by the next session "
            f"(95% CI {_number(self.ci_low)} to {_number(self.ci_high)}; "
            f"{self.n_clients} clients, {self.n_pairs} session pairs{note}){unclear}"
        )


def _number(x: float) -> str:
    return f"{x:.2f}" if abs(x) < 10 else f"{x:.3g}"


def next_measured(scores: FloatArray) -> FloatArray:
    """Per cell, the score at the next later session with one (NaN where there is none)."""
    after = np.full(scores.shape, np.nan)
    for j in range(scores.shape[1] - 2, -1, -1):
        later = scores[:, j + 1]
        after[:, j] = np.where(np.isfinite(later), later, after[:, j + 1])
    return after


@dataclass(frozen=True)
class ClientSlopes:
    """Stage 1, per client: pairs, episodes, the slope of the process score, its residual sum of squares
    and design factor (NaN where not estimable), and the sums for the pooled within-client SDs."""

    pairs: NDArray[np.int64]
    episodes: NDArray[np.int64]  # episodes with at least one pair
    slope: FloatArray
    varies: BoolArray  # the design has full rank and the residuals vary
    residual_df: NDArray[np.int64]
    residual_ss: FloatArray
    design_factor: FloatArray  # [(XᵀX)⁻¹]_xx, the slope's variance per unit of residual variance
    process_ss: FloatArray  # Σ (x − its episode's mean)² over the pairs
    symptom_ss: FloatArray  # the same for the symptom at t


def client_slopes(
    process: FloatArray, symptom: FloatArray, improvement: FloatArray, client_index: NDArray[np.intp]
) -> ClientSlopes:
    """Per client (`client_index[row]` = 0 … m − 1), OLS of `improvement` on the process score, the session
    number, its log and the symptom score, each centred on its episode's (row's) mean over the pairs (an
    intercept per episode): cells where the process, the symptom and the improvement all exist."""
    n, width = process.shape
    valid = np.isfinite(process) & np.isfinite(symptom) & np.isfinite(improvement)
    k = valid.sum(axis=1)
    session = np.arange(1, width + 1, dtype=np.float64)
    log_session = np.broadcast_to(np.log(session), (n, width))
    linear_session = np.broadcast_to(session, (n, width))

    def centred(values: FloatArray) -> FloatArray:
        kept = np.where(valid, values, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = kept.sum(axis=1) / k
        return np.where(valid, kept - mean[:, None], 0.0)

    design = np.stack(
        [centred(process), centred(linear_session), centred(log_session), centred(symptom)], axis=-1
    )
    y = centred(improvement)
    m, p = int(client_index.max(initial=-1)) + 1, design.shape[-1]
    xtx, xty = np.zeros((m, p, p)), np.zeros((m, p))
    yty, pairs, episodes = np.zeros(m), np.zeros(m, np.int64), np.zeros(m, np.int64)
    np.add.at(xtx, client_index, np.einsum("nsi,nsj->nij", design, design))
    np.add.at(xty, client_index, np.einsum("nsi,ns->ni", design, y))
    np.add.at(yty, client_index, (y**2).sum(axis=1))
    np.add.at(pairs, client_index, k)
    np.add.at(episodes, client_index, k > 0)
    residual_df = pairs - episodes - p
    # Full rank, on the correlation scale so that a score's units do not matter: a flat process score
    # (or one that is an exact function of the session number and the symptom) has no slope of its own.
    scale = np.sqrt(np.einsum("mii->mi", xtx))
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = xtx / (scale[:, :, None] * scale[:, None, :])
    full_rank = (scale > 1e-9).all(axis=1) & (residual_df >= 1)
    safe = np.where(full_rank[:, None, None], correlation, np.eye(p))
    full_rank &= np.linalg.cond(safe) < 1e8
    inverse_corr = np.linalg.inv(np.where(full_rank[:, None, None], safe, np.eye(p)))
    with np.errstate(invalid="ignore", divide="ignore"):
        inverse = inverse_corr / (scale[:, :, None] * scale[:, None, :])
        beta = np.einsum("mij,mj->mi", inverse, xty)
        sse = np.maximum(yty - np.einsum("mi,mi->m", beta, xty), 0.0)
    varies = full_rank & (sse > 1e-10 * yty)
    return ClientSlopes(
        pairs=pairs,
        episodes=episodes,
        slope=np.where(varies, beta[:, 0], np.nan),
        varies=varies,
        residual_df=residual_df,
        residual_ss=np.where(varies, sse, np.nan),
        design_factor=np.where(varies, inverse[:, 0, 0], np.nan),
        process_ss=_per_client(client_index, (design[..., 0] ** 2).sum(axis=1), m),
        symptom_ss=_per_client(client_index, (design[..., -1] ** 2).sum(axis=1), m),
    )


def _per_client(client_index: NDArray[np.intp], values: FloatArray, m: int) -> FloatArray:
    total = np.zeros(m)
    np.add.at(total, client_index, values)
    return total


def moderated_variances(
    residual_ss: ArrayLike, residual_df: ArrayLike, *, prior_df: float = PRIOR_DF
) -> FloatArray:
    """Each client's residual variance moderated towards the pooled one: (SSE_i + d0·s²) / (df_i + d0),
    s² = ΣSSE / Σdf over these clients and d0 = `prior_df` (Smyth 2004; module docstring)."""
    sse = np.asarray(residual_ss, dtype=np.float64)
    df = np.asarray(residual_df, dtype=np.float64)
    pooled = float(sse.sum() / df.sum())
    return (sse + prior_df * pooled) / (df + prior_df)


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
    clients: ArrayLike | None = None,
    min_clients: int = MIN_CLIENTS,
    min_pairs_per_client: int = MIN_PAIRS_PER_CLIENT,
    interval: Interval = "knapp_hartung",
) -> LaggedAssociation:
    """Pooled within-client association of the process score at session t with symptom improvement
    from t to the next measured session, adjusted for ln(session number) and the symptom score at t
    (module docstring; docs/insights.md, "Mechanisms of change").

    Rows are episodes; `clients` gives each row's client (any hashable keys; None = every row its own
    client), so a client with several episodes is one client with one slope. A pair needs the process
    and the symptom at t and a later symptom score in the same episode; the next measured session counts
    however many sessions later it came. Clients with fewer than `min_pairs_per_client` pairs or no
    residual degree of freedom, or whose process score or residuals do not vary apart from the trend and
    the symptom, are left out and counted; with fewer than `min_clients` clients left, no estimate is made
    and `reason` says why.
    """
    if min_clients < 2:
        raise ValueError(f"min_clients must be at least 2 (τ² needs two slopes), not {min_clients}")
    if min_pairs_per_client < COVARIATES + 3:
        raise ValueError(
            f"min_pairs_per_client must be at least {COVARIATES + 3} (a slope's variance needs a residual "
            f"beyond the intercept and {COVARIATES + 1} slopes), not {min_pairs_per_client}"
        )
    x = score_matrix(process, "process")
    s = score_matrix(symptom, "symptom")
    if x.shape != s.shape:
        raise ValueError(f"process and symptom differ in shape ({x.shape} and {s.shape})")
    if clients is None:
        client_index = np.arange(x.shape[0])
    else:
        keys = np.asarray(clients)
        if keys.shape != (x.shape[0],):
            raise ValueError(f"{keys.shape} client keys for {x.shape[0]} rows of scores")
        client_index = np.unique(keys, return_inverse=True)[1].reshape(-1)
    later = next_measured(s)
    improvement = later - s if symptom_higher_is_better else s - later
    fits = client_slopes(x, s, improvement, client_index)
    enough = (fits.pairs >= min_pairs_per_client) & (fits.residual_df >= 1)
    used = enough & fits.varies
    too_few = int(np.count_nonzero((fits.pairs > 0) & ~enough))
    flat = int(np.count_nonzero(enough & ~fits.varies))
    n_clients, n_pairs = int(np.count_nonzero(used)), int(fits.pairs[used].sum())
    n_episodes = int(fits.episodes[used].sum())
    common = dict(
        process=process_name,
        outcome=outcome_name,
        n_clients=n_clients,
        n_pairs=n_pairs,
        n_episodes=n_episodes,
        clients_with_too_few_pairs=too_few,
        clients_without_variation=flat,
    )
    if n_clients < min_clients:
        return LaggedAssociation(
            estimate=None,
            ci_low=None,
            ci_high=None,
            standard_error=None,
            tau2=None,
            reason=(
                f"{n_clients} clients with {min_pairs_per_client} or more session pairs; needs {min_clients}"
            ),
            **common,  # type: ignore[arg-type]
        )
    # Pooled within-client SDs over the pairs' session-t scores, on n − 1 per episode.
    df_sd = n_pairs - n_episodes
    process_sd = math.sqrt(float(fits.process_ss[used].sum()) / df_sd)
    symptom_sd = math.sqrt(float(fits.symptom_ss[used].sum()) / df_sd)
    ratio = process_sd / symptom_sd
    variances = moderated_variances(fits.residual_ss[used], fits.residual_df[used]) * fits.design_factor[used]
    pooled = dersimonian_laird(fits.slope[used] * ratio, variances * ratio**2, interval=interval)
    return LaggedAssociation(
        estimate=pooled.estimate,
        ci_low=pooled.ci_low,
        ci_high=pooled.ci_high,
        standard_error=pooled.standard_error,
        tau2=pooled.tau2,
        reason="",
        i2=pooled.i2,
        interval=interval,
        process_sd=process_sd,
        symptom_sd=symptom_sd,
        raw_estimate=pooled.estimate / ratio,
        raw_ci_low=pooled.ci_low / ratio,
        raw_ci_high=pooled.ci_high / ratio,
        **common,  # type: ignore[arg-type]
    )
