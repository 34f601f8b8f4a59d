"""Trajectories and signals: expected recovery by session, and the current signals of each series.

Framework-free and vectorised: a `Panel` holds one instrument's scores, one row per series (an
episode) and one column per session number, so the same functions serve one client's page and a
network's million episodes (docs/insights.md, "Trajectories and signals").

Expected recovery follows the form of Finch, Lambert & Schaalje (2001, Clin Psychol
Psychother 8:231; docs/insights.md): the expected score at session s depends on the intake score and ln(s),

    score = b0 + b1·intake + b2·ln(s) + b3·intake·ln(s)

fitted by ordinary least squares with intake as a continuous covariate (their open re-implementation
recipe, without the random effects: the band needs expected scores, not per-client slopes).

The band widens or narrows with the session. Finch et al.'s model gives each client a random intercept
and a random slope in ln(s); the variance of a score around the expected course is then a quadratic in
ln(s), τ00 + 2·τ01·ln s + τ11·ln² s + σ² (the composite residual of the multilevel model for change,
Singer & Willett 2003, Applied Longitudinal Data Analysis, ch. 7). When clients recover at different
rates the spread grows with the session, and one width for all sessions (residuals pooled) is too wide
early and too narrow late: in a simulation with such clients about 1% of session-2 scores and 16% of
session-16 scores fell above a pooled 80% band, where 10% should. So the residual variance is fitted as
that quadratic in ln(s) (ordinary least squares of the squared residuals, a variance-function
regression; Carroll & Ruppert 1988, Transformation and Weighting in Regression, ch. 3), and the band is
the expected score plus the empirical (1 − coverage)/2 and (1 + coverage)/2 quantiles of the residuals
divided by that session's fitted standard deviation, times it: a location-scale tolerance band whose
shape is left to the data and whose width follows the session. tests/core/test_expected_range_coverage.py
checks its coverage at every session by simulation. No reference curve ships: a model exists only once
it has been fitted on data the caller chose (a practice's completed episodes, a network's archive), and
it carries n_episodes / n_scores so that a page can say what it was fitted on. Without one there is
no band.

The intake is a series' first score and the session it was given at is its intake session (session 1
when the intake questionnaire was answered before the first session); the model is fitted on the
scores after it, so on sessions ≥ 2 when the intake is at session 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacebetween.core.change import parameters_from_scale, reliable_change_in_points
from spacebetween.core.instruments import Cutoff, Scale, compare
from spacebetween.core.sudden_gains import CRITERION2_FRACTION, sudden_gains

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

MODEL_NAME = "finch2001-ols-intake-log-session"
# Four coefficients; OLS needs at least one more observation than that to leave a residual.
N_COEFFICIENTS = 4
# A pragmatic floor, not a published one. The model has 4 coefficients, and ten episodes per
# coefficient keeps their sampling error small next to the band; more to the point, the band's edges
# are the 10th and 90th residual percentiles at the default 80% coverage, and with 40 episodes each
# tail rests on the residuals of at least 4 different episodes rather than on one or two unusual
# courses. Finch, Lambert & Schaalje (2001) had 11,492 clients; a practice will have far fewer, so
# its band is marked with the number it was fitted on.
MIN_EPISODES_TO_FIT = 40
DEFAULT_COVERAGE = 0.8
# Above this condition number of the scaled normal equations the four coefficients cannot be told apart
# (e.g. every intake the same, or every later score at one session).
MAX_CONDITION = 1e10
# Rows per block where a whole-matrix step makes many temporaries of the panel's size.
BLOCK_ROWS = 32_768
# The residual variance by session: c0 + c1·ln s + c2·ln² s (three coefficients, fewer when the
# sessions fitted on take fewer than three values). A pragmatic floor, not a published one: wherever
# the fitted quadratic dips below it (only on odd data, e.g. a session with one or two scores at the
# end of the range), the spread is taken as a quarter of the pooled residual standard deviation, so
# that the band never shrinks to nothing.
N_VARIANCE_COEFFICIENTS = 3
VARIANCE_FLOOR_FRACTION = 1 / 16


class DuplicateScore(ValueError):
    """Two scores of one series at one session; `entries` are their positions in the long input."""

    def __init__(self, key: Any, session_number: int, entries: tuple[int, int]) -> None:
        self.key = key
        self.session_number = session_number
        self.entries = entries
        super().__init__(
            f"two scores for {key!r} at session {session_number} "
            f"(entries {entries[0]} and {entries[1]}, counting from 0)"
        )


def score_matrix(values: ArrayLike, name: str) -> FloatArray:
    """`values` as a series × sessions matrix of floats, NaN for a missing score; a ValueError naming
    `name` for any other shape or an infinite value. The one check of the core's matrix inputs."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a series × sessions matrix, not of shape {x.shape}")
    if np.isinf(x).any():
        raise ValueError(f"{name} holds an infinite value; a missing score is NaN")
    return x


