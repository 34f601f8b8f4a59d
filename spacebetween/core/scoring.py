"""Item answers -> scale scores, bands, caseness and risk flags.

One implementation serves one client and a million: `score_table` works on whole columns (numpy), and
`score_response` scores a single questionnaire by passing a one-row table through the same code, so the
web page, the API, the command line and a batch run cannot disagree.

Rules, all read from the instrument definition (docs/instrument-definitions.md), never written here:

- Answers must be one of the item's answer-option values (the FHIR ordinalValue). Anything else, and any
  unknown item, is a `ScoringError` naming the respondent, the item and the value: never a silent score.
- Per item, in this order: first the scale's ``recode`` (if it recodes the item) replaces the answer by
  the scored value the definition gives for it (RFQ-8 certainty: 1 -> 3, 2 -> 2, 3 -> 1, 4-7 -> 0), looked
  up for a whole column at once; then reverse keying. An item is never both recoded and reverse-keyed in
  one scale (the loader refuses it), and each scale recodes independently: the same answer may score 3 on
  one scale and 0 on another.
- Reverse-keyed items score ``min + max - value`` with min/max taken from the item's own options (so a
  1-5 item maps 2 -> 4 and a 0-4 item maps 1 -> 3).
- ``method: sum`` adds the items, ``method: mean`` averages them; ``transform.multiply`` rescales the
  result (WHO-5 percentage score = raw sum x 4, Topp et al. 2015).
- Missing answers: up to ``missing.max_missing`` may be missing. A prorated sum is the mean of the
  answered items times the number of items (the CORE-10 rule, 10 x total / n answered, Barkham et al.
  2013 as implemented in CamCOPS core10.py); a mean is the mean of the answered items. It is computed as
  ``total * n_items / n_answered`` so that whole results stay exact in floating point. Prorated sums are
  rounded only when the definition asks (``missing.rounding: nearest_integer``), halves up, because
  numpy's round-half-to-even would send 12.5 down and 13.5 up. Every score carries a ``prorated`` flag.
  More missing than allowed is a `ScoringError` (or, with ``incomplete="nan"``, a NaN score marked
  ``incomplete``) — never a sum over fewer items. A scale whose risk item (a risk rule's item, such
  as CORE-10 item 6) is missing is not prorated either: it counts as too many missing.
- Bands: a score belongs to the last band whose ``min`` it reaches. The loader has already checked that
  the bands are contiguous and cover the range, so every score in range has exactly one band.
- Risk rules are evaluated on the raw answer (never recoded or reversed), before and independently of
  any scale: an unscorable questionnaire still raises its risk flags, and a `ScoringError` carries the
  flags that were raised for that respondent so that no caller can lose them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from spacebetween.core.instruments import Instrument, Recode, RiskRule, Scale, compare

Incomplete = Literal["raise", "nan"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Band lookup tolerance: bands are written to two decimals at most; float noise is far below this.
_BAND_EPS = 1e-9


class ScoringError(ValueError):
    """Input that cannot be scored. Names the respondent, and the item and value (or scale) at fault.

    ``row`` is the 0-based row in the table (0 for a single response); ``risk_flags`` lists the labels of
    risk rules that fired for this respondent, so a caller that stops on the error still sees them.
    """

    def __init__(
        self,
        message: str,
        *,
        respondent_id: str,
        row: int,
        item: str | None = None,
        value: object = None,
        scale: str | None = None,
        risk_flags: tuple[str, ...] = (),
    ) -> None:
        self.respondent_id = respondent_id
        self.row = row
        self.item = item
        self.value = value
        self.scale = scale
        self.risk_flags = risk_flags
        if risk_flags:
            message += f" [RISK FLAG RAISED: {'; '.join(risk_flags)}]"
        super().__init__(message)


@dataclass(frozen=True, eq=False)
class ScaleScores:
    """One scale over all respondents; arrays are aligned with `ScoreTable.respondent_ids`."""

    scale: Scale
    score: FloatArray  # NaN where not scored
    n_missing: IntArray
    prorated: BoolArray
    incomplete: BoolArray  # more items missing than the definition allows (incomplete="nan" only)
    band_index: IntArray  # -1 where not scored or the scale has no bands
    caseness: BoolArray  # False where not scored; check `scored`

    @property
    def scored(self) -> BoolArray:
        return ~self.incomplete

    @property
    def band_labels(self) -> npt.NDArray[np.object_]:
        labels = np.array([b.label for b in self.scale.bands] + [None], dtype=object)
        return labels[self.band_index]  # index -1 picks the trailing None


@dataclass(frozen=True, eq=False)
class RiskFlags:
    rule: RiskRule
    flag: BoolArray  # the rule fired
    answered: BoolArray  # the risk item was answered; an unanswered risk item is not "no risk"


@dataclass(frozen=True)
class ScaleResult:
    scale_id: str
    score: float | None
    n_missing: int
    prorated: bool
    band: str | None
    band_index: int | None
    caseness: bool | None


@dataclass(frozen=True)
class ResponseScore:
    instrument_id: str
    instrument_version: str
    respondent_id: str
    scales: Mapping[str, ScaleResult]
    risk: Mapping[str, bool | None]  # rule id -> fired; None when the risk item was not answered
    risk_labels: Mapping[str, str]

    @property
    def risk_flags(self) -> tuple[str, ...]:
        """Labels of the risk rules that fired."""
        return tuple(self.risk_labels[rid] for rid, fired in self.risk.items() if fired)


@dataclass(frozen=True, eq=False)
class ScoreTable:
    instrument: Instrument
    respondent_ids: tuple[str, ...]
    scales: Mapping[str, ScaleScores]
    risk: Mapping[str, RiskFlags]

    def __len__(self) -> int:
        return len(self.respondent_ids)

    @property
    def any_risk(self) -> BoolArray:
        out = np.zeros(len(self), dtype=bool)
        for rf in self.risk.values():
            out |= rf.flag
        return out

    def response(self, row: int) -> ResponseScore:
        """One row as plain Python values."""
        scales: dict[str, ScaleResult] = {}
        for sid, sc in self.scales.items():
            scored = not bool(sc.incomplete[row])
            bi = int(sc.band_index[row])
            scales[sid] = ScaleResult(
                scale_id=sid,
                score=float(sc.score[row]) if scored else None,
                n_missing=int(sc.n_missing[row]),
                prorated=bool(sc.prorated[row]),
                band=sc.scale.bands[bi].label if bi >= 0 else None,
                band_index=bi if bi >= 0 else None,
                caseness=bool(sc.caseness[row]) if scored and sc.scale.caseness else None,
            )
        risk = {rid: (bool(rf.flag[row]) if rf.answered[row] else None) for rid, rf in self.risk.items()}
        return ResponseScore(
            instrument_id=self.instrument.id,
            instrument_version=self.instrument.version,
            respondent_id=self.respondent_ids[row],
            scales=scales,
            risk=risk,
            risk_labels={rid: rf.rule.label for rid, rf in self.risk.items()},
        )


def _fmt(value: float) -> str:
    return str(int(value)) if math.isfinite(value) and float(value).is_integer() else repr(float(value))


def score_table(
    instrument: Instrument,
    answers: npt.ArrayLike,
    respondent_ids: Sequence[str] | None = None,
    *,
    incomplete: Incomplete = "raise",
) -> ScoreTable:
    """Score a table: ``answers`` is n_respondents x n_items in `Instrument.item_ids` order, NaN = missing.

    ``incomplete="raise"`` (default) makes too many missing items a `ScoringError`; ``"nan"`` leaves
    those scores NaN with ``incomplete`` set, for callers that store partial questionnaires.
    """
    # Column-major copy: scoring walks items (columns), and the caller's array is never modified.
    table = np.array(answers, dtype=np.float64, copy=True, ndmin=2, order="F")
    item_ids = instrument.item_ids
    if table.ndim != 2 or table.shape[1] != len(item_ids):
        raise ValueError(
            f"{instrument.id}: answers must have shape (n, {len(item_ids)}) in the order "
            f"{', '.join(item_ids)}; got {table.shape}"
        )
    n = table.shape[0]
    ids = tuple(map(str, respondent_ids if respondent_ids is not None else range(1, n + 1)))
    if len(ids) != n:
        raise ValueError(f"{len(ids)} respondent ids for {n} rows of answers")

    missing = np.isnan(table)
    # Rows with an answer that is not an option of its item; first such row per item.
    bad_value_row, bad_value_col = n, -1
    for j, item in enumerate(instrument.items):
        ok = missing[:, j] | _is_option(table[:, j], _option_values(item.values))
        if not ok.all():
            first = int(np.argmin(ok))
            if first < bad_value_row:
                bad_value_row, bad_value_col = first, j

    index = {item_id: j for j, item_id in enumerate(item_ids)}
    risk = _risk_flags(instrument, table, missing, index)

    def flags_for(row: int) -> tuple[str, ...]:
        return tuple(rf.rule.label for rf in risk.values() if rf.flag[row])

    scales: dict[str, ScaleScores] = {}
    too_many_row, too_many_scale = n, None
    for sc in instrument.scales:
        result = _scale_scores(instrument, sc, table, missing, index)
        scales[sc.id] = result
        if incomplete == "raise" and result.incomplete.any():
            first = int(np.argmax(result.incomplete))
            if first < too_many_row:
                too_many_row, too_many_scale = first, sc

    if bad_value_col >= 0 and bad_value_row <= too_many_row:
        item = instrument.items[bad_value_col]
        value = float(table[bad_value_row, bad_value_col])
        allowed = ", ".join(_fmt(v) for v in item.values)
        raise ScoringError(
            f"respondent {ids[bad_value_row]!r}: item {item.id}: value {_fmt(value)} is not one of its "
            f"answer options ({allowed})",
            respondent_id=ids[bad_value_row],
            row=bad_value_row,
            item=item.id,
            value=value,
            risk_flags=flags_for(bad_value_row),
        )
    if too_many_scale is not None:
        row = too_many_row
        absent = [i for i in too_many_scale.items if missing[row, index[i]]]
        risky = [i for i in _risk_items(instrument, too_many_scale) if i in absent]
        absent = risky + [i for i in absent if i not in risky]  # the risk item is the one to name
        rule = (
            f"{risky[0]} is a risk item, which is never prorated"
            if risky
            else f"at most {too_many_scale.missing.max_missing} may be missing"
        )
        raise ScoringError(
            f"respondent {ids[row]!r}: scale {too_many_scale.id}: {len(absent)} item(s) missing "
            f"({', '.join(absent)}); {rule}",
            respondent_id=ids[row],
            row=row,
            item=absent[0],
            value=None,
            scale=too_many_scale.id,
            risk_flags=flags_for(row),
        )
    return ScoreTable(instrument=instrument, respondent_ids=ids, scales=scales, risk=risk)


def _risk_flags(
    instrument: Instrument, table: FloatArray, missing: BoolArray, index: Mapping[str, int]
) -> dict[str, RiskFlags]:
    out: dict[str, RiskFlags] = {}
    for rule in instrument.risk_rules:
        j = index[rule.item]
        answered = ~missing[:, j]
        # NaN compares False, so an unanswered item never fires; `answered` keeps "unknown" visible.
        fired = np.asarray(compare(rule.operator, table[:, j], float(rule.value)), dtype=bool) & answered
        out[rule.id] = RiskFlags(rule=rule, flag=fired, answered=answered)
    return out


def _risk_items(instrument: Instrument, sc: Scale) -> list[str]:
    risky = {rule.item for rule in instrument.risk_rules}
    return [item_id for item_id in sc.items if item_id in risky]


def _scale_scores(
    instrument: Instrument, sc: Scale, table: FloatArray, missing: BoolArray, index: Mapping[str, int]
) -> ScaleScores:
    k = len(sc.items)
    n = table.shape[0]
    total = np.zeros(n, dtype=np.float64)
    n_missing = np.zeros(n, dtype=np.int64)
    # Column by column: the table is column-major (see score_table), so each pass reads contiguous memory.
    for item_id in sc.items:
        j = index[item_id]
        values = table[:, j]
        recode = sc.recode_for(item_id)
        if recode is not None:  # recode first, then reverse keying (the loader allows one or the other)
            values = _recoded(recode, values)
        if item_id in sc.reverse:
            item = instrument.item(item_id)
            values = (float(item.min) + float(item.max)) - values
        miss = missing[:, j]
        total += np.where(miss, 0.0, values)
        n_missing += miss
    answered = k - n_missing
    too_many = n_missing > sc.missing.max_missing
    # A missing risk item is never prorated: the mean of the other answers says nothing about it, and
    # a prorated score would hide that the risk question went unanswered (docs/safety.md).
    for item_id in _risk_items(instrument, sc):
        too_many |= missing[:, index[item_id]]

    with np.errstate(divide="ignore", invalid="ignore"):
        if sc.method == "mean":
            score = total / answered
        else:
            # Prorate: mean of answered items x k, written as total * k / answered (exact for whole results).
            score = np.where(n_missing > 0, total * k / answered, total)
            if sc.missing.rounding == "nearest_integer":
                score = np.where(n_missing > 0, np.floor(score + 0.5), score)
    score[too_many] = np.nan
    if sc.multiply is not None:
        score = score * sc.multiply
    prorated = (n_missing > 0) & ~too_many

    if sc.bands:
        mins = np.array([b.min for b in sc.bands], dtype=np.float64)
        band_index = np.searchsorted(mins, score + _BAND_EPS, side="right").astype(np.int64) - 1
        band_index[too_many] = -1
    else:
        band_index = np.full(score.shape, -1, dtype=np.int64)

    if sc.caseness is not None:
        caseness = np.asarray(compare(sc.caseness.operator, score, float(sc.caseness.cutoff)), dtype=bool)
        caseness &= ~too_many
    else:
        caseness = np.zeros(score.shape, dtype=bool)
    return ScaleScores(
        scale=sc,
        score=score,
        n_missing=n_missing,
        prorated=prorated,
        incomplete=too_many,
        band_index=band_index,
        caseness=caseness,
    )


@functools.lru_cache(maxsize=4096)
def _option_values(values: tuple[int | float, ...]) -> tuple[float, ...]:
    """An item's answer options as floats, the table's type (cached: items are immutable)."""
    return tuple(map(float, values))


# Up to this many options, one comparison per option (below); numpy's own `_isin` compares option
# by option below about 10 x n**0.145 options (n rows: 10 for one row, 74 for a million).
_FEW_OPTIONS = 10


def _is_option(col: FloatArray, options: tuple[float, ...]) -> BoolArray:
    """Which answers in `col` are one of `options`. For a few options (every item of ours has at most
    7), one comparison per option, OR-ed: what `np.isin` itself does then, without its per-call set-up,
    which was a third of the time it took to score one questionnaire (15 us an item)."""
    if len(options) > _FEW_OPTIONS:
        return np.isin(col, np.asarray(options, dtype=np.float64))
    ok = np.zeros(col.shape, dtype=bool)
    for option in options:
        ok |= col == option
    return ok


@functools.lru_cache(maxsize=512)
def _recode_lookup(recode: Recode) -> tuple[FloatArray, FloatArray]:
    """(raw values ascending, scored values aligned with them): the lookup table for `_recoded`."""
    raw = np.array([r for r, _ in recode.pairs], dtype=np.float64)
    scored = np.array([v for _, v in recode.pairs], dtype=np.float64)
    order = np.argsort(raw, kind="stable")
    raw, scored = raw[order], scored[order]
    raw.flags.writeable = False  # cached and shared between calls
    scored.flags.writeable = False
    return raw, scored


def _recoded(recode: Recode, values: FloatArray) -> FloatArray:
    """Recode a column in one pass: each answer -> its scored value; NaN (missing) and non-options -> NaN.

    Non-options never reach a score: `score_table` raises for them before it returns.
    """
    raw, scored = _recode_lookup(recode)
    at = np.minimum(np.searchsorted(raw, values), len(raw) - 1)  # NaN sorts last -> clipped, then no match
    return np.where(raw[at] == values, scored[at], np.nan)


def score_response(
    instrument: Instrument,
    answers: Mapping[str, int | float | None],
    respondent_id: str = "response",
    *,
    incomplete: Incomplete = "raise",
) -> ResponseScore:
    """Score one questionnaire given as ``{item_id: value or None}``; absent items count as missing."""
    index = {item_id: j for j, item_id in enumerate(instrument.item_ids)}
    row = np.full((1, len(index)), np.nan, dtype=np.float64)
    for item_id, value in answers.items():
        if item_id not in index:
            raise ScoringError(
                f"respondent {respondent_id!r}: item {item_id!r} is not an item of {instrument.id} "
                f"(items: {', '.join(instrument.item_ids)}); value {value!r}",
                respondent_id=respondent_id,
                row=0,
                item=item_id,
                value=value,
            )
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise ScoringError(
                f"respondent {respondent_id!r}: item {item_id}: value {value!r} is not a number",
                respondent_id=respondent_id,
                row=0,
                item=item_id,
                value=value,
            )
        row[0, index[item_id]] = float(value)
        if math.isnan(row[0, index[item_id]]):
            # NaN is how the table path spells "missing"; here missing must be spelled None.
            raise ScoringError(
                f"respondent {respondent_id!r}: item {item_id}: value nan is not an answer; "
                "use None for a missing answer",
                respondent_id=respondent_id,
                row=0,
                item=item_id,
                value=value,
            )
    return score_table(instrument, row, [respondent_id], incomplete=incomplete).response(0)
