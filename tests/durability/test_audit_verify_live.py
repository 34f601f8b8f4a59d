"""`spacebetween audit verify` on a live system: never a broken chain for a healthy database under
concurrent writes, and still a broken one when a row was tampered with.

Writers append to the chain on a database of the run's engine (tests/durability/databases.py) while
`spacebetween audit verify` runs again and again: first `spacebetween demo` loading the demo practice
(thousands of small transactions, each with its audit row), then the real server (gunicorn, two
workers) taking PHQ-9 submissions from several clients at once. Every verify must exit 0 with
"audit chain intact". Verify reads the chain's head and then the events up to it, in one snapshot.

How we checked that it can fail: before the fix, verify read the events first and the head after
them, so a head that moved on in between said "tail changed". On SQLite the first test failed at its
second verify ("chain head says 115 events, found 114"); on PostgreSQL the old verify, run while the
demo loaded, said BROKEN 15 times out of 15 (the new one 0). The negative control: one row changed in
SQL (the append-only triggers dropped first, as an attacker with database access would) is reported,
naming that row.
"""

from __future__ import annotations

import random
import re
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bench.harness import pg_connect
from tests.durability.server import Server, phq9_answers, practice_with_due_phq9s

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable

    from tests.durability.databases import ServerDb

SEED = 20261112
VERIFIES = 20  # `audit verify` runs while the writers write, in all
LEAST_EACH = 4  # of them while the demo loads, and while submissions stream in, at least
DEMO_HISTORY = 1  # past episodes: the demo loads in about 15 s (thousands of audit events)
SUBMITTERS = 4
PAUSE = 0.3  # between one client's submissions: about 12 a second in all, so that 600 last ~50 s
SUBMISSIONS = 600  # due PHQ-9s, more than the clients submit while verify runs
INTACT = re.compile(r"audit chain intact: (\d+) events")


def _verify(db: ServerDb) -> subprocess.CompletedProcess[str]:
    return db.cli("audit", "verify", timeout=120)


def _events(db: ServerDb) -> int:
    [(n,)] = db.sql("SELECT COUNT(*) FROM audit_auditevent")
    return int(n)


def _verify_while(db: ServerDb, writing: Callable[[], bool], runs: int) -> list[int]:
    """Run `audit verify` over and over, up to `runs` times, while `writing()` says the writers are at
    it; each must say the chain is intact. The event counts of the runs made while the writers wrote."""
    counts: list[int] = []
    while writing() and len(counts) < runs:
        done = _verify(db)
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"verify run {len(counts) + 1}, healthy live database:\n{output[-3000:]}"
        found = INTACT.search(done.stdout)
        assert found is not None, output[-3000:]
        if writing():  # the writers were still at it when this run ended, so also while it ran
            counts.append(int(found.group(1)))
    return counts


def _assert_grew(counts: list[int], least: int, what: str) -> None:
    """At least `least` runs while the writers wrote, and the chain grew from run to run."""
    assert len(counts) >= least, f"only {len(counts)} verify runs while {what}: the writers stopped early"
    assert counts == sorted(counts) and len(set(counts)) > len(counts) // 2, f"{what}: {counts}"


@pytest.mark.e2e
def test_verify_reports_a_healthy_chain_while_the_demo_loads_and_submissions_stream_in(
    server_db: ServerDb, tmp_path: Path
) -> None:
    # The demo, loading: thousands of transactions, each appending its audit rows. Verify runs as
    # often as it can until the demo is loaded.
    demo = server_db.popen("demo", "--history", str(DEMO_HISTORY))
    try:
        while_loading = _verify_while(server_db, lambda: demo.poll() is None, VERIFIES)
    finally:
        if demo.poll() is None:
            demo.kill()
        output, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, output[-3000:]
    _assert_grew(while_loading, LEAST_EACH, "the demo loaded")

    # The real server, taking submissions from several clients at once (each appends its audit rows),
    # until verify has run VERIFIES times in all.
    practice = practice_with_due_phq9s(server_db, SUBMISSIONS)
    pending = list(practice.assignments)
    lock, stop = threading.Lock(), threading.Event()
    failures: list[tuple[int, object]] = []

    def submitter(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            with lock:
                if not pending:
                    return
                assignment_id = pending.pop()
            status, body = server.submit(practice.key_for(assignment_id), assignment_id, phq9_answers(rng))
            if status != 201:
                failures.append((status, body))
            stop.wait(PAUSE)

    server = Server(server_db.env, tmp_path / "gunicorn.log")
    threads = [threading.Thread(target=submitter, args=(SEED + i,), daemon=True) for i in range(SUBMITTERS)]
    try:
        server.start()
        for thread in threads:
            thread.start()
        runs = max(LEAST_EACH, VERIFIES - len(while_loading))
        while_submitting = _verify_while(server_db, lambda: all(t.is_alive() for t in threads), runs)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        server.kill()
    assert not failures, (failures[:3], server.tail())
    _assert_grew(while_submitting, runs, "submissions streamed in")

    # And at rest, the whole chain.
    done = _verify(server_db)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"audit chain intact: {_events(server_db)} events" in done.stdout


def _tamper(db: ServerDb, sql: str) -> None:
    """Change the log as an attacker with database access would: past the append-only triggers."""
    if db.sqlite_path is not None:
        con = sqlite3.connect(db.sqlite_path)
        try:
            with con:
                con.execute("DROP TRIGGER audit_auditevent_no_update")
                con.execute(sql)
        finally:
            con.close()
        return
    with pg_connect(db.url) as con:  # one transaction, committed on leaving the block
        con.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        con.execute(sql)  # type: ignore[arg-type]
        con.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


@pytest.mark.e2e
def test_verify_still_reports_a_changed_row_naming_it(server_db: ServerDb) -> None:
    practice_with_due_phq9s(server_db, 5)  # a practice, its people and their audit events
    assert _verify(server_db).returncode == 0
    victim = _events(server_db) // 2
    _tamper(server_db, f"UPDATE audit_auditevent SET actor_role = 'intruder' WHERE seq = {victim}")  # noqa: S608

    done = _verify(server_db)
    assert done.returncode == 1
    assert "audit chain BROKEN: 1 problem(s)" in done.stderr
    assert f"event {victim}: content changed" in done.stderr
