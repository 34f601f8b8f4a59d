"""Benchmark: questionnaire submissions over HTTP to the real server, against its trivial endpoint.

For each database (SQLite, PostgreSQL): a scratch database, migrated; open PHQ-9 assignments created up
front through the services, spread over many clients' episodes (each submission refreshes its episode's
insights, as in a practice); gunicorn with production settings and the sync workers docs/operations.md
recommends for the database (`harness.gunicorn_workers`). Then a fixed number of clients, each a
thread with its own `http.client` connection (gunicorn's sync workers close it after every answer,
so every request connects anew; the latency includes that), send:

- baseline: `GET /healthz` (no database, no session): the framework's ceiling on this machine;
- submissions: `POST /api/v1/assignments/{id}/responses` with a synthetic PHQ-9 (bench/score.py's
  seeded generator, so some answers endorse item 9 and raise risk flags, as real ones do).

- floors (bench/floor_site.py), as many as the submissions: the least a durable API write can be on
  this stack (a Django view with one INSERT; the key and the request schema without a write; the two
  together), so that the gap between a submission and `/healthz` can be split into what the framework
  and the database cost and what the submission itself does. The server loads the product's settings
  unchanged with these URLs after its own (bench/floor_settings.py).

All are measured in `ROUNDS` alternating rounds (baseline, each floor, submissions, then again), each
block a fifth of its requests, and each figure is over all its blocks: the shared machine's speed
drifts (measured: `/healthz` 30% slower a minute later, docs/performance.md), and alternating puts
the drift on all alike instead of on whichever ran last. Each round's own ratios are reported beside.

Per-request latency is measured around send and full read; any answer other than 2xx, or a failed
connection, is an error. Afterwards the responses (and floor rows) stored in the database are
counted, so an acknowledged write that was not stored shows up. Goals: submission throughput at
least 0.35 of `api_write`'s (one authenticated durable write on the same stack, in the same run),
p99 under 250 ms at concurrency 8, no errors, every acknowledged write stored. (The first goal, 30% of
`/healthz`, measured the stack rather than the product and is retired: docs/performance.md.)

    python -m bench.submit [--quick]      # both databases; JSON on stdout
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import harness, stats

CONCURRENCY = 8
# Each key makes at most this many requests in the whole run: under the API's limit per key per clock
# minute (API_KEY_RATE_PER_MINUTE, default 120), so any 429 is the server's error, not ours (one is
# known: concurrent requests opening a key's new minute window; docs/performance.md).
REQUESTS_PER_KEY = 100
SUBMISSIONS_PER_EPISODE = 10
WARMUP_SUBMISSIONS = 20
WARMUP_HEALTH = 50
SIZES = {  # (submissions, health requests)
    "quick": (120, 1000),
    "full": (3000, 15000),
}
ROUNDS = 5
# Against the floor `api_write`: what any authenticated durable API write costs here (docs/performance.md).
GOAL_MIN_RATIO_TO_API_WRITE = 0.35
GOAL_MAX_P99_MS = 250.0
DATABASES = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Load:
    """What one block of requests gave: each request's latency (seconds) and status (0: no answer)."""

    latencies: list[float]
    statuses: list[int]
    seconds: float
    concurrency: int

    @property
    def ok(self) -> int:
        return sum(200 <= s < 300 for s in self.statuses)

    @property
    def errors(self) -> int:
        """Requests answered with anything but 2xx, or not answered at all."""
        return len(self.statuses) - self.ok


def drive(port: int, calls: list[Call], concurrency: int) -> Load:
    """Send `calls` from `concurrency` threads, each with its own persistent connection."""
    n = len(calls)
    latencies = [0.0] * n
    statuses = [0] * n
    lock = threading.Lock()
    cursor = iter(range(n))
    start_line = threading.Barrier(concurrency + 1)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start_line.wait()
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                break
            call = calls[i]
            headers = dict(harness.PROXY_HEADERS, **dict(call.headers))
            began = time.perf_counter()
            try:
                conn.request(call.method, call.path, body=call.body, headers=headers)
                response = conn.getresponse()
                response.read()
                statuses[i] = response.status
            except (OSError, http.client.HTTPException):
                statuses[i] = 0  # no answer at all: an error like any other
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            latencies[i] = time.perf_counter() - began
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return Load(latencies, statuses, time.perf_counter() - began, concurrency)


