"""Properties every scoring must have, over many generated inputs (hypothesis).

- bounds: a score lies in the scale's range and inside the band it is given;
- monotonicity: raising one plain item by one step raises a sum by exactly that step, and lowers it
  for a reverse-keyed item;
- reverse-key symmetry: reversing an item equals answering it (min + max - value) on the plain scale;
- one path: `score_response` on each row equals that row of `score_table`;
- risk: the PHQ-9 item-9 flag is raised exactly when item 9 > 0, even when the total cannot be scored.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spacebetween.core import instruments as catalogue
from spacebetween.core.instruments import Instrument, build_instrument
from spacebetween.core.scoring import score_response, score_table
from tests.core.conftest import make_doc

PHQ9 = catalogue.get("phq9")
TOTAL = PHQ9.scale("total")

phq9_rows = st.lists(st.integers(0, 3), min_size=9, max_size=9)


def _phq_table(rows: list[list[int]]) -> np.ndarray:
    table = np.array(rows, dtype=float).reshape(len(rows), 9)
    return np.hstack([table, np.full((len(rows), 1), np.nan)])  # difficulty item unanswered


@given(st.lists(phq9_rows, min_size=1, max_size=30))
def test_phq9_score_in_range_and_inside_its_band(rows: list[list[int]]) -> None:
    total = score_table(PHQ9, _phq_table(rows)).scales["total"]
    assert np.all((total.score >= TOTAL.range[0]) & (total.score <= TOTAL.range[1]))
    for score, bi in zip(total.score.tolist(), total.band_index.tolist(), strict=True):
        band = TOTAL.bands[bi]
        assert band.min <= score <= band.max
    assert total.caseness.tolist() == [s >= 10 for s in total.score.tolist()]
    assert total.score.tolist() == [sum(r) for r in rows]


@given(phq9_rows, st.integers(0, 8))
def test_phq9_raising_one_item_raises_the_total_by_one(row: list[int], j: int) -> None:
    if row[j] == 3:
        return
    higher = list(row)
    higher[j] += 1
    scores = score_table(PHQ9, _phq_table([row, higher])).scales["total"].score
    assert scores[1] - scores[0] == 1


@given(st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=9, max_size=9))
def test_phq9_risk_flag_never_dropped(row: list[int | None]) -> None:
    answers = {f"phq9_{i}": v for i, v in enumerate(row, start=1)}
    result = score_response(PHQ9, answers, incomplete="nan")
    expected = None if row[8] is None else row[8] > 0
    assert result.risk["phq9_9"] is expected
    scored = result.scales["total"].score is not None
    assert scored == (None not in row)


# --- synthetic instruments: reverse keys, means, prorating -----------------------------------------

N_ITEMS = 5
VALUES = (1, 2, 3, 4, 5)


def _build(**kwargs: Any) -> Instrument:
    return build_instrument(make_doc(n_items=N_ITEMS, values=VALUES, **kwargs), Path("synthetic.json"))


PLAIN_SUM = _build(method="sum")
REVERSED_SUM = _build(method="sum", reverse=["t_2", "t_5"])
PRORATED_MEAN = _build(method="mean", reverse=["t_1"], max_missing=2)
PRORATED_SUM = _build(method="sum", reverse=["t_3"], max_missing=2, prorate=True, rounding="nearest_integer")

items_row = st.lists(st.sampled_from(VALUES), min_size=N_ITEMS, max_size=N_ITEMS)


@given(items_row)
def test_reverse_keying_equals_answering_the_mirror_value(row: list[int]) -> None:
    mirrored = [(1 + 5 - v) if i in (1, 4) else v for i, v in enumerate(row)]
    reversed_score = score_table(REVERSED_SUM, np.array([row], dtype=float)).scales["total"].score[0]
    plain_score = score_table(PLAIN_SUM, np.array([mirrored], dtype=float)).scales["total"].score[0]
    assert reversed_score == plain_score


@given(items_row, st.integers(0, N_ITEMS - 1))
def test_raising_an_item_moves_the_score_in_its_keyed_direction(row: list[int], j: int) -> None:
    if row[j] == 5:
        return
    higher = list(row)
    higher[j] += 1
    scores = score_table(REVERSED_SUM, np.array([row, higher], dtype=float)).scales["total"].score
    expected = -1 if f"t_{j + 1}" in REVERSED_SUM.scale("total").reverse else 1
    assert scores[1] - scores[0] == expected


@st.composite
def rows_with_allowed_missing(draw: st.DrawFn) -> list[float]:
    row: list[float] = [float(v) for v in draw(items_row)]
    for j in draw(st.sets(st.integers(0, N_ITEMS - 1), max_size=2)):
        row[j] = math.nan
    return row


@pytest.mark.parametrize("inst", [PRORATED_MEAN, PRORATED_SUM], ids=["mean", "prorated_sum"])
@settings(max_examples=60)
@given(rows=st.lists(rows_with_allowed_missing(), min_size=1, max_size=12))
def test_single_response_path_equals_table_path(inst: Instrument, rows: list[list[float]]) -> None:
    table = score_table(inst, np.array(rows), [f"r{i}" for i in range(len(rows))])
    sc = table.scales["total"]
    for i, row in enumerate(rows):
        answers: dict[str, int | float | None] = {
            f"t_{j + 1}": (None if math.isnan(v) else int(v)) for j, v in enumerate(row)
        }
        single = score_response(inst, answers, f"r{i}").scales["total"]
        assert single.score == pytest.approx(float(sc.score[i]))
        assert single.n_missing == int(sc.n_missing[i]) == sum(math.isnan(v) for v in row)
        assert single.prorated == bool(sc.prorated[i])
        lo, hi = inst.scale("total").range
        assert lo <= single.score <= hi  # type: ignore[operator]


@given(rows=st.lists(rows_with_allowed_missing(), min_size=1, max_size=12))
def test_prorated_mean_is_the_mean_of_answered_reversed_items(rows: list[list[float]]) -> None:
    scores = score_table(PRORATED_MEAN, np.array(rows)).scales["total"].score
    for row, score in zip(rows, scores.tolist(), strict=True):
        keyed = [6 - v if j == 0 else v for j, v in enumerate(row) if not math.isnan(v)]
        assert score == pytest.approx(sum(keyed) / len(keyed))


@given(
    answers=st.lists(st.sampled_from([0.0, 1.0, 2.5, 3.0, 7.0, 11.0, 12.0, -1.0]), min_size=1, max_size=30),
    n_options=st.integers(min_value=1, max_value=14),
)
def test_an_answer_is_an_option_exactly_when_numpy_says_so(answers: list[float], n_options: int) -> None:
    """Both of `_is_option`'s ways (a comparison per option; np.isin past a few options) agree with
    np.isin itself."""
    from spacebetween.core.scoring import _is_option

    options = tuple(float(v) for v in range(n_options))
    col = np.asarray(answers, dtype=np.float64)
    assert _is_option(col, options).tolist() == np.isin(col, options).tolist()
