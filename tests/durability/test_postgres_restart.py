"""The server rides out a PostgreSQL restart by itself.

Clients stream PHQ-9 submissions to the real server (gunicorn, two workers, on a database of its own)
while the PostgreSQL server is stopped for a few seconds and started again. Requests that overlap the
outage may fail, and only with a server error (5xx), never a hang or a dropped connection; every
request that starts after PostgreSQL accepts connections again succeeds, without restarting the
application (Django's CONN_HEALTH_CHECKS drops a dead persistent connection at the start of the next
request); every acknowledged (201) submission is in the database afterwards.

This stops the PostgreSQL server the rest of the suite runs on: it is always started again (finally),
the test waits until it accepts connections, and this process's own database connections are closed
so that later tests reconnect. On SQLite there is no server to stop: skipped.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dj_database_url
import pytest
from django.db import connections

from tests.durability.databases import pg_connect, run_engine
from tests.durability.server import (
    REQUEST_TIMEOUT,
    Server,
    lost_or_changed,
    phq9_answers,
    practice_with_due_phq9s,
)

if TYPE_CHECKING:
    from tests.durability.databases import ServerDb

SEED = 20261001
# (assignments, outages, seconds down): about 15 s for CI.
SIZES = {"ci": (60, 1, 3.0), "soak": (450, 8, 6.0)}
CLIENTS = 2
PACE = 0.05  # seconds between a client's requests: the second half of a phase outlasts the stop
READY_DEADLINE = 60  # seconds for PostgreSQL to accept connections after `start`

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        run_engine() != "postgresql",
        reason="PostgreSQL only: on the SQLite pass there is no database server to stop",
    ),
]


@dataclass(frozen=True)
class Attempt:
    assignment_id: int
    started: float
    ended: float
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Cluster:
    """A PostgreSQL cluster this machine runs and we may stop (Debian's pg_ctlcluster, as root)."""

    version: str
    name: str

    def ctl(self, action: str, *options: str) -> None:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", *options, self.version, self.name, action],
            check=True,
            capture_output=True,
            timeout=120,
        )


def _local_cluster(url: str) -> Cluster:
    port = str(dj_database_url.parse(url)["PORT"] or 5432)
    try:
        listing = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("cannot stop and start PostgreSQL from here (no pg_ctlcluster)")
    for line in listing.stdout.splitlines():
        version, name, cluster_port, *_ = line.split()
        if cluster_port == port:
            return Cluster(version, name)
    pytest.skip(f"no local PostgreSQL cluster on port {port} to stop and start")


def _wait_until_ready(url: str) -> float:
    deadline = time.monotonic() + READY_DEADLINE
    while True:
        try:
            with pg_connect(url, dbname="postgres") as con:
                con.execute("SELECT 1")
            return time.monotonic()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _forget_database_connections() -> None:
    """This process's connections died with the server; closed, the next test opens fresh ones."""
    for connection in connections.all(initialized_only=True):
        connection.close()


def test_the_server_rides_out_a_postgresql_restart(server_db: ServerDb, tmp_path: Path, soak: bool) -> None:
    n, outages_wanted, down_for = SIZES["soak" if soak else "ci"]
    cluster = _local_cluster(server_db.url)
    practice = practice_with_due_phq9s(server_db, n)
    server = Server(server_db.env, tmp_path / "gunicorn.log")
    # Released in phases: half of a phase is answered before each outage, the other half is released as
    # PostgreSQL stops (in flight, or failing and retried while it is down), and the next phase starts
    # once it is back, so that requests run before, across and after each outage.
    phases = [practice.assignments[i :: outages_wanted + 1] for i in range(outages_wanted + 1)]
    pending: list[int] = []
    attempts: list[Attempt] = []
    answered: set[int] = set()  # 201, or 409 for a retry whose earlier try had committed
    acknowledged: dict[int, dict[str, Any]] = {}
    lock = threading.Lock()
    done = threading.Event()
    stop_at = time.monotonic() + 60 + outages_wanted * (down_for + 30)

    def submitter(seed: int) -> None:
        rng = random.Random(seed)
        while not done.is_set() and time.monotonic() < stop_at:
            with lock:
                assignment_id = pending.pop() if pending else None
            if assignment_id is None:
                time.sleep(0.01)
                continue
            started = time.monotonic()
            status, body = server.submit(practice.key_for(assignment_id), assignment_id, phq9_answers(rng))
            with lock:
                attempts.append(Attempt(assignment_id, started, time.monotonic(), status, body))
                if status == 201:
                    acknowledged[assignment_id] = body
                if status in (201, 409):
                    answered.add(assignment_id)
                else:
                    pending.insert(0, assignment_id)  # try again later
            time.sleep(PACE)

    def release(phase: list[int]) -> None:
        with lock:
            pending[:0] = reversed(phase)

    def wait_until_answered(count: int) -> None:
        while time.monotonic() < stop_at:
            with lock:
                if len(answered) >= count:
                    return
            time.sleep(0.02)

    outages: list[tuple[float, float]] = []  # (stop issued, accepting connections again)
    threads = [threading.Thread(target=submitter, args=(SEED + i,), daemon=True) for i in range(CLIENTS)]
    server.start()
    try:
        for thread in threads:
            thread.start()
        released = 0
        for phase in phases[:-1]:
            half = len(phase) // 2
            release(phase[:half])
            released += half
            wait_until_answered(released)
            release(phase[half:])  # in flight as the server stops, or sent while it is down
            released += len(phase) - half
            stopped = time.monotonic()
            try:
                cluster.ctl("stop", "--mode=fast")  # ends open sessions, as a reboot or upgrade does
                time.sleep(down_for)
            finally:
                cluster.ctl("start")
                outages.append((stopped, _wait_until_ready(server_db.url)))
        release(phases[-1])
        wait_until_answered(n)
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)
        if cluster_is_down(cluster):
            cluster.ctl("start")
            _wait_until_ready(server_db.url)
        _forget_database_connections()
        server.kill()

    assert server.starts == 1, "the application was restarted"
    assert len(outages) == outages_wanted
    failed = [a for a in attempts if a.status not in (201, 409)]
    assert failed, "no request met the outage: the test did not test anything"
    outside = [
        a for a in failed if not any(a.started <= ready and a.ended >= stopped for stopped, ready in outages)
    ]
    assert not outside, f"requests failed outside the outage: {outside[:3]}"
    not_5xx = [a for a in failed if not 500 <= a.status <= 599]
    assert not not_5xx, f"during the outage the server must answer 5xx: {not_5xx[:3]}\n{server.tail()}"
    slowest = max(a.ended - a.started for a in attempts)
    assert slowest < REQUEST_TIMEOUT, f"a request hung for {slowest:.1f} s"
    after_last = [a for a in attempts if a.started > outages[-1][1]]
    assert len(after_last) >= len(phases[-1]), "no requests after the outage"
    assert all(a.status in (201, 409) for a in after_last), "the server did not recover by itself"
    conflicts = [a for a in attempts if a.status == 409]
    tried_before = {a.assignment_id for a in failed}
    assert all(a.assignment_id in tried_before for a in conflicts), "409 for a first try"
    assert answered == set(practice.assignments), "some submissions never went through"
    assert not lost_or_changed(server_db, acknowledged), "acknowledged submissions lost in the outage"


def cluster_is_down(cluster: Cluster) -> bool:
    listing = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=False)
    for line in listing.stdout.splitlines():
        version, name, _port, status, *_ = line.split()
        if (version, name) == (cluster.version, cluster.name):
            return status != "online"
    return False
