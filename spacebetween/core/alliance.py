"""Alliance ruptures and repairs in session-by-session alliance scores.

Framework-free and vectorised: `client` holds one alliance instrument's scores, one row per series (an
episode) and one column per session number (NaN = not measured), so the same function serves one
client's page and a network batch. The loop runs over session columns only.

No alliance measure has a validated cut-off or a published reliable change: Horvath, "the WAI is not a
standardized measure … none of the alliance measures have standardized scores, cut-offs"
(wai.profhorvath.com/criteria; mbc-anchors.md §5.6 [V]). So the primary rule is within-person: a
rupture is a score falling clearly below the client's own running level, and a repair is the return
to it, the V-pattern or "rupture-repair episode" of the research literature (Safran & Muran; Stiles
et al. 2004; Stevens et al. 2007; mbc-anchors.md §5.6, [V] for the concept). The numeric forms used in
research (≥ 1 or 1.5 SD of the client's own series, or fixed-point drops) are marked [M] there, not
verified, so none is built in: the drop threshold is the caller's (`AllianceRules.drop_points`), and
the other defaults below are product choices, each configurable per practice. The rules, their
defaults and why: docs/insights.md, "Alliance: ruptures and repairs".

Rules, checked at every measured session of a row with no open rupture, in this order:

1. drop: score < baseline − drop_points. The baseline is the mean of up to `baseline_window` earlier
   scores given outside an open rupture, and needs at least `MIN_BASELINE_SCORES` of them;
2. floor: score < floor, when the practice has set a floor;
3. gap (only when the therapist's form shares the client's validated metric, `shared_metric`): client
   minus therapist, in the shared metric's points, has moved at least `gap_points` percent of that
   metric's range away from the pair's reference gap (the mean of their first
   `gap_reference_sessions` paired sessions), on the same side, on `gap_sessions` consecutive paired
   sessions. A gap between unlike measures (the WAI-SR and a 0–10 session rating, or a form with other
   items or another answer scale) is never computed: rescaling both to percent of their ranges does
   not make them one metric, so their difference would have no unit and no validated meaning.

At most one rupture is open per row. It is repaired at the first later session where the client's
score is back at or above the repair level (a drop: the baseline before the rupture; a floor: the
floor, or the baseline before the rupture if that is higher), or, for a gap, where the gap is back
within `gap_points` of its reference. A session that repairs a rupture cannot open a new one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacebetween.core.instruments import Instrument
from spacebetween.core.trajectories import score_matrix

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# The running baseline needs two earlier scores. With one, the rule would be a session-to-session
# drop, which mbc-anchors.md §5.6 calls very sensitive (OpenFIT's SRS rule) because one unusual
# session sets the bar; the alliance also still forms over the first sessions (Rivet's WAI-SR guidance
# sets a baseline after sessions 3–5, mbc-anchors.md §5.6 [V, vendor guidance]). So the drop rule can
# first fire at the third measured session. A product choice, not a published rule.
MIN_BASELINE_SCORES = 2


@dataclass(frozen=True)
class AllianceRules:
    """Rupture rules of one practice for one alliance measure (docs/insights.md)."""

    # The alliance measure's reliable-change threshold in its own points, from
    # `core.change.parameters_from_scale(scale).reliable_change_points()` where the definition gives an
    # SD and reliability. The WAI-SR gives none (instruments.md §2.3: "No published RCI"), so the caller
    # passes one explicitly (set by the practice, or its own documented default).
    drop_points: float
    # An absolute floor (mbc-anchors.md §5.6, rule (a): an instrument cut-off where one exists, e.g. the
    # SRS's 36 in PCOMS [V]). None: no floor. The WAI-SR has no validated cut-off, so none is set by default.
    floor: float | None = None
    # "the client's rolling mean of the last 3 sessions": mbc-anchors.md §5.6, recommended product
    # rule (b), a synthesis and not a published standard.
    baseline_window: int = 3
    # Product defaults with no published basis (mbc-anchors.md has no numeric gap rule): the space
    # between the two views must move by 15 percent of the shared metric's range (about a sixth of it:
    # 7.2 points on the WAI-SR's 12–60; `alliance_events` turns it into the metric's points) …
    gap_points: float = 15.0
    # … on 2 paired sessions in a row, so that one session's disagreement is not yet a pattern …
    gap_sessions: int = 2
    # … against the pair's own usual gap over their first 3 paired sessions (even on one metric,
    # clients and therapists rate in different styles, so only a change from it counts).
    gap_reference_sessions: int = 3

    def __post_init__(self) -> None:
        if not (math.isfinite(self.drop_points) and self.drop_points > 0):
            raise ValueError(f"drop_points must be a positive number of points, not {self.drop_points!r}")
        if self.floor is not None and not math.isfinite(self.floor):
            raise ValueError(f"floor must be a number or None, not {self.floor!r}")
        if self.baseline_window < MIN_BASELINE_SCORES:
            raise ValueError(
                f"baseline_window must be at least {MIN_BASELINE_SCORES} (the baseline needs "
                f"{MIN_BASELINE_SCORES} earlier scores), not {self.baseline_window}"
            )
        if not (math.isfinite(self.gap_points) and 0 < self.gap_points <= 200):
            raise ValueError(f"gap_points must be between 0 and 200 percent points, not {self.gap_points!r}")
        if self.gap_sessions < 1:
            raise ValueError(f"gap_sessions must be at least 1, not {self.gap_sessions}")
        if self.gap_reference_sessions < 1:
            raise ValueError(f"gap_reference_sessions must be at least 1, not {self.gap_reference_sessions}")


class AllianceEventKind(StrEnum):
    RUPTURE = "rupture"
    REPAIR = "repair"


class RuptureReason(StrEnum):
    DROP = "drop"
    FLOOR = "floor"
    GAP = "gap"


# Integer codes of the open rupture per row during the scan (0 = none).
_REASONS: tuple[RuptureReason, ...] = tuple(RuptureReason)
_NONE, _DROP, _FLOOR, _GAP = 0, 1, 2, 3


def _number(x: float) -> str:
    return f"{round(x, 1):g}"


def _signed(x: float) -> str:
    return f"{round(x, 1):+g}"


@dataclass(frozen=True)
class AllianceEvent:
    """One rupture or repair of one row.

    `reason` is the rule that opened the rupture; a repair carries the reason of the rupture it closes.
    Drop and floor events are in the client measure's points: `value` the score, `baseline` the repair
    level (the running baseline for a drop; the floor, or the baseline if higher, for a floor),
    `threshold` the line the score fell below (baseline − drop_points, or the floor). Gap events are in
    the points of the metric both sides share: `value` the gap (client minus therapist), `baseline` the
    pair's reference gap, `threshold` the edge the gap passed (reference ± the gap rule in points).
    A repair carries the `baseline` and `threshold` of the rupture it closes, with its own `value`.
    """

    row: int
    session_number: int
    kind: AllianceEventKind
    reason: RuptureReason | None
    value: float
    baseline: float
    threshold: float = math.nan

    def explain(self, instrument_title: str, rules: AllianceRules | None = None) -> str:
        """Plain words with the numbers and the rule; `rules` adds the window and session counts."""
        t, n, v, b = instrument_title, self.session_number, _number(self.value), _number(self.baseline)
        if self.reason == RuptureReason.GAP:
            return self._explain_gap(t, rules)
        if self.kind == AllianceEventKind.REPAIR:
            at_floor = self.reason == RuptureReason.FLOOR and self.baseline == self.threshold
            level = "the practice's floor" if at_floor else "this client's baseline before the rupture"
            return f"{t} {v} at session {n} is back at or above {b}, {level}: repair"
        explore = f"possible rupture — explore. A repair is a later score back at {b} or above"
        if self.reason == RuptureReason.DROP:
            window = f"up to {rules.baseline_window} " if rules is not None else "the most recent "
            return (
                f"{t} {v} at session {n} is more than {_number(self.baseline - self.threshold)} points below "
                f"this client's own baseline of {b} (the mean of {window}earlier scores outside a "
                f"rupture): {explore}"
            )
        return f"{t} {v} at session {n} is below the practice's floor of {_number(self.threshold)}: {explore}"

    def _explain_gap(self, title: str, rules: AllianceRules | None) -> str:
        n, g, ref = self.session_number, _signed(self.value), _signed(self.baseline)
        apart = abs(self.threshold - self.baseline)
        if self.kind == AllianceEventKind.REPAIR:
            return (
                f"At session {n} the gap on the {title} (client minus therapist, {g} points) is back "
                f"within {_number(apart)} points of its usual {ref}: repair"
            )
        behind = (
            "the client's view has fallen behind the therapist's"
            if self.threshold < self.baseline
            else "the therapist's view has fallen behind the client's"
        )
        sessions = f"on {rules.gap_sessions} paired sessions in a row" if rules is not None else "in a row"
        return (
            f"At session {n} the gap on the {title} (client minus therapist) is {g} points against a "
            f"usual {ref}: {behind}, by {_number(apart)} points or more {sessions}: possible rupture — "
            "explore"
        )


@dataclass(frozen=True)
class AllianceEvents:
    """Columnar; one entry per event, ordered by row and session (a row has at most one per session)."""

    row: NDArray[np.intp]
    session_number: NDArray[np.int64]
    kind: NDArray[np.str_]
    reason: NDArray[np.str_]
    value: FloatArray
    baseline: FloatArray
    threshold: FloatArray = field(default_factory=lambda: np.empty(0))

    def __post_init__(self) -> None:
        if self.threshold.size == 0 and self.row.size:
            object.__setattr__(self, "threshold", np.full(self.row.size, np.nan))

    def for_row(self, row: int) -> list[AllianceEvent]:
        return [
            AllianceEvent(
                row=int(self.row[i]),
                session_number=int(self.session_number[i]),
                kind=AllianceEventKind(str(self.kind[i])),
                reason=RuptureReason(str(self.reason[i])) if str(self.reason[i]) else None,
                value=float(self.value[i]),
                baseline=float(self.baseline[i]),
                threshold=float(self.threshold[i]),
            )
            for i in np.flatnonzero(self.row == row)
        ]

    def __len__(self) -> int:
        return int(self.row.size)

    def open_ruptures(self) -> NDArray[np.intp]:
        """Rows whose last event is a rupture: still unrepaired at their last score."""
        if not self.row.size:
            return np.empty(0, dtype=np.intp)
        last = np.r_[self.row[1:] != self.row[:-1], True]
        return self.row[last & (self.kind == AllianceEventKind.RUPTURE.value)]


def _check_range(x: FloatArray, minimum: float, maximum: float, name: str) -> None:
    with np.errstate(invalid="ignore"):
        outside = (x < minimum) | (x > maximum)
    if outside.any():
        where = np.argwhere(outside)[0]
        raise ValueError(
            f"{name} {_number(float(x[tuple(where)]))} (row {int(where[0])}, session {int(where[-1]) + 1}) "
            f"is outside the range {minimum:g}–{maximum:g}"
        )


# Constructs whose questionnaires rate the session just had (alliance measures): their course is read
# for ruptures and repairs, not for recovery. One list for the practice pages and the network batch.
ALLIANCE_CONSTRUCTS = frozenset({"alliance"})
# Product default for an alliance drop when neither the user nor the definition gives one: 10% of the
# scale range (4.8 points on the WAI-SR). Not a published threshold: Horvath notes that no alliance
# measure has standardised cut-offs (mbc-anchors.md §5.6), so practices should set their own.
DEFAULT_DROP_SHARE_OF_RANGE = 0.10


def drop_threshold(
    *, chosen: float | None, chosen_by: str, published: float | None, minimum: float, maximum: float
) -> tuple[float, str]:
    """The drop that counts as a possible rupture, and where it came from: the user's choice, else the
    measure's published reliable change, else the product default."""
    if chosen is not None:
        return chosen, chosen_by
    if published is not None:
        return published, "the measure's reliable-change threshold"
    return DEFAULT_DROP_SHARE_OF_RANGE * (
        maximum - minimum
    ), "10% of the scale range (a default, not a published threshold)"


