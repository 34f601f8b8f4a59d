"""Change between two scores: reliable change, clinical significance, NHS Talking Therapies outcomes, MID.

Framework-free and vectorised: every function takes whole columns (anything numpy can turn into a
float array, NaN = missing) and serves one client or a million the same way.

Where sources disagree this module follows the project conventions numbered in
docs/change-statistics.md; each one is named where it applies. Formulas, sources and
worked examples: docs/change-statistics.md.

Sign convention: the reliable change index is `RC = (post - pre) / S_diff` exactly as Jacobson &
Truax (1991) write it, so its sign is the sign of the raw change. Whether a negative RC is an
improvement depends on the measure's direction (`higher_is_better`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# Project convention 3: |RC| > 1.96 is reliable (p < .05 two-tailed; Jacobson & Truax 1991, p. 14).
# clinicalsignificance uses qnorm(.975) = 1.959964 instead; the difference only matters for an RC in
# between, which the project resolves in favour of the published 1.96.
CRITICAL_VALUE = 1.96

Criterion = Literal["a", "b", "c"]
CRITERIA: tuple[Criterion, ...] = ("a", "b", "c")

# Jacobson & Truax (1991) outcome classes, worded as in docs/change-statistics.md.
RECOVERED = "recovered"
IMPROVED = "improved"
UNCHANGED = "unchanged"
DETERIORATED = "deteriorated"
HARMED = "harmed"
CLASSES: tuple[str, ...] = (RECOVERED, IMPROVED, UNCHANGED, DETERIORATED, HARMED)
# Classes possible when no cut-off is used (reliable change alone).
RCI_CLASSES: tuple[str, ...] = (IMPROVED, UNCHANGED, DETERIORATED)
# The class of a pair with a missing score: it is left out, never counted as unchanged.
INCOMPLETE = ""

LOWER_IS_BETTER = "lower_is_better"
HIGHER_IS_BETTER = "higher_is_better"


class MissingParameterError(ValueError):
    """A parameter the requested statistic needs was not given; the message names it."""


def _as_float_array(values: ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, not of shape {array.shape}")
    return array


def _pair(pre: ArrayLike, post: ArrayLike) -> tuple[FloatArray, FloatArray]:
    pre_a = _as_float_array(pre, "pre")
    post_a = _as_float_array(post, "post")
    if pre_a.shape != post_a.shape:
        raise ValueError(f"pre and post differ in length ({pre_a.size} and {post_a.size})")
    return pre_a, post_a


def complete_pairs(pre: ArrayLike, post: ArrayLike) -> BoolArray:
    """True where both scores are present."""
    pre_a, post_a = _pair(pre, post)
    return np.isfinite(pre_a) & np.isfinite(post_a)


def pre_score_norms(pre: ArrayLike, post: ArrayLike) -> tuple[float, float]:
    """Mean and n−1 SD of the pre scores of the complete pairs (incomplete pairs dropped first).

    Project convention 2: the sample's own pre-treatment SD is the RCI's SD when no normative SD is
    given. Jacobson & Truax (1991) also took their pre-treatment sample as the dysfunctional
    population for the cut-offs, which is what `--clinical-from-sample` does on the command line.
    """
    pre_a, post_a = _pair(pre, post)
    kept = pre_a[np.isfinite(pre_a) & np.isfinite(post_a)]
    if kept.size < 2:
        raise MissingParameterError(
            f"the SD of pre scores needs at least 2 complete pre/post pairs, found {kept.size}; give the SD"
        )
    return float(kept.mean()), float(kept.std(ddof=1))


def standard_error_of_difference(*, sd: float, reliability: float) -> float:
    """S_diff = sqrt(2) · SD · sqrt(1 − r) (Jacobson & Truax 1991, p. 14: S_diff = sqrt(2 · SE²))."""
    if not (math.isfinite(sd) and sd > 0):
        raise ValueError(f"the SD must be a positive number, not {sd}")
    if not (math.isfinite(reliability) and 0 <= reliability < 1):
        raise ValueError(f"the reliability must be at least 0 and below 1, not {reliability}")
    return math.sqrt(2.0) * sd * math.sqrt(1.0 - reliability)


def reliable_change_points(*, sd: float, reliability: float, critical_value: float = CRITICAL_VALUE) -> float:
    """The RCI in raw score points, critical value × S_diff.

    A change must be strictly larger than this to be reliable. It is also the modern criterion 1 of
    sudden gains (Wiedemann et al. 2020, `define_crit1_cutoff`).
    """
    return critical_value * standard_error_of_difference(sd=sd, reliability=reliability)


JACOBSON_TRUAX = "jacobson_truax"
POINTS = "points"


@dataclass(frozen=True)
class ReliableChange:
    """Reliable change of each pair; arrays align with the input, NaN/False where a pair is incomplete.

    `method` is JACOBSON_TRUAX (RC index; `sd`, `reliability`, `s_diff` and `critical_value` set) or
    POINTS (a published reliable change in raw points, `rc` all NaN and those four None).
    `points` is the threshold in raw points: exclusive for JACOBSON_TRUAX, inclusive for POINTS.
    """

    pre: FloatArray
    post: FloatArray
    rc: FloatArray
    improved: BoolArray
    deteriorated: BoolArray
    complete: BoolArray
    higher_is_better: bool
    method: str
    points: float
    sd: float | None = None
    sd_from_sample: bool = False
    reliability: float | None = None
    s_diff: float | None = None
    critical_value: float | None = None


def _directions(rise: BoolArray, fall: BoolArray, higher_is_better: bool) -> tuple[BoolArray, BoolArray]:
    """(improved, deteriorated) from reliable rises and falls of the raw score."""
    return (rise, fall) if higher_is_better else (fall, rise)


def reliable_change(
    pre: ArrayLike,
    post: ArrayLike,
    *,
    reliability: float,
    sd: float | None = None,
    higher_is_better: bool = False,
    critical_value: float = CRITICAL_VALUE,
) -> ReliableChange:
    """Jacobson–Truax reliable change index for each pair.

    RC = (post − pre) / S_diff with S_diff = sqrt(2)·SD·sqrt(1 − r) (Jacobson & Truax 1991).
    Reliable when |RC| > `critical_value` (strict; project convention 3). With `sd=None` the SD is
    the n−1 SD of the pre scores of complete pairs (project convention 2). Improvement is a reliable
    decrease for lower-is-better measures and a reliable increase for higher-is-better ones.
    """
    pre_a, post_a = _pair(pre, post)
    complete = np.isfinite(pre_a) & np.isfinite(post_a)
    sd_used = pre_score_norms(pre_a, post_a)[1] if sd is None else float(sd)
    s_diff = standard_error_of_difference(sd=sd_used, reliability=float(reliability))
    rc = np.where(complete, (post_a - pre_a) / s_diff, np.nan)
    with np.errstate(invalid="ignore"):
        improved, deteriorated = _directions(rc > critical_value, rc < -critical_value, higher_is_better)
    return ReliableChange(
        pre=pre_a,
        post=post_a,
        rc=rc,
        improved=improved,
        deteriorated=deteriorated,
        complete=complete,
        higher_is_better=higher_is_better,
        method=JACOBSON_TRUAX,
        points=critical_value * s_diff,
        sd=sd_used,
        sd_from_sample=sd is None,
        reliability=float(reliability),
        s_diff=s_diff,
        critical_value=critical_value,
    )


def reliable_change_in_points(
    pre: ArrayLike, post: ArrayLike, *, points: float, higher_is_better: bool = False
) -> ReliableChange:
    """Reliable change by a published threshold in raw points: a change of at least `points` counts.

    For definitions that publish the reliable change in points without the SD and reliability it
    came from, as the NHS Talking Therapies Manual does ("6 or more" on the PHQ-9, "4 or more" on
    the GAD-7). Inclusive, following those sources; the RC index itself is not defined (NaN).
    """
    pre_a, post_a = _pair(pre, post)
    size = _positive(points, "the reliable change in points")
    complete = np.isfinite(pre_a) & np.isfinite(post_a)
    diff = post_a - pre_a
    with np.errstate(invalid="ignore"):
        improved, deteriorated = _directions(diff >= size, diff <= -size, higher_is_better)
    return ReliableChange(
        pre=pre_a,
        post=post_a,
        rc=np.full(pre_a.shape, np.nan),
        improved=improved,
        deteriorated=deteriorated,
        complete=complete,
        higher_is_better=higher_is_better,
        method=POINTS,
        points=size,
    )


def _positive(value: float | None, name: str) -> float:
    if value is None:
        raise MissingParameterError(f"{name} is needed")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number, not {value}")
    return float(value)


def _finite(value: float | None, name: str) -> float:
    if value is None:
        raise MissingParameterError(f"{name} is needed")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value}")
    return float(value)


def cutoff_a(*, clinical_mean: float, clinical_sd: float, higher_is_better: bool = False) -> float:
    """Criterion a: two clinical SDs beyond the clinical mean, towards health (Jacobson & Truax 1991)."""
    m = _finite(clinical_mean, "clinical mean")
    s = _positive(clinical_sd, "clinical SD")
    return m + 2 * s if higher_is_better else m - 2 * s


def cutoff_b(*, functional_mean: float, functional_sd: float, higher_is_better: bool = False) -> float:
    """Criterion b: two **functional** SDs beyond the functional mean, towards illness.

    Project convention 1 follows Jacobson & Truax (1991): b = M_fun + 2·SD_fun (lower is better).
    The R package clinicalsignificance uses SD_clin here; its b results are not a reference.
    """
    m = _finite(functional_mean, "functional mean")
    s = _positive(functional_sd, "functional SD")
    return m - 2 * s if higher_is_better else m + 2 * s


def cutoff_c(
    *, clinical_mean: float, clinical_sd: float, functional_mean: float, functional_sd: float
) -> float:
    """Criterion c: the point equally likely to belong to either population (Jacobson & Truax 1991).

    c = (SD_clin·M_fun + SD_fun·M_clin) / (SD_clin + SD_fun); the same for either direction.
    """
    m_clin = _finite(clinical_mean, "clinical mean")
    s_clin = _positive(clinical_sd, "clinical SD")
    m_fun = _finite(functional_mean, "functional mean")
    s_fun = _positive(functional_sd, "functional SD")
    return (s_clin * m_fun + s_fun * m_clin) / (s_clin + s_fun)


def clinical_cutoff(
    criterion: Criterion,
    *,
    clinical_mean: float | None = None,
    clinical_sd: float | None = None,
    functional_mean: float | None = None,
    functional_sd: float | None = None,
    higher_is_better: bool = False,
) -> float:
    """The cut-off for criterion a, b or c; raises MissingParameterError naming a missing norm.

    Jacobson & Truax recommend c when both norms exist, b when only functional norms exist and a
    when only clinical data exist; the caller chooses.
    """
    if criterion == "a":
        return cutoff_a(
            clinical_mean=_finite(clinical_mean, "clinical mean"),
            clinical_sd=_positive(clinical_sd, "clinical SD"),
            higher_is_better=higher_is_better,
        )
    if criterion == "b":
        return cutoff_b(
            functional_mean=_finite(functional_mean, "functional mean"),
            functional_sd=_positive(functional_sd, "functional SD"),
            higher_is_better=higher_is_better,
        )
    if criterion == "c":
        return cutoff_c(
            clinical_mean=_finite(clinical_mean, "clinical mean"),
            clinical_sd=_positive(clinical_sd, "clinical SD"),
            functional_mean=_finite(functional_mean, "functional mean"),
            functional_sd=_positive(functional_sd, "functional SD"),
        )
    raise ValueError(f"the criterion must be a, b or c, not {criterion!r}")


def is_clinical(scores: ArrayLike, cutoff: float, *, higher_is_better: bool = False) -> BoolArray:
    """Strictly on the dysfunctional side of the cut-off; a missing score is neither.

    Project convention 4: a score exactly on the cut-off is neither clinical nor functional.
    """
    s = np.asarray(scores, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return s < cutoff if higher_is_better else s > cutoff


def is_functional(scores: ArrayLike, cutoff: float, *, higher_is_better: bool = False) -> BoolArray:
    """Strictly on the functional side of the cut-off (project convention 4)."""
    s = np.asarray(scores, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return s > cutoff if higher_is_better else s < cutoff


def classify(change: ReliableChange, *, cutoff: float | None = None) -> NDArray[np.str_]:
    """Jacobson & Truax class of each pair, as defined in docs/change-statistics.md.

    * recovered: reliable improvement, clinical at pre and functional at post;
    * improved: any other reliable improvement;
    * unchanged: no reliable change;
    * harmed: reliable deterioration, not clinical at pre and not functional at post;
    * deteriorated: any other reliable deterioration.

    Without a cut-off only improved / unchanged / deteriorated occur. Incomplete pairs get
    `INCOMPLETE` (""). "Not clinical" and "not functional" include a score exactly on the cut-off
    (convention 4), so harmed is the literal negation the README states, not "functional at pre".
    """
    hib = change.higher_is_better
    if cutoff is None:
        recovered = np.zeros_like(change.improved)
        harmed = np.zeros_like(change.deteriorated)
    else:
        if not math.isfinite(cutoff):
            raise ValueError(f"the cut-off must be a finite number, not {cutoff}")
        recovered = (
            change.improved
            & is_clinical(change.pre, cutoff, higher_is_better=hib)
            & is_functional(change.post, cutoff, higher_is_better=hib)
        )
        harmed = (
            change.deteriorated
            & ~is_clinical(change.pre, cutoff, higher_is_better=hib)
            & ~is_functional(change.post, cutoff, higher_is_better=hib)
        )
    return np.select(
        [~change.complete, recovered, change.improved, harmed, change.deteriorated],
        [INCOMPLETE, RECOVERED, IMPROVED, HARMED, DETERIORATED],
        default=UNCHANGED,
    ).astype(np.str_)


def count_classes(classes: ArrayLike, *, with_cutoff: bool) -> dict[str, int]:
    """Counts per class in a fixed order, plus `incomplete`; recovered/harmed only with a cut-off."""
    c = np.asarray(classes, dtype=np.str_)
    names = CLASSES if with_cutoff else RCI_CLASSES
    counts = {name: int(np.count_nonzero(c == name)) for name in names}
    counts["incomplete"] = int(np.count_nonzero(c == INCOMPLETE))
    return counts


def mid_change(
    pre: ArrayLike, post: ArrayLike, *, mid: float, higher_is_better: bool = False
) -> NDArray[np.str_]:
    """Anchor-based change: improved / unchanged / deteriorated by a minimal important difference.

    A change of at least `mid` points (inclusive, as in clinicalsignificance's anchor method) in the
    better direction is improved, in the worse direction deteriorated. Incomplete pairs get "".
    The MID itself is instrument-specific and lives in the definition file (`mid.value`).
    """
    pre_a, post_a = _pair(pre, post)
    size = _positive(mid, "the minimal important difference")
    gain = (post_a - pre_a) if higher_is_better else (pre_a - post_a)
    complete = np.isfinite(gain)
    with np.errstate(invalid="ignore"):
        better = gain >= size
        worse = gain <= -size
    return np.select(
        [~complete, better, worse], [INCOMPLETE, IMPROVED, DETERIORATED], default=UNCHANGED
    ).astype(np.str_)


# NHS Talking Therapies for anxiety and depression (formerly IAPT): the national outcome definitions.
# Source: NHS England, "The NHS Talking Therapies for Anxiety and Depression Manual" (formerly the IAPT
# Manual), its definitions of caseness, recovery, reliable improvement, reliable recovery and reliable
# deterioration; the caseness thresholds also in the NHS Digital / OHID Fingertips glossary ("Caseness").
# Caseness is at or above the threshold (PHQ-9 > 9, GAD-7 > 7); a reliable change is a change of at
# least the stated number of points (PHQ-9 6, GAD-7 4). See docs/change-statistics.md.
# These are the function's defaults; the web app passes the cut-offs an instrument definition marks with
# TALKING_THERAPIES_PURPOSE (tests check that the two agree).
PHQ9_CASENESS = 10
GAD7_CASENESS = 8
TALKING_THERAPIES_PURPOSE = "nhs_talking_therapies"
PHQ9_RELIABLE_CHANGE = 6
GAD7_RELIABLE_CHANGE = 4


@dataclass(frozen=True)
class TalkingTherapiesOutcome:
    """NHS Talking Therapies outcome of each referral; all False where `paired` is False.

    Rates use different denominators: recovery and reliable recovery are counted among referrals
    that were a case at the start (`case_at_start`); reliable improvement and deterioration among
    all paired referrals.
    """

    paired: BoolArray
    case_at_start: BoolArray
    case_at_end: BoolArray
    recovery: BoolArray
    reliable_improvement: BoolArray
    reliable_deterioration: BoolArray
    reliable_recovery: BoolArray


def talking_therapies_outcomes(
    phq9_pre: ArrayLike,
    phq9_post: ArrayLike,
    gad7_pre: ArrayLike,
    gad7_post: ArrayLike,
    *,
    depression_caseness: float = PHQ9_CASENESS,
    anxiety_caseness: float = GAD7_CASENESS,
    anxiety_reliable_change: float = GAD7_RELIABLE_CHANGE,
) -> TalkingTherapiesOutcome:
    """Recovery, reliable improvement, reliable recovery and reliable deterioration (NHS Talking Therapies).

    * case: PHQ-9 ≥ 10 or GAD-7 ≥ 8 (either measure at or above its threshold);
    * recovery: a case at the start and not a case at the end on both measures;
    * reliable improvement: a drop of at least 6 (PHQ-9) or 4 (GAD-7) points on at least one measure,
      and no reliable deterioration on the other;
    * reliable recovery: recovery and reliable improvement;
    * reliable deterioration: a rise of at least 6 (PHQ-9) or 4 (GAD-7) points on at least one measure.

    The Manual lets an anxiety-disorder-specific measure (ADSM) replace the GAD-7; give its caseness
    threshold and reliable-change points through the two keyword arguments (`depression_caseness`
    likewise, for a caller that reads the cut-offs from the definitions). Only the paired first and
    last scores count: a referral missing any of the four scores is not `paired` and gets no outcome.
    """
    dep_pre, dep_post = _pair(phq9_pre, phq9_post)
    anx_pre, anx_post = _pair(gad7_pre, gad7_post)
    if dep_pre.shape != anx_pre.shape:
        raise ValueError("the depression and anxiety columns differ in length")
    depression = reliable_change_in_points(dep_pre, dep_post, points=PHQ9_RELIABLE_CHANGE)
    anxiety = reliable_change_in_points(anx_pre, anx_post, points=anxiety_reliable_change)
    paired = depression.complete & anxiety.complete
    with np.errstate(invalid="ignore"):
        case_at_start = paired & ((dep_pre >= depression_caseness) | (anx_pre >= anxiety_caseness))
        case_at_end = paired & ((dep_post >= depression_caseness) | (anx_post >= anxiety_caseness))
    recovery = case_at_start & ~case_at_end
    reliable_deterioration = paired & (depression.deteriorated | anxiety.deteriorated)
    # Improvement on one measure cancelled by reliable deterioration on the other is not improvement.
    reliable_improvement = paired & (depression.improved | anxiety.improved) & ~reliable_deterioration
    return TalkingTherapiesOutcome(
        paired=paired,
        case_at_start=case_at_start,
        case_at_end=case_at_end,
        recovery=recovery,
        reliable_improvement=reliable_improvement,
        reliable_deterioration=reliable_deterioration,
        reliable_recovery=recovery & reliable_improvement,
    )


@dataclass(frozen=True)
class ChangeParameters:
    """Change-statistics parameters of one instrument scale; None where the definition gives none."""

    reliability: float | None = None
    sd: float | None = None
    rci_points: float | None = None
    clinical_mean: float | None = None
    clinical_sd: float | None = None
    functional_mean: float | None = None
    functional_sd: float | None = None
    mid: float | None = None
    higher_is_better: bool = False

    def reliable_change_points(self) -> float | None:
        """The reliable change in raw points: the published figure when the definition gives one, else
        Jacobson & Truax (1991) from its SD and reliability (as Wiedemann et al. 2020's
        define_crit1_cutoff); None when the definition gives neither."""
        if self.rci_points is not None:
            return self.rci_points
        if self.sd is not None and self.reliability is not None:
            return reliable_change_points(sd=self.sd, reliability=self.reliability)
        return None


def definition_field(obj: Any, name: str) -> Any:
    """A field of a definition block, whether the loader gives mappings or attribute objects."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def parameters_from_scale(scale: Any) -> ChangeParameters:
    """Read a scale's `direction`, `reliable_change`, `clinical_significance` and `mid` blocks.

    `scale` is one entry of `scoring.scales` in an instrument definition (docs/instrument-definitions.md),
    as the JSON mapping or as an object with the same field names, so this module never imports the loader.
    """
    reliable = definition_field(scale, "reliable_change")
    norms = definition_field(scale, "clinical_significance")
    direction = definition_field(scale, "direction")
    if direction not in (None, LOWER_IS_BETTER, HIGHER_IS_BETTER):
        raise ValueError(f"unknown direction {direction!r}")
    return ChangeParameters(
        reliability=_number(definition_field(reliable, "reliability")),
        sd=_number(definition_field(reliable, "sd")),
        rci_points=_number(definition_field(reliable, "rci")),
        clinical_mean=_number(definition_field(norms, "clinical_mean")),
        clinical_sd=_number(definition_field(norms, "clinical_sd")),
        functional_mean=_number(definition_field(norms, "functional_mean")),
        functional_sd=_number(definition_field(norms, "functional_sd")),
        mid=_number(definition_field(definition_field(scale, "mid"), "value")),
        higher_is_better=direction == HIGHER_IS_BETTER,
    )
