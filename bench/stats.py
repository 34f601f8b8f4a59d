"""The few statistics the benchmarks report: percentiles of latencies, rates and ratios."""

from __future__ import annotations

import math
from collections.abc import Sequence

LATENCY_PERCENTILES = (50, 95, 99)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the closest ranks: Hyndman & Fan (1996) definition
    7, numpy's default, so figures match what anyone recomputes from the raw timings."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be between 0 and 100, not {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ratio(value: float, baseline: float, digits: int = 4) -> float:
    """value / baseline, rounded; a baseline of zero or less (or not finite) is an error, not infinity."""
    if not math.isfinite(baseline) or baseline <= 0:
        raise ValueError(f"baseline must be a positive number, not {baseline}")
    return round(value / baseline, digits)


def latency_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99, mean and max of per-request latencies given in seconds, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    summary = {f"p{q}": round(percentile(ms, q), 2) for q in LATENCY_PERCENTILES}
    summary["mean"] = round(sum(ms) / len(ms), 2)
    summary["max"] = round(max(ms), 2)
    return summary


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)