def percent_of_range(scores: ArrayLike, minimum: float, maximum: float) -> FloatArray:
    """Scores as percent of the scale's range, 0–100 (POMP: Cohen, Cohen, Aiken & West 1999).

    NaN stays NaN; a score outside minimum–maximum is a ValueError naming it.
    """
    if not (math.isfinite(minimum) and math.isfinite(maximum) and maximum > minimum):
        raise ValueError(f"the range must run from a lower to a higher number, not {minimum!r}–{maximum!r}")
    x = np.asarray(scores, dtype=np.float64)
    _check_range(x.reshape(1, -1) if x.ndim < 2 else x, minimum, maximum, "score")
    return 100.0 * (x - minimum) / (maximum - minimum)


@dataclass(frozen=True)
class AllianceMetric:
    """What one side's alliance score is, as scored: enough to tell whether two forms share a metric.

    `unit` names the points ("WAI-SR points"); `answers` are the answer values every item offers (as
    scored); `validated`: a published, validated instrument (a session rating of our own is not).
    """

    unit: str
    minimum: float
    maximum: float
    items: int
    answers: tuple[float, ...]
    method: str
    validated: bool

    @property
    def span(self) -> float:
        return self.maximum - self.minimum


def short_name(instrument: Instrument) -> str:
    """The abbreviation in the title's parentheses ("… (WAI-SR), client form" → "WAI-SR"), else the id."""
    found = re.search(r"\(([^()]+)\)", instrument.title)
    return found.group(1) if found else instrument.id.upper()


