"""The benchmark statistics on inputs whose answers are known by hand."""

from __future__ import annotations

import pytest

from bench import stats
from bench.run import speedup_shape


def test_percentile_interpolates_between_ranks_like_numpy_default() -> None:
    values = [40.0, 10.0, 30.0, 20.0]  # unsorted on purpose
    assert stats.percentile(values, 0) == 10.0
    assert stats.percentile(values, 50) == 25.0  # halfway between 20 and 30
    assert stats.percentile(values, 100) == 40.0
    # rank (4 - 1) * 0.95 = 2.85: 30 + 0.85 * (40 - 30)
    assert stats.percentile(values, 95) == pytest.approx(38.5)


def test_percentiles_of_one_to_a_hundred() -> None:
    values = [float(v) for v in range(1, 101)]
    assert stats.percentile(values, 50) == pytest.approx(50.5)
    assert stats.percentile(values, 99) == pytest.approx(99.01)
    assert stats.median([3.0, 1.0, 2.0]) == 2.0


def test_percentile_refuses_no_values_and_out_of_range() -> None:
    with pytest.raises(ValueError, match="no values"):
        stats.percentile([], 50)
    with pytest.raises(ValueError, match="between 0 and 100"):
        stats.percentile([1.0], 101)


def test_latency_summary_is_in_milliseconds() -> None:
    summary = stats.latency_ms([0.001, 0.002, 0.003, 0.004, 0.010])
    assert summary == {"p50": 3.0, "p95": 8.8, "p99": 9.76, "mean": 4.0, "max": 10.0}


def test_ratio_rounds_and_refuses_a_baseline_of_zero() -> None:
    assert stats.ratio(30.0, 120.0) == 0.25
    assert stats.ratio(2.0, 3.0) == 0.6667
    assert stats.ratio(2.0, 3.0, digits=1) == 0.7
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="baseline must be a positive number"):
            stats.ratio(1.0, bad)


def test_speedup_result_gets_the_suites_shape_with_ratio_from_the_rates() -> None:
    result = {
        "rows": 10,
        "vectorised": {"rows_per_sec": 5000},
        "per_row_loop": {"rows_per_sec": 40},
        "speedup": 124.9,  # computed from unrounded rates: the suite reports the figures' ratio
        "goal_speedup": 50.0,
        "meets_goal": True,
    }
    shaped = speedup_shape(result, "vectorised", "per_row_loop", "rows_per_sec")
    assert shaped["baseline"] == {"path": "per_row_loop", "rows_per_sec": 40}
    assert shaped["ratio"] == 125.0
    assert shaped["goal"] == {"min_ratio": 50.0}
    assert shaped["goal_met"] is True
    assert "per_row_loop" not in shaped and "speedup" not in shaped
    assert shaped["rows"] == 10 and shaped["vectorised"] == {"rows_per_sec": 5000}