@dataclass(frozen=True)
class Panel:
    """One instrument's scores: row i = one series (an episode), column j = session number j + 1;
    NaN = no score."""

    keys: NDArray[Any]  # (n,) series keys, e.g. episode ids
    scores: FloatArray  # (n, S)

    def __post_init__(self) -> None:
        if self.scores.ndim != 2:
            raise ValueError(f"scores must be a series × sessions matrix, not of shape {self.scores.shape}")
        if self.keys.shape != (self.scores.shape[0],):
            raise ValueError(f"{self.keys.shape[0]} keys for {self.scores.shape[0]} rows of scores")

    @classmethod
    def from_long(cls, keys: ArrayLike, session_numbers: ArrayLike, scores: ArrayLike) -> Panel:
        """Pivot (key, session number, score) entries; rows come in sorted key order.

        Session numbers are integers ≥ 1; a duplicate (key, session) is a ValueError naming both entries.
        A NaN score is a missing one.
        """
        k = np.asarray(keys)
        raw_sessions = np.asarray(session_numbers)
        values = np.asarray(scores, dtype=np.float64)
        if not (k.ndim == raw_sessions.ndim == values.ndim == 1):
            raise ValueError("keys, session numbers and scores must be one-dimensional")
        if not (k.size == raw_sessions.size == values.size):
            raise ValueError(
                f"keys, session numbers and scores differ in length ({k.size}, {raw_sessions.size}, "
                f"{values.size})"
            )
        sessions = _session_numbers(k, raw_sessions)
        unique_keys, row = _key_codes(k)
        width = int(sessions.max()) if sessions.size else 0
        flat = row.astype(np.int64) * width + (sessions - 1)
        cells = unique_keys.size * width
        counts = np.bincount(flat, minlength=cells)
        if counts.size and counts.max() > 1:
            twice = np.flatnonzero(counts[flat] > 1)
            first = twice[flat[twice] == flat[twice[0]]]
            raise DuplicateScore(_plain(k[first[0]]), int(sessions[first[0]]), (int(first[0]), int(first[1])))
        matrix = np.full(cells, np.nan)
        matrix[flat] = values
        return cls(keys=unique_keys, scores=matrix.reshape(unique_keys.size, width))

    def _present(self) -> BoolArray:
        return np.isfinite(self.scores)

    def intake_session(self) -> NDArray[np.int64]:
        """Session number of the first score per row (0 if none)."""
        present = self._present()
        if present.shape[1] == 0:
            return np.zeros(present.shape[0], dtype=np.int64)
        return np.where(present.any(axis=1), present.argmax(axis=1) + 1, 0).astype(np.int64)

    def intake(self) -> FloatArray:
        """First non-NaN score per row (NaN if none)."""
        return self._score_at(self.intake_session())

    def last_session(self) -> NDArray[np.int64]:
        """Session number of the last score per row (0 if none)."""
        present = self._present()
        width = present.shape[1]
        if width == 0:
            return np.zeros(present.shape[0], dtype=np.int64)
        return np.where(present.any(axis=1), width - present[:, ::-1].argmax(axis=1), 0).astype(np.int64)

    def last_score(self) -> FloatArray:
        """Last non-NaN score per row (NaN if none)."""
        return self._score_at(self.last_session())

    def _score_at(self, session: NDArray[np.int64]) -> FloatArray:
        if self.scores.shape[1] == 0:
            return np.full(self.scores.shape[0], np.nan)
        picked = self.scores[np.arange(self.scores.shape[0]), np.maximum(session - 1, 0)]
        return np.where(session > 0, picked, np.nan)