def metric_of(instrument: Instrument, *, validated: bool = True) -> AllianceMetric:
    """The metric of an instrument's first scale (its total), its unit named after the instrument."""
    scale = instrument.scales[0]
    by_id = {item.id: item for item in instrument.items}
    answers = sorted({tuple(by_id[i].values) for i in scale.items if i in by_id})
    return AllianceMetric(
        unit=f"{short_name(instrument)} points",
        minimum=float(scale.range[0]),
        maximum=float(scale.range[1]),
        items=len(scale.items),
        answers=tuple(float(v) for v in answers[0]) if len(answers) == 1 else (),
        method=scale.method,
        validated=validated,
    )


def why_not_shared(client: AllianceMetric, therapist: AllianceMetric) -> str | None:
    """None when a client and a therapist form share one validated metric, else why not.

    A gap is a difference of two scores, so it has a unit only when both are on one metric: both
    validated, the same number of items, the same answer scale, the same scoring and range — the
    client and therapist wordings of one instrument (e.g. the WAI-SR and the WAI-SR-T, its therapist
    wording, examined in Hatcher, Lindqvist & Falkenström 2020, Psychotherapy Research 30(6),
    doi:10.1080/10503307.2019.1677964). Rescaling unlike measures to percent of their ranges (POMP)
    puts them on one axis, not on one metric: the project's rule (docs/insights.md, "The space
    between") is no gap between them.
    """
    if not client.validated:
        return "the client's measure is not a validated instrument"
    if not therapist.validated:
        return "the therapist's measure is not a validated instrument"
    differences = [
        name
        for name, a, b in (
            ("number of items", client.items, therapist.items),
            ("answer scale", client.answers, therapist.answers),
            ("scoring", client.method, therapist.method),
            ("range", (client.minimum, client.maximum), (therapist.minimum, therapist.maximum)),
        )
        if a != b or (name == "answer scale" and not a)
    ]
    if differences:
        return f"the two forms differ in {', '.join(differences)}"
    return None


