"""`spacebetween bench [--quick] [--out FILE]`: every benchmark of the suite in one run, one JSON document.

Workloads (docs/performance.md says what each measures and why):

- submit: questionnaire submissions over HTTP to gunicorn with production settings, on SQLite and on
  PostgreSQL; baseline: the same server's `GET /healthz`; beside them, floors: the least a durable API
  write can be on this stack, on the same server (bench/submit.py);
- caseload: the caseload and client pages with 15 and 60 clients of two years' weekly data; query
  counts and latency; baseline: `GET /healthz` through the same test client (bench/caseload.py);
- score: the column scoring path against a per-row loop (bench/score.py);
- analytics: the network insights batch against a pandas group-by-apply (bench/analytics.py);
- transcripts: coding session transcripts, the batch against a per-utterance loop of the same model
  (bench/transcripts.py).

Each workload reports its figures, the baseline measured in the same run, `ratio` (computed from the
reported figures) and, where issue #6 sets one, `goal` and `goal_met`. The document also names the
machine and the source commit. It is printed on stdout and written to FILE (default
var/bench/bench-<UTC time>.json). Exit status 1 when a workload failed; its entry says why.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import harness, stats

WORKLOADS = ("submit", "caseload", "score", "analytics", "transcripts")
DEFAULT_SEED = 7
# score and analytics report a fast side and a slow (baseline) side by rate; (fast, slow, rate key).
SPEEDUP_SIDES = {
    "score": ("vectorised", "per_row_loop", "rows_per_sec"),
    "analytics": ("batch", "pandas", "episodes_per_sec"),
}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    try:
        proc = subprocess.run(  # noqa: S603 - fixed git arguments
            ["git", *args],  # noqa: S607 - git from PATH, like a developer's shell
            cwd=harness.ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def machine() -> dict[str, Any]:
    pages = os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 0
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_bytes": pages * os.sysconf("SC_PAGE_SIZE") if pages else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        # Other work on the machine slows every figure alike; the ratios are meant to absorb it.
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": {p: _version(p) for p in ("django", "gunicorn", "psycopg", "numpy", "polars", "pandas")},
    }


def source() -> dict[str, Any]:
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": _git("rev-parse", "HEAD"),
        "uncommitted_changes": bool(status) if status is not None else None,
    }


def speedup_shape(result: dict[str, Any], fast: str, slow: str, rate: str) -> dict[str, Any]:
    """A fast-vs-slow result (score, analytics) in the suite's shape: the slow side as `baseline`, and
    `ratio` recomputed from the two reported rates. A result that has the shape already is kept."""
    if "baseline" in result and "ratio" in result:
        return result
    out = {k: v for k, v in result.items() if k not in (slow, "speedup", "goal_speedup", "meets_goal")}
    out["baseline"] = {"path": slow, **result[slow]}
    out["ratio"] = stats.ratio(result[fast][rate], result[slow][rate], digits=1)
    out["ratio_of"] = f"{fast} {rate} / {slow} {rate}"
    out["goal"] = {"min_ratio": result["goal_speedup"]}
    out["goal_met"] = bool(result["meets_goal"])
    return out


def _module_runner(name: str) -> Callable[..., dict[str, Any]] | None:
    """The workload's `run`, imported only now (None when its module is not in this checkout)."""
    module_name = f"bench.{name}"
    if importlib.util.find_spec(module_name) is None:
        return None
    run: Callable[..., dict[str, Any]] = importlib.import_module(module_name).run
    return run


def run_workload(name: str, *, quick: bool, seed: int) -> dict[str, Any]:
    runner = _module_runner(name)
    if runner is None:
        return {"status": "not available", "reason": f"bench/{name}.py is not in this checkout"}
    began = time.perf_counter()
    result = runner(quick=quick) if name == "score" else runner(quick=quick, seed=seed)
    if name in SPEEDUP_SIDES:
        result = speedup_shape(result, *SPEEDUP_SIDES[name])
    result["workload_s"] = round(time.perf_counter() - began, 2)
    return result


def main(argv: list[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="spacebetween bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for CI: under a minute on 2 cores")
    parser.add_argument(
        "--out", type=Path, help="also write the JSON here (default var/bench/bench-<time>.json)"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="synthetic data seed (default 7)")
    parser.add_argument(
        "--only",
        help=f"comma-separated workloads to run (default all: {','.join(WORKLOADS)})",
    )
    args = parser.parse_args(args_list)
    selected = WORKLOADS if not args.only else tuple(w.strip() for w in args.only.split(",") if w.strip())
    unknown = [w for w in selected if w not in WORKLOADS]
    if unknown or not selected:
        parser.error(
            f"--only: unknown workload {', '.join(unknown) or '(none)'}; choose from {', '.join(WORKLOADS)}"
        )

    started = dt.datetime.now(dt.UTC)
    out_path = args.out or harness.ROOT / "var" / "bench" / f"bench-{started:%Y%m%dT%H%M%SZ}.json"
    document: dict[str, Any] = {
        "benchmark": "spacebetween bench",
        "command": " ".join(["spacebetween bench", *args_list]),
        "mode": "quick" if args.quick else "full",
        "seed": args.seed,
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "source": source(),
        "workloads": {},
    }
    began = time.perf_counter()
    failed = False
    for name in selected:
        print(f"spacebetween bench: {name} ...", file=sys.stderr, flush=True)
        try:
            document["workloads"][name] = run_workload(name, quick=args.quick, seed=args.seed)
        except Exception as exc:  # one failed workload must not hide the others' figures
            failed = True
            document["workloads"][name] = {
                "status": "failed",
                "error": f"{type(exc).__name__}: {exc}"[-4000:],
                "traceback": traceback.format_exc()[-4000:],
            }
    document["seconds"] = round(time.perf_counter() - began, 1)
    text = json.dumps(document, indent=2)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(text + "\n")
    print(text)
    print(f"spacebetween bench: written to {out_path}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