def _key_codes(keys: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.intp]]:
    """Sorted unique keys and each entry's position among them, as np.unique(return_inverse=True).

    Integer keys that are dense (episode numbers) take an O(n) path: mark, then count, instead of a sort.
    """
    if keys.dtype.kind in "iu" and keys.size:
        low = int(keys.min())
        span = int(keys.max()) - low + 1
        if span <= 2 * keys.size:
            offset = (keys - low).astype(np.intp)
            seen = np.zeros(span, dtype=np.bool_)
            seen[offset] = True
            position = np.cumsum(seen, dtype=np.intp) - 1
            return (np.flatnonzero(seen) + low).astype(keys.dtype), position[offset]
    unique_keys, inverse = np.unique(keys, return_inverse=True)
    return unique_keys, inverse.reshape(-1)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds, so that messages read 'a', not np.str_('a')."""
    return value.item() if isinstance(value, np.generic) else value


def _session_numbers(keys: NDArray[Any], sessions: NDArray[Any]) -> NDArray[np.int64]:
    """Integer session numbers ≥ 1, or a ValueError naming the first entry that is not one."""
    if sessions.dtype.kind in "iu":
        as_int = sessions.astype(np.int64)
        bad = as_int < 1
    elif sessions.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(sessions) | (sessions < 1) | (sessions != np.floor(sessions))
        as_int = np.where(bad, 1, sessions).astype(np.int64)
    else:
        raise ValueError(f"session numbers must be integers, not {sessions.dtype}")
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"session number {_plain(sessions[i])!r} of {_plain(keys[i])!r} (entry {i}, counting from 0) "
            "is not an integer ≥ 1"
        )
    return as_int


class NotEnoughData(ValueError):
    """Too few episodes (or too little variation) to fit expected recovery; no band is shown."""

    def __init__(self, needed: int, have: int, reason: str | None = None) -> None:
        self.needed = needed
        self.have = have
        super().__init__(
            reason or f"{have} episodes with an intake and a later score; expected recovery needs {needed}"
        )


@dataclass(frozen=True)
class ExpectedRecovery:
    """Expected score by session given intake, with a tolerance band: score = b0 + b1*intake
    + b2*ln(s) + b3*intake*ln(s) (Finch, Lambert & Schaalje 2001 form), band = expected + sd(s) ×
    empirical quantiles of the scaled residuals, sd(s)² = c0 + c1·ln s + c2·ln² s (see the module).

    A model stored before the band followed the session has no `residual_variance`: its band is the
    expected score plus the pooled `residual_quantiles`, one width at every session, as it was fitted.
    """

    instrument_id: str
    higher_is_better: bool
    coefficients: tuple[float, float, float, float]
    # (lower, upper) quantiles of all residuals pooled, in points: the band of a model without
    # `residual_variance`, and a summary of the overall spread for one with it.
    residual_quantiles: tuple[float, float]
    coverage: float  # e.g. 0.8
    n_episodes: int
    n_scores: int  # scores after the intake that the model was fitted on
    max_session: int  # no band beyond the sessions it was fitted on
    # Residual variance by session, c0 + c1·ln s + c2·ln² s in points², never below `variance_floor`.
    residual_variance: tuple[float, float, float] | None = None
    variance_floor: float = 0.0
    # (lower, upper) quantiles of residual / sd(session): the band is expected + these × sd(session).
    scaled_quantiles: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if (self.residual_variance is None) != (self.scaled_quantiles is None):
            raise ValueError("residual_variance and scaled_quantiles come together, or neither")

    def spread(self, session_number: ArrayLike) -> FloatArray:
        """The residual standard deviation at each session (NaN at session 0); 1 where the band has one
        width (a model without `residual_variance`)."""
        s = np.asarray(session_number, dtype=np.float64)
        if self.residual_variance is None:
            return np.ones_like(s)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _spread(self.residual_variance, self.variance_floor, np.log(s))

    def expected(self, intake: ArrayLike, session_number: ArrayLike) -> FloatArray:
        b0, b1, b2, b3 = self.coefficients
        x = np.asarray(intake, dtype=np.float64)
        # Session 0 (no score) gives ln 0 = -inf; `band` masks it, so no warning here.
        with np.errstate(divide="ignore", invalid="ignore"):
            log_s = np.log(np.asarray(session_number, dtype=np.float64))
            return np.asarray(b0 + b1 * x + b2 * log_s + b3 * x * log_s, dtype=np.float64)

    def band(self, intake: ArrayLike, session_number: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """(lower, upper) edges; NaN before session 2 (the intake itself) and beyond max_session."""
        s = np.asarray(session_number, dtype=np.float64)
        mean = self.expected(intake, s)
        with np.errstate(invalid="ignore"):
            mean = np.where((s >= 2) & (s <= self.max_session), mean, np.nan)
        if self.scaled_quantiles is None:
            low, high = self.residual_quantiles
            return mean + low, mean + high
        sd = self.spread(s)
        low, high = self.scaled_quantiles
        return mean + low * sd, mean + high * sd

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "model": MODEL_NAME,
            "instrument_id": self.instrument_id,
            "higher_is_better": self.higher_is_better,
            "coefficients": list(self.coefficients),
            "residual_quantiles": list(self.residual_quantiles),
            "coverage": self.coverage,
            "n_episodes": self.n_episodes,
            "n_scores": self.n_scores,
            "max_session": self.max_session,
        }
        if self.residual_variance is not None and self.scaled_quantiles is not None:
            data["residual_variance"] = list(self.residual_variance)
            data["variance_floor"] = self.variance_floor
            data["scaled_quantiles"] = list(self.scaled_quantiles)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExpectedRecovery:
        model = data.get("model", MODEL_NAME)
        if model != MODEL_NAME:
            raise ValueError(f"unknown expected-recovery model {model!r}")
        try:
            b0, b1, b2, b3 = (float(b) for b in data["coefficients"])
            low, high = (float(q) for q in data["residual_quantiles"])
            # Fits stored before the band followed the session have none of these: a pooled band.
            variance: tuple[float, float, float] | None = None
            scaled: tuple[float, float] | None = None
            if data.get("residual_variance") is not None:
                c0, c1, c2 = (float(c) for c in data["residual_variance"])
                scaled_low, scaled_high = (float(q) for q in data["scaled_quantiles"])
                variance, scaled = (c0, c1, c2), (scaled_low, scaled_high)
            return cls(
                instrument_id=str(data["instrument_id"]),
                higher_is_better=bool(data["higher_is_better"]),
                coefficients=(b0, b1, b2, b3),
                residual_quantiles=(low, high),
                coverage=float(data["coverage"]),
                n_episodes=int(data["n_episodes"]),
                n_scores=int(data["n_scores"]),
                max_session=int(data["max_session"]),
                residual_variance=variance,
                variance_floor=float(data.get("variance_floor", 0.0)),
                scaled_quantiles=scaled,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an expected-recovery model: {exc}") from exc


def _spread(variance: tuple[float, float, float], floor: float, log_s: FloatArray) -> FloatArray:
    c0, c1, c2 = variance
    return np.asarray(np.sqrt(np.maximum(c0 + c1 * log_s + c2 * log_s**2, floor)), dtype=np.float64)


def _fit_variance(log_s: FloatArray, squared: FloatArray) -> tuple[float, float, float]:
    """Least-squares coefficients of the squared residuals on (1, ln s, ln² s), by normal equations;
    the highest powers are dropped (coefficient 0) while the sessions cannot tell them apart (fewer
    than three distinct sessions, or an ill-conditioned system)."""
    columns = [np.ones_like(log_s), log_s, log_s**2]
    for k in range(N_VARIANCE_COEFFICIENTS, 0, -1):
        design = columns[:k]
        gram = np.array([[u @ v for v in design] for u in design])
        scale = 1.0 / np.sqrt(np.diag(gram))
        if k > 1 and np.linalg.cond(gram * np.outer(scale, scale)) > MAX_CONDITION:
            continue
        c = np.linalg.solve(gram, np.array([u @ squared for u in design]))
        padded = [float(v) for v in c] + [0.0] * (N_VARIANCE_COEFFICIENTS - k)
        return padded[0], padded[1], padded[2]
    raise AssertionError("unreachable: one column of ones always fits")


def _fit_cells(panel: Panel) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """(row, column) of every score after its row's intake session."""
    first = panel.intake_session()
    present = np.isfinite(panel.scores)
    later = np.arange(1, panel.scores.shape[1] + 1)[None, :] > first[:, None]
    rows, columns = np.nonzero(present & later)
    return rows, columns