def shared_metric(client: AllianceMetric, therapist: AllianceMetric) -> bool:
    """Whether a gap between these two forms has a unit (`why_not_shared` says why not)."""
    return why_not_shared(client, therapist) is None


def alliance_gap(client_scores: FloatArray, therapist_scores: FloatArray) -> FloatArray:
    """Client minus therapist, both in the points of one shared metric: + = the client rates it higher."""
    client = np.asarray(client_scores, dtype=np.float64)
    therapist = np.asarray(therapist_scores, dtype=np.float64)
    if client.shape != therapist.shape:
        raise ValueError(
            f"client and therapist ratings differ in shape ({client.shape} and {therapist.shape})"
        )
    return client - therapist


@dataclass
class _Found:
    """Events gathered column by column."""

    parts: list[tuple[NDArray[np.intp], int, str, NDArray[np.int8], FloatArray, FloatArray, FloatArray]] = (
        field(default_factory=list)
    )

    def add(
        self,
        rows: NDArray[np.intp],
        session: int,
        kind: AllianceEventKind,
        codes: NDArray[np.int8],
        value: FloatArray,
        baseline: FloatArray,
        threshold: FloatArray,
    ) -> None:
        if rows.size:
            self.parts.append(
                (rows, session, kind.value, codes[rows], value[rows], baseline[rows], threshold[rows])
            )

    def collect(self) -> AllianceEvents:
        rows = np.concatenate([p[0] for p in self.parts] + [np.empty(0, np.intp)]).astype(np.intp)
        sessions = np.concatenate(
            [np.full(p[0].size, p[1], dtype=np.int64) for p in self.parts] + [np.empty(0, np.int64)]
        )
        kinds = np.concatenate([np.full(p[0].size, p[2]) for p in self.parts] + [np.empty(0, np.str_)])
        codes = np.concatenate([p[3] for p in self.parts] + [np.empty(0, np.int8)])
        names = np.array([""] + [r.value for r in _REASONS], dtype=np.str_)

        def column(i: int) -> FloatArray:
            return np.concatenate([p[i] for p in self.parts] + [np.empty(0)])  # type: ignore[misc]

        order = np.lexsort((sessions, rows))
        return AllianceEvents(
            row=rows[order],
            session_number=sessions[order],
            kind=kinds[order].astype(np.str_),
            reason=names[codes[order]],
            value=column(4)[order],
            baseline=column(5)[order],
            threshold=column(6)[order],
        )