def throughput(loads: list[Load]) -> float:
    """Answered requests (2xx) per second over `loads` together."""
    return sum(load.ok for load in loads) / sum(load.seconds for load in loads)


def figures(loads: list[Load]) -> dict[str, Any]:
    """The figures of `loads` taken together: one workload measured in several blocks."""
    statuses = [s for load in loads for s in load.statuses]
    counts: dict[str, int] = {}
    for s in statuses:
        counts[str(s) if s else "no answer"] = counts.get(str(s) if s else "no answer", 0) + 1
    return {
        "requests": len(statuses),
        "concurrency": loads[0].concurrency,
        "seconds": round(sum(load.seconds for load in loads), 3),
        "throughput_per_s": round(throughput(loads), 1),
        "latency_ms": stats.latency_ms([t for load in loads for t in load.latencies]),
        "errors": sum(load.errors for load in loads),
        "status_counts": dict(sorted(counts.items())),
    }


def blocks(items: list[Any], rounds: int) -> list[list[Any]]:
    """`items` in `rounds` consecutive blocks of (nearly) equal size, none empty."""
    if not 0 < rounds <= len(items):
        raise ValueError(f"cannot split {len(items)} requests into {rounds} blocks")
    size, extra = divmod(len(items), rounds)
    bounds = [r * size + min(r, extra) for r in range(rounds + 1)]
    return [items[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def _submission_calls(setup: dict[str, Any], seed: int) -> list[Call]:
    from bench.score import synthetic_phq9
    from spacebetween.core import instruments as catalogue

    item_ids = catalogue.get("phq9").item_ids
    ids, keys = setup["assignments"], setup["keys"]
    answers = synthetic_phq9(len(ids), seed=seed).astype(int).tolist()
    return [
        Call(
            "POST",
            f"/api/v1/assignments/{assignment_id}/responses",
            json.dumps({"answers": dict(zip(item_ids, row, strict=True))}).encode(),
            (
                ("Authorization", f"Bearer {keys[i // REQUESTS_PER_KEY]}"),
                ("Content-Type", "application/json"),
            ),
        )
        for i, (assignment_id, row) in enumerate(zip(ids, answers, strict=True))
    ]


@dataclass(frozen=True)
class Floor:
    name: str
    path: str
    authenticated: bool
    what: str


FLOORS = (
    Floor("django_write", "/bench/floor/write", False, "Django view: parse the JSON body, a durable INSERT"),
    Floor("api_read", "/bench/floor/api/read", True, "API: key authentication and request schema, no write"),
    Floor("api_write", "/bench/floor/api/write", True, "API: key, request schema and one durable INSERT"),
)
WRITING_FLOORS = ("django_write", "api_write")  # each acknowledged request: one row of FLOOR_TABLE
FLOOR_TABLE = "bench_floor_row"
FLOOR_SETTINGS = "bench.floor_settings"
WARMUP_FLOOR = 20


def _floor_calls(floor: Floor, template: Call, n: int) -> list[Call]:
    """`n` requests to `floor`, each with a submission's body (and key, where it authenticates)."""
    headers = template.headers if floor.authenticated else (("Content-Type", "application/json"),)
    return [Call("POST", floor.path, template.body, headers)] * n


def _ratios(loads: list[Load], baseline: list[Load]) -> list[float]:
    """Each round's ratio: the throughput of a block of `loads` over that of the baseline's beside it."""
    return [stats.ratio(throughput([a]), throughput([b])) for a, b in zip(loads, baseline, strict=True)]


def goal_met(submissions: dict[str, Any], ratio_to_api_write: float) -> bool:
    return (
        ratio_to_api_write >= GOAL_MIN_RATIO_TO_API_WRITE
        and submissions["latency_ms"]["p99"] < GOAL_MAX_P99_MS
        and submissions["errors"] == 0
        and submissions["stored_responses"] == submissions["requests"] - submissions["errors"]
    )


def run_database(kind: str, *, quick: bool, seed: int, workdir: Path) -> dict[str, Any]:
    n_submit, n_health = SIZES["quick" if quick else "full"]
    data_dir = workdir / f"submit-{kind}"
    data_dir.mkdir(parents=True, exist_ok=True)
    with harness.scratch_database(kind, data_dir, "submit") as (url, database):
        # The product's production settings, with the floors' URLs after its own.
        env = {**harness.bench_env(data_dir, url, production=True), "DJANGO_SETTINGS_MODULE": FLOOR_SETTINGS}
        began = time.perf_counter()
        setup = harness.run_child(env, "bench.submit", "setup", str(WARMUP_SUBMISSIONS + n_submit), str(seed))
        preparation = {"migrate_and_setup_s": round(time.perf_counter() - began, 2)}
        calls = _submission_calls(setup, seed)
        health = [Call("GET", "/healthz")]
        workers = harness.gunicorn_workers(kind)
        baseline: list[Load] = []
        submissions: list[Load] = []
        floors: dict[str, list[Load]] = {floor.name: [] for floor in FLOORS}
        floor_blocks = {
            floor.name: blocks(_floor_calls(floor, calls[0], n_submit), ROUNDS) for floor in FLOORS
        }
        with harness.Server(env, data_dir / "gunicorn.log", workers) as server:
            # Warm-up: every worker has imported, connected and compiled before the clock starts.
            drive(server.port, health * WARMUP_HEALTH, CONCURRENCY)
            warm = drive(server.port, calls[:WARMUP_SUBMISSIONS], CONCURRENCY)
            warm_floors = {
                floor.name: drive(server.port, _floor_calls(floor, calls[0], WARMUP_FLOOR), CONCURRENCY)
                for floor in FLOORS
            }
            rounds = zip(
                blocks(health * n_health, ROUNDS), blocks(calls[WARMUP_SUBMISSIONS:], ROUNDS), strict=True
            )
            for r, (health_block, submit_block) in enumerate(rounds):
                baseline.append(drive(server.port, health_block, CONCURRENCY))
                for floor in FLOORS:
                    floors[floor.name].append(drive(server.port, floor_blocks[floor.name][r], CONCURRENCY))
                submissions.append(drive(server.port, submit_block, CONCURRENCY))
        stored = harness.count_rows(url, "measures_response")
        floor_rows = harness.count_rows(url, FLOOR_TABLE)
    submitted = figures(submissions)
    ratio = stats.ratio(throughput(submissions), throughput(baseline))
    ratio_to_api_write = stats.ratio(throughput(submissions), throughput(floors["api_write"]))
    floor_writes_ok = sum(load.ok for name in WRITING_FLOORS for load in floors[name])
    warm_floor_writes = sum(warm_floors[name].ok for name in WRITING_FLOORS)
    return {
        "database": database,
        "server": {
            "gunicorn_workers": workers,
            "worker_class": "sync",
            "settings": "production",
            "settings_module": f"{FLOOR_SETTINGS} (the product's, with the floors' URLs after its own)",
        },
        "submissions": {
            **submitted,
            "endpoint": "POST /api/v1/assignments/{id}/responses (PHQ-9)",
            "warmup_errors": warm.errors,
            # Rows in the database besides the warm-up's: must equal the 2xx answers.
            "stored_responses": stored - warm.ok,
        },
        "baseline": {**figures(baseline), "endpoint": "GET /healthz"},
        "ratio": ratio,
        "ratio_of": "submission throughput / baseline throughput, each over its blocks",
        "ratio_to_api_write": ratio_to_api_write,
        "rounds": [
            {
                "baseline_per_s": round(throughput([b]), 1),
                "submissions_per_s": round(throughput([s]), 1),
                "ratio": r,
            }
            for b, s, r in zip(baseline, submissions, _ratios(submissions, baseline), strict=True)
        ],
        "floors": {
            floor.name: {
                **figures(floors[floor.name]),
                "endpoint": f"POST {floor.path}",
                "what": floor.what,
                "warmup_errors": warm_floors[floor.name].errors,
                "ratio": stats.ratio(throughput(floors[floor.name]), throughput(baseline)),
                "rounds_ratio": _ratios(floors[floor.name], baseline),
            }
            for floor in FLOORS
        },
        # Rows the writing floors left besides their warm-up's: must equal their 2xx answers.
        "floor_rows_stored": floor_rows - warm_floor_writes,
        "floor_writes_acknowledged": floor_writes_ok,
        "goal": {
            "min_ratio_to_api_write": GOAL_MIN_RATIO_TO_API_WRITE,
            "max_p99_ms": GOAL_MAX_P99_MS,
            "max_errors": 0,
        },
        "goal_met": goal_met({**submitted, "stored_responses": stored - warm.ok}, ratio_to_api_write),
        "preparation": preparation,
    }


def run(*, quick: bool, seed: int = 7) -> dict[str, Any]:
    """Both databases; PostgreSQL is skipped when unreachable, except under CI=true where that fails."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="sb-bench-submit-") as tmp:
        for kind in DATABASES:
            try:
                out[kind] = run_database(kind, quick=quick, seed=seed, workdir=Path(tmp))
            except harness.PostgresUnavailable as exc:
                if harness.in_ci():
                    raise
                out[kind] = {"status": "skipped", "reason": str(exc)}
    return out


# ------------------------------------------------------------------ children, under Django (scratch DB)


def setup(n_assignments: int, seed: int) -> dict[str, Any]:
    """Migrate; a practice with open PHQ-9 assignments (through the services) and enough API keys."""
    import datetime as dt
    import random

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from bench import floor_site

    floor_site.create_table()
    from spacebetween.accounts.models import Role
    from spacebetween.accounts.services import user_create
    from spacebetween.answering.services import assignment_create
    from spacebetween.api.services import api_key_create
    from spacebetween.clients import services as clinical
    from spacebetween.demo import vocabulary
    from spacebetween.practice.services import practice_create

    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not secrets
    practice = practice_create(name="Benchmark practice")
    admin, therapist = (
        user_create(
            practice=practice, email=f"{role}@bench.test", full_name=role.title(), role=role, password=None
        )
        for role in (Role.ADMIN, Role.THERAPIST)
    )
    today = dt.date.today()
    episodes = []
    for _ in range(math.ceil(n_assignments / SUBMISSIONS_PER_EPISODE)):
        client = clinical.client_create(
            actor=therapist,
            given_name=rng.choice(vocabulary.GIVEN_NAMES),
            family_name=rng.choice(vocabulary.FAMILY_NAMES),
        )
        episodes.append(
            clinical.episode_open(
                actor=therapist,
                client=client,
                referral_reason=rng.choice(vocabulary.INDIVIDUAL_REASONS),
                started_on=today,
            )
        )
    now = dt.datetime.now(dt.UTC)
    ids = [
        assignment_create(
            actor=therapist, episode=episodes[i % len(episodes)], instrument_id="phq9", due_at=now, now=now
        ).pk
        for i in range(n_assignments)
    ]
    keys = [
        api_key_create(actor=admin, name=f"Benchmark {k + 1}")[1]
        for k in range(math.ceil(n_assignments / REQUESTS_PER_KEY))
    ]
    return {"assignments": ids, "keys": keys}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="step")
    setup_args = sub.add_parser(
        "setup", help="(child) migrate, create assignments and keys; needs DATABASE_URL"
    )
    setup_args.add_argument("assignments", type=int)
    setup_args.add_argument("seed", type=int)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.step == "setup":
        result: Any = setup(args.assignments, args.seed)
    else:
        result = run(quick=args.quick)
    print(json.dumps(result, indent=None if args.step else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