def fit_expected_recovery(
    panel: Panel,
    *,
    instrument_id: str,
    higher_is_better: bool,
    coverage: float = DEFAULT_COVERAGE,
    min_episodes: int = MIN_EPISODES_TO_FIT,
) -> ExpectedRecovery:
    """Fit expected recovery on the rows given (the caller passes completed episodes).

    Rows count when they have an intake and at least one later score; each later score is one OLS
    observation (so longer courses weigh more). Raises NotEnoughData below `min_episodes` such rows,
    or when intake scores or sessions do not vary enough to estimate the four coefficients. The
    band's width by session is fitted on the same residuals (see the module).
    """
    if not (math.isfinite(coverage) and 0 < coverage < 1):
        raise ValueError(f"the band's coverage must lie strictly between 0 and 1, not {coverage}")
    if min_episodes <= N_COEFFICIENTS:
        raise ValueError(f"min_episodes must exceed the {N_COEFFICIENTS} coefficients, not {min_episodes}")
    rows, columns = _fit_cells(panel)
    n_episodes = int(np.count_nonzero(np.bincount(rows, minlength=panel.scores.shape[0])))
    if n_episodes < min_episodes:
        raise NotEnoughData(needed=min_episodes, have=n_episodes)
    intake = panel.intake()[rows]
    log_s = np.log(columns + 1.0)
    y = panel.scores[rows, columns]
    max_session = int(columns.max()) + 1
    del rows, columns
    # Normal equations: a 4 × 4 system however many scores, from dot products of the design's columns
    # (1, intake, ln s, intake·ln s) without forming the design matrix. Their conditioning is checked on
    # the Gram matrix scaled to unit diagonal, so that only collinearity (not the units) counts.
    x = (intake, log_s, intake * log_s)
    gram = np.empty((N_COEFFICIENTS, N_COEFFICIENTS))
    moments = np.empty(N_COEFFICIENTS)
    gram[0, 0], moments[0] = y.size, y.sum()
    for a, u in enumerate(x, start=1):
        gram[0, a] = gram[a, 0] = u.sum()
        moments[a] = u @ y
        for b, v in enumerate(x[a - 1 :], start=a):
            gram[a, b] = gram[b, a] = u @ v
    with np.errstate(divide="ignore"):
        scale = 1.0 / np.sqrt(np.diag(gram))
    if not np.all(np.isfinite(scale)) or np.linalg.cond(gram * np.outer(scale, scale)) > MAX_CONDITION:
        raise NotEnoughData(
            needed=min_episodes,
            have=n_episodes,
            reason=(
                f"{n_episodes} episodes, but their intake scores or session numbers do not vary enough to "
                "fit expected recovery"
            ),
        )
    beta = np.linalg.solve(gram, moments)
    residuals = y - (beta[0] + beta[1] * x[0] + beta[2] * x[1] + beta[3] * x[2])
    tails = [(1 - coverage) / 2, (1 + coverage) / 2]
    low, high = np.quantile(residuals, tails)
    squared = residuals**2
    floor = VARIANCE_FLOOR_FRACTION * float(squared.mean())
    variance = _fit_variance(x[1], squared)
    # A perfect fit leaves no spread to scale by: the scaled residuals are then all 0, and so is the band.
    sd = _spread(variance, floor, x[1])
    scaled = np.divide(residuals, sd, out=np.zeros_like(residuals), where=sd > 0)
    scaled_low, scaled_high = np.quantile(scaled, tails)
    b0, b1, b2, b3 = (float(b) for b in beta)
    return ExpectedRecovery(
        instrument_id=instrument_id,
        higher_is_better=higher_is_better,
        coefficients=(b0, b1, b2, b3),
        residual_quantiles=(float(low), float(high)),
        coverage=float(coverage),
        n_episodes=n_episodes,
        n_scores=int(y.size),
        max_session=max_session,
        residual_variance=variance,
        variance_floor=floor,
        scaled_quantiles=(float(scaled_low), float(scaled_high)),
    )