def alliance_events(
    client: FloatArray,
    rules: AllianceRules,
    *,
    therapist: FloatArray | None = None,
    client_metric: AllianceMetric | None = None,
    therapist_metric: AllianceMetric | None = None,
    client_minimum: float | None = None,
    client_maximum: float | None = None,
) -> AllianceEvents:
    """Every rupture and repair of every row (the rules: module docstring and docs/insights.md).

    `client`: (n, S) client alliance scores in the instrument's points, higher = better alliance;
    `client_minimum`/`client_maximum` (or `client_metric`) check they are in range.
    The gap rule runs only when `therapist` (n, S, the therapist form's scores in its own points) is
    given with both metrics, and only when they share one validated metric (`why_not_shared`): a
    therapist measure on another metric (a session rating, a form with another answer scale) is a
    ValueError, never a gap. Gap events are then in that metric's points.
    """
    x = score_matrix(client, "client")
    if (client_minimum is None) != (client_maximum is None):
        raise ValueError("give both client_minimum and client_maximum, or neither")
    if client_minimum is not None and client_maximum is not None:
        percent_of_range(x, client_minimum, client_maximum)  # range check
    gap: FloatArray | None = None
    gap_points = math.nan
    if therapist is not None:
        if client_metric is None or therapist_metric is None:
            raise ValueError(
                "the gap rule needs client_metric and therapist_metric, to check that both sides share "
                "one validated metric"
            )
        reason = why_not_shared(client_metric, therapist_metric)
        if reason is not None:
            raise ValueError(f"no gap between unlike measures: {reason}")
        theirs = score_matrix(therapist, "therapist")
        _check_range(x, client_metric.minimum, client_metric.maximum, "client score")
        _check_range(theirs, therapist_metric.minimum, therapist_metric.maximum, "therapist score")
        gap = alliance_gap(x, theirs)
        # The practice's setting is in percent of the range; in the shared metric's own points:
        gap_points = rules.gap_points / 100.0 * client_metric.span

    n, width = x.shape
    floor = rules.floor if rules.floor is not None else -math.inf
    # Earlier scores given outside an open rupture, newest last: a rupture must not lower the bar for
    # the next one, so the scores of an open rupture never enter the baseline.
    window = np.full((n, rules.baseline_window), np.nan)
    open_code = np.zeros(n, dtype=np.int8)
    # The open rupture's repair level (its event's `baseline`) and the line it crossed (`threshold`).
    open_level = np.full(n, np.nan)
    open_line = np.full(n, np.nan)
    reference_sum = np.zeros(n)
    reference_count = np.zeros(n, dtype=np.int64)
    streak = np.zeros(n, dtype=np.int64)
    streak_side = np.zeros(n, dtype=np.int8)
    found = _Found()

    for j in range(width):
        session = j + 1
        score = x[:, j]
        seen = np.isfinite(score)
        filled = np.isfinite(window)
        count = filled.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            baseline = np.where(
                count >= MIN_BASELINE_SCORES, np.where(filled, window, 0.0).sum(axis=1) / count, np.nan
            )

        tested = np.zeros(n, dtype=np.bool_)
        g = reference = deviation = np.full(n, np.nan)
        if gap is not None:
            g = gap[:, j]
            paired = np.isfinite(g)
            in_reference = paired & (reference_count < rules.gap_reference_sessions)
            reference_sum += np.where(in_reference, g, 0.0)
            reference_count += in_reference
            complete = reference_count >= rules.gap_reference_sessions
            reference = np.where(complete, reference_sum / rules.gap_reference_sessions, np.nan)
            tested = paired & ~in_reference
            deviation = g - reference
            with np.errstate(invalid="ignore"):
                apart = tested & (np.abs(deviation) >= gap_points)
            side = np.where(apart, np.sign(deviation), 0).astype(np.int8)
            # Paired sessions only: a session where one side was not measured neither counts nor breaks.
            longer = np.where(apart & (side == streak_side), streak + 1, apart.astype(np.int64))
            streak = np.where(tested, longer, streak)
            streak_side = np.where(tested, side, streak_side)

        # Repairs first: a session that closes a rupture does not open another.
        was_open = open_code != _NONE
        with np.errstate(invalid="ignore"):
            level_back = was_open & (open_code != _GAP) & seen & (score >= open_level)
            gap_back = was_open & (open_code == _GAP) & tested & (np.abs(deviation) < gap_points)
        value = np.where(open_code == _GAP, g, score)
        repair = AllianceEventKind.REPAIR
        found.add(
            np.flatnonzero(level_back | gap_back), session, repair, open_code, value, open_level, open_line
        )
        open_code[level_back | gap_back] = _NONE

        free = ~was_open
        with np.errstate(invalid="ignore"):
            drop = free & seen & (score < baseline - rules.drop_points)
            low = free & seen & (score < floor) & ~drop
        apart_long = free & tested & (streak >= rules.gap_sessions) & ~drop & ~low
        rules_hit = [drop, low, apart_long]
        codes = np.select(rules_hit, [_DROP, _FLOOR, _GAP], _NONE).astype(np.int8)
        # A floor rupture is repaired at the floor, or at the client's own baseline if that is higher:
        # back above the floor but still well below their usual level is not yet a return.
        level = np.select(rules_hit, [baseline, np.fmax(baseline, floor), reference], np.nan)
        edge = reference + np.sign(deviation) * gap_points
        line = np.select(rules_hit, [baseline - rules.drop_points, np.full(n, floor), edge], np.nan)
        value = np.where(apart_long, g, score)
        opened = codes != _NONE
        found.add(np.flatnonzero(opened), session, AllianceEventKind.RUPTURE, codes, value, level, line)
        open_code[opened] = codes[opened]
        open_level = np.where(opened, level, open_level)
        open_line = np.where(opened, line, open_line)

        feeds = seen & (open_code == _NONE)
        shifted = np.concatenate([window[:, 1:], score[:, None]], axis=1)
        window = np.where(feeds[:, None], shifted, window)

    return found.collect()
