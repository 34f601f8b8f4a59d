"""`spacebetween bench --quick` end to end: the real command in a subprocess (it starts gunicorn on its own
scratch databases). Checks the document, not the speed: every figure is there, every ratio is the
ratio of the reported figures, no request failed, every acknowledged submission was stored, and the
caseload page needs the same number of queries for 15 clients as for 60. Timings are never asserted;
docs/performance.md has the figures of a full run.

Under CI=true an unreachable PostgreSQL fails the run; elsewhere its entry may say "skipped".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

RUN_TIMEOUT = 900  # seconds; about one minute on the reference machine, far more on a loaded one
LATENCY_KEYS = {"p50", "p95", "p99", "mean", "max"}
MACHINE_KEYS = {"cpu_count", "cpu_model", "memory_bytes", "python", "platform"}
CASELOAD_SIZES = ("15", "60")


def _ratio_of(value: float, baseline: float) -> Any:
    return pytest.approx(value / baseline, rel=1e-3, abs=1e-4)


def _check_load(figures: dict[str, Any], what: str) -> None:
    assert figures["requests"] > 0, what
    assert figures["throughput_per_s"] > 0, what
    assert set(figures["latency_ms"]) == LATENCY_KEYS, what
    lat = figures["latency_ms"]
    assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"], what
    assert figures["errors"] == 0, (what, figures["status_counts"])


def _check_submit(entry: dict[str, Any], database: str) -> None:
    submissions, baseline = entry["submissions"], entry["baseline"]
    _check_load(submissions, f"{database} submissions")
    _check_load(baseline, f"{database} baseline")
    assert submissions["status_counts"] == {"201": submissions["requests"]}
    assert submissions["stored_responses"] == submissions["requests"]
    assert entry["database"]["engine"] == database
    assert entry["ratio"] == _ratio_of(submissions["throughput_per_s"], baseline["throughput_per_s"])
    assert entry["goal"] == {"min_ratio_to_api_write": 0.35, "max_p99_ms": 250.0, "max_errors": 0}
    api_write = entry["floors"]["api_write"]["throughput_per_s"]
    assert entry["ratio_to_api_write"] == _ratio_of(submissions["throughput_per_s"], api_write)
    assert isinstance(entry["goal_met"], bool)
    # Measured in alternating blocks: one round per block pair, each with its own ratio.
    assert len(entry["rounds"]) == 5
    for r in entry["rounds"]:
        assert r["baseline_per_s"] > 0 and r["submissions_per_s"] > 0
        assert r["ratio"] == _ratio_of(r["submissions_per_s"], r["baseline_per_s"])
    per_round = [r["submissions_per_s"] for r in entry["rounds"]]
    assert min(per_round) <= submissions["throughput_per_s"] <= max(per_round)
    # The floors, measured in the same rounds on the same server: every request answered, every
    # acknowledged floor write stored, each ratio the ratio of its figures.
    floors = entry["floors"]
    assert set(floors) == {"django_write", "api_read", "api_write"}
    for name, floor in floors.items():
        _check_load(floor, f"{database} floor {name}")
        assert floor["status_counts"] == {"201": floor["requests"]}, name
        assert floor["warmup_errors"] == 0, name
        assert floor["ratio"] == _ratio_of(floor["throughput_per_s"], baseline["throughput_per_s"]), name
        assert len(floor["rounds_ratio"]) == len(entry["rounds"]), name
    writes = floors["django_write"]["requests"] + floors["api_write"]["requests"]
    assert entry["floor_writes_acknowledged"] == writes
    assert entry["floor_rows_stored"] == writes


@pytest.mark.e2e
def test_bench_quick_reports_every_figure_with_its_baseline(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "spacebetween.cli", "bench", "--quick", "--out", str(out)],
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-5000:] + proc.stdout[-5000:]
    document = json.loads(proc.stdout)
    assert json.loads(out.read_text()) == document
    assert document["mode"] == "quick"
    assert set(document["machine"]) >= MACHINE_KEYS
    assert document["machine"]["cpu_count"] >= 1
    workloads = document["workloads"]
    assert set(workloads) == {"submit", "caseload", "score", "analytics", "transcripts"}

    submit = workloads["submit"]
    _check_submit(submit["sqlite"], "sqlite")
    if submit["postgresql"].get("status") == "skipped":
        assert os.environ.get("CI", "").lower() not in {"1", "true", "yes"}, "PostgreSQL must run in CI"
    else:
        _check_submit(submit["postgresql"], "postgresql")

    caseload = workloads["caseload"]
    pages = caseload["pages"]
    for page in ("caseload", "client"):
        for size in CASELOAD_SIZES:
            figures = pages[page]["by_caseload_size"][size]
            assert figures["median_ms"] > 0 and figures["queries"] > 0, (page, size)
        full = pages[page]["by_caseload_size"]["60"]
        assert caseload["ratio"][page] == _ratio_of(full["median_ms"], caseload["baseline"]["median_ms"])
    counts = {size: pages["caseload"]["by_caseload_size"][size]["queries"] for size in CASELOAD_SIZES}
    assert counts["15"] == counts["60"], f"the caseload page's queries grow with the caseload: {counts}"
    by_sessions = pages["client"]["by_sessions"]
    assert set(by_sessions) == {"5", "26"}
    assert by_sessions["5"]["queries"] == by_sessions["26"]["queries"], (
        "client page queries grow with sessions"
    )
    assert caseload["client_ratio"] == _ratio_of(
        by_sessions["26"]["median_ms"], caseload["baseline"]["median_ms"]
    )
    assert isinstance(caseload["client_ratio_goal_met"], bool)  # a timing: reported, never asserted
    assert caseload["goal_met"] is True
    assert caseload["data"]["rows"]["responses"] > 0

    score = workloads["score"]
    assert score["ratio"] == pytest.approx(
        score["vectorised"]["rows_per_sec"] / score["baseline"]["rows_per_sec"], abs=0.05
    )
    assert isinstance(score["goal_met"], bool)

    analytics = workloads["analytics"]
    if analytics.get("status") != "not available":
        assert analytics["ratio"] == pytest.approx(
            analytics["batch"]["episodes_per_sec"] / analytics["baseline"]["episodes_per_sec"], abs=0.05
        )
        assert isinstance(analytics["goal_met"], bool)

    transcripts = workloads["transcripts"]
    assert transcripts["utterances"] > 0 and transcripts["baseline"]["path"] == "per_utterance_loop"
    assert transcripts["ratio"] == pytest.approx(
        transcripts["vectorised"]["utterances_per_sec"] / transcripts["baseline"]["utterances_per_sec"],
        abs=0.05,
    )
    assert transcripts["goal"] == {"min_utterances_per_sec": 2000}
    assert transcripts["goal_met"] == (transcripts["vectorised"]["utterances_per_sec"] >= 2000)