@dataclass(frozen=True)
class SignalRules:
    no_improvement_by_session: int = 6  # configurable per practice
    overdue_after_days: int = 14

    def __post_init__(self) -> None:
        if self.no_improvement_by_session < 2:
            raise ValueError(
                f"no_improvement_by_session must be 2 or later (1 is the intake), "
                f"not {self.no_improvement_by_session}"
            )
        if self.overdue_after_days < 1:
            raise ValueError(f"overdue_after_days must be at least 1, not {self.overdue_after_days}")


class SignalKind(StrEnum):
    NOT_ON_TRACK = "not_on_track"
    RELIABLE_DETERIORATION = "reliable_deterioration"
    NO_RELIABLE_IMPROVEMENT = "no_reliable_improvement"
    NOT_A_CASE_AT_INTAKE = "not_a_case_at_intake"
    SUDDEN_GAIN = "sudden_gain"
    OVERDUE = "overdue"


# The order signals of one session are listed in: the most pressing first.
SIGNAL_ORDER: tuple[SignalKind, ...] = tuple(SignalKind)


def _number(x: float) -> str:
    return f"{round(x, 1):g}"


@dataclass(frozen=True)
class Signal:
    """One signal of one row.

    `value` and `threshold` by kind: not on track, the score and the band edge it passed; reliable
    deterioration, the score and the score at which deterioration starts (intake ± reliable change);
    no reliable improvement, the score and the score that would be reliable improvement; not a case at
    intake (said instead of no reliable improvement), the intake score and the caseness cut-off; sudden gain,
    the size of the gain in points and criterion 1; overdue, the days since the last score and the
    days allowed. A sudden gain's session is the pre-gain session N of the step N → N+1 (Tang &
    DeRubeis 1999); the others are at the last score.
    """

    row: int
    kind: SignalKind
    session_number: int
    value: float
    threshold: float

    def explain(self, instrument_title: str) -> str:
        t, n, v, limit = instrument_title, self.session_number, _number(self.value), _number(self.threshold)
        higher = self.value > self.threshold
        if self.kind == SignalKind.NOT_ON_TRACK:
            side, edge = ("above", "up to") if higher else ("below", "down to")
            return (
                f"{t} {v} at session {n} is {side} the expected range for this intake ({edge} {limit}): "
                "not on track"
            )
        # "Worse"/"better", not "higher"/"lower": at a tie the value alone cannot tell the direction.
        if self.kind == SignalKind.RELIABLE_DETERIORATION:
            return (
                f"{t} {v} at session {n} is worse than the intake score by at least the reliable change "
                f"({limit} or worse): reliable deterioration"
            )
        if self.kind == SignalKind.NO_RELIABLE_IMPROVEMENT:
            return (
                f"{t} {v} at session {n}: no reliable improvement since the intake yet "
                f"(that would take {limit} or better)"
            )
        if self.kind == SignalKind.NOT_A_CASE_AT_INTAKE:
            side = "below" if self.value < self.threshold else "above" if higher else "at"
            return (
                f"{t} started at {v}, {side} the clinical cut-off ({limit}): not in the clinical range at "
                f"intake, so reliable improvement is not expected (session {n})"
            )
        if self.kind == SignalKind.SUDDEN_GAIN:
            return (
                f"{t} improved by {v} points from session {n} to session {n + 1} (at least {limit} points "
                f"and {round(CRITERION2_FRACTION * 100)}% of the score before, and large against the "
                "sessions around it): sudden gain"
            )
        return (
            f"{t} last answered {round(self.value)} days ago (session {n}); overdue after "
            f"{round(self.threshold)} days"
        )


@dataclass(frozen=True)
class Signals:
    """Columnar; one entry per signal, ordered by row, session and kind."""

    row: NDArray[np.intp]
    kind: NDArray[np.str_]
    session_number: NDArray[np.int64]
    value: FloatArray
    threshold: FloatArray

    def for_row(self, row: int) -> list[Signal]:
        return [
            Signal(
                row=int(self.row[i]),
                kind=SignalKind(str(self.kind[i])),
                session_number=int(self.session_number[i]),
                value=float(self.value[i]),
                threshold=float(self.threshold[i]),
            )
            for i in np.flatnonzero(self.row == row)
        ]

    def __len__(self) -> int:
        return int(self.row.size)

    def counts(self) -> dict[str, int]:
        """Number of signals per kind, every kind listed."""
        return {str(kind): int(np.count_nonzero(self.kind == kind.value)) for kind in SignalKind}

    @classmethod
    def collect(
        cls,
        parts: list[tuple[SignalKind, NDArray[np.intp], ArrayLike, ArrayLike, ArrayLike]],
    ) -> Signals:
        """Concatenate (kind, rows, sessions, values, thresholds) parts and order them."""
        rows = np.concatenate([np.asarray(p[1], dtype=np.intp) for p in parts] + [np.empty(0, np.intp)])
        order_of = {kind: i for i, kind in enumerate(SIGNAL_ORDER)}
        rank = np.concatenate(
            [np.full(np.asarray(p[1]).size, order_of[p[0]], dtype=np.int8) for p in parts]
            + [np.empty(0, np.int8)]
        )
        sessions = np.concatenate([np.asarray(p[2], dtype=np.int64) for p in parts] + [np.empty(0, np.int64)])
        values = np.concatenate([np.asarray(p[3], dtype=np.float64) for p in parts] + [np.empty(0)])
        thresholds = np.concatenate([np.asarray(p[4], dtype=np.float64) for p in parts] + [np.empty(0)])
        order = np.lexsort((rank, sessions, rows))
        names = np.array([kind.value for kind in SIGNAL_ORDER], dtype=np.str_)
        return cls(
            row=rows[order],
            kind=names[rank[order]],
            session_number=sessions[order],
            value=values[order],
            threshold=thresholds[order],
        )


def _last_cell_band(
    panel: Panel, model: ExpectedRecovery
) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[np.int64]]:
    """(last score, lower, upper, last session) with NaN edges where the last score has no band."""
    first, last = panel.intake_session(), panel.last_session()
    low, high = model.band(panel.intake(), last)
    no_band = last <= first
    return panel.last_score(), np.where(no_band, np.nan, low), np.where(no_band, np.nan, high), last


def band_status(panel: Panel, model: ExpectedRecovery | None) -> NDArray[np.int8]:
    """Per cell: +1 worse than the band, -1 better than the band, 0 inside or NaN/no band.

    A score exactly on an edge is inside: only scores beyond the tolerance interval generate the
    warning (Finch, Lambert & Schaalje 2001; mbc-anchors.md §5.3). The intake session and earlier
    cells, and sessions beyond the model's max_session, have no band.
    """
    status = np.zeros(panel.scores.shape, dtype=np.int8)
    if model is None or panel.scores.size == 0:
        return status
    sessions = np.arange(1, panel.scores.shape[1] + 1)[None, :]
    low, high = model.band(panel.intake()[:, None], sessions)
    after_intake = sessions > panel.intake_session()[:, None]
    low = np.where(after_intake, low, np.nan)
    high = np.where(after_intake, high, np.nan)
    x = panel.scores
    with np.errstate(invalid="ignore"):
        above, below = x > high, x < low
    worse, better = (below, above) if model.higher_is_better else (above, below)
    status[worse] = 1
    status[better] = -1
    return status


def detect_signals(
    panel: Panel,
    *,
    rci_points: float | None,
    higher_is_better: bool,
    model: ExpectedRecovery | None,
    rules: SignalRules = SignalRules(),  # noqa: B008 - frozen, so a shared default is safe
    sudden_gain_points: float | None = None,
    scale_range: tuple[float, float] | None = None,
    caseness: Cutoff | None = None,
) -> Signals:
    """The current state at each row's last score, plus every sudden gain in the series.

    * not on track: the last score is beyond the band on the worse side (none when `model` is None,
      at the intake, or beyond the model's max_session); edges count as inside (see `band_status`);
    * reliable deterioration: the last score is worse than the intake by at least `rci_points`;
    * no reliable improvement: the last score is at session `rules.no_improvement_by_session` or later
      and is not better than the intake by at least `rci_points`; not raised where that improvement
      is impossible on the scale (intake − `rci_points` below the bottom of `scale_range`, or for
      higher-is-better scales intake + `rci_points` above its top), nor where the intake is not a case
      by `caseness` (the definition's cut-off): such a row gets `not_a_case_at_intake` instead, an
      informational note. Reliable improvement is a change from the clinical range (Jacobson & Truax
      1991), and NHS Talking Therapies count recovery only among cases at the start (the Manual;
      docs/insights.md);
    * sudden gains: Tang & DeRubeis (1999) via `core.sudden_gains`, criterion 1 =
      `sudden_gain_points` or else `rci_points`.

    Reliable change in points is inclusive ("6 or more" on the PHQ-9, NHS Talking Therapies Manual),
    through the one rule in `core.change.reliable_change_in_points`. `rci_points=None` (a definition
    without a reliable change) means no reliable-change signals. Both need a score after the intake.
    """
    n = panel.scores.shape[0]
    intake, first = panel.intake(), panel.intake_session()
    last_score, last = panel.last_score(), panel.last_session()
    compared = last > first
    toward_worse = -1.0 if higher_is_better else 1.0
    parts: list[tuple[SignalKind, NDArray[np.intp], ArrayLike, ArrayLike, ArrayLike]] = []

    if model is not None and n:
        score, low, high, _ = _last_cell_band(panel, model)
        edge = low if higher_is_better else high
        with np.errstate(invalid="ignore"):
            off = (score < edge) if higher_is_better else (score > edge)
        rows = np.flatnonzero(off)
        parts.append((SignalKind.NOT_ON_TRACK, rows, last[rows], score[rows], edge[rows]))

    if rci_points is not None and n:
        change = reliable_change_in_points(
            intake, last_score, points=rci_points, higher_is_better=higher_is_better
        )
        rows = np.flatnonzero(compared & change.deteriorated)
        parts.append(
            (
                SignalKind.RELIABLE_DETERIORATION,
                rows,
                last[rows],
                last_score[rows],
                intake[rows] + toward_worse * change.points,
            )
        )
        not_improved = compared & (last >= rules.no_improvement_by_session) & ~change.improved
        target = intake - toward_worse * change.points  # the score that would be reliable improvement
        possible = np.ones(n, dtype=np.bool_)
        if scale_range is not None:
            with np.errstate(invalid="ignore"):
                possible = (target >= scale_range[0]) & (target <= scale_range[1])
        case = np.ones(n, dtype=np.bool_)
        if caseness is not None:
            with np.errstate(invalid="ignore"):
                case = np.asarray(compare(caseness.operator, intake, float(caseness.cutoff)), dtype=np.bool_)
        rows = np.flatnonzero(not_improved & possible & case)
        parts.append((SignalKind.NO_RELIABLE_IMPROVEMENT, rows, last[rows], last_score[rows], target[rows]))
        if caseness is not None:
            rows = np.flatnonzero(not_improved & ~case)
            cutoff_at = np.full(rows.size, float(caseness.cutoff))
            parts.append((SignalKind.NOT_A_CASE_AT_INTAKE, rows, last[rows], intake[rows], cutoff_at))

    cutoff = sudden_gain_points if sudden_gain_points is not None else rci_points
    if cutoff is not None and n and panel.scores.shape[1] >= 2:
        # Only rows with a step of at least the cut-off in the direction of improvement can hold a gain
        # (criterion 1, which every gain meets): the three criteria run on those rows alone. Then in
        # blocks of rows: the same whole-matrix code, with its temporaries kept small (memory, cache).
        steps = np.diff(panel.scores, axis=1)
        with np.errstate(invalid="ignore"):
            step_to_better = steps >= cutoff if higher_is_better else -steps >= cutoff
        candidates = np.flatnonzero(step_to_better.any(axis=1))
        del steps, step_to_better
        for start in range(0, candidates.size, BLOCK_ROWS):
            chosen = candidates[start : start + BLOCK_ROWS]
            gains = sudden_gains(panel.scores[chosen], cutoff=cutoff, higher_is_better=higher_is_better)
            rows, pregain = gains.events()
            parts.append(
                (
                    SignalKind.SUDDEN_GAIN,
                    chosen[rows],
                    pregain,
                    gains.magnitude[rows, pregain - 1],
                    np.full(rows.size, float(cutoff)),
                )
            )
    return Signals.collect(parts)


def scale_signals(
    panel: Panel,
    scale: Scale,
    *,
    model: ExpectedRecovery | None,
    rules: SignalRules = SignalRules(),  # noqa: B008 - frozen, so a shared default is safe
) -> Signals:
    """`detect_signals` with everything a definition's scale gives: its direction, reliable change in
    points (published, else Jacobson & Truax from its SD and reliability; none, no change signals), range
    and primary caseness cut-off. The one call of the client page, the caseload's stored signals and
    the network batch, so that they cannot disagree (docs/insights.md)."""
    params = parameters_from_scale(scale)
    low, high = scale.range
    return detect_signals(
        panel,
        rci_points=params.reliable_change_points(),
        higher_is_better=params.higher_is_better,
        model=model,
        rules=rules,
        scale_range=(float(low), float(high)),
        caseness=scale.caseness,
    )


def days_since(last_measured: NDArray[np.datetime64], today: np.datetime64) -> NDArray[np.float64]:
    """Whole calendar days from each date to `today` (NaN where never measured)."""
    last_day = np.asarray(last_measured).astype("datetime64[D]")
    days = (np.asarray(today).astype("datetime64[D]") - last_day).astype("timedelta64[D]")
    return np.where(np.isnat(last_day), np.nan, days.astype(np.float64))


def overdue(
    last_measured: NDArray[np.datetime64], today: np.datetime64, *, after_days: int
) -> NDArray[np.bool_]:
    """True where more than `after_days` calendar days have passed since the last score.

    Exclusive, as the practice setting reads ("overdue after 14 days"): 14 days is not yet overdue,
    15 is. A row never measured (NaT) is not overdue here: that needs the sessions, which the caller has.
    """
    with np.errstate(invalid="ignore"):
        return np.asarray(days_since(last_measured, today) > after_days, dtype=np.bool_)
