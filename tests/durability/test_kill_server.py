"""An acknowledged submission survives `kill -9` of the server.

The real server (gunicorn, two workers) runs on a database of its own (tests/durability/conftest.py:
a file SQLite DB in tmp_path, or a fresh PostgreSQL database). The test submits due PHQ-9s over HTTP
one after another; right after some of the 201s (seeded, so every run kills at the same points) it
SIGKILLs the whole gunicorn process group, starts it again and goes on. At the end every acknowledged
submission must be in the database with its scores, and on SQLite the file must pass
`PRAGMA integrity_check`.

How we checked that it can fail: `synchronous=OFF` is not enough to lose a commit on a clean process
kill (the data is in the OS page cache, only a power cut loses it), so the assertions were checked by
deleting one acknowledged Response row (sqlite3 / psycopg, just before the final read) in a scratch
run on each database: the test failed naming that assignment; then reverted.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dj_database_url
import pytest

if TYPE_CHECKING:
    from tests.durability.conftest import ServerDb

N_ASSIGNMENTS = 20
KILL_PROBABILITY = 0.25
MAX_KILLS = 6  # a restart costs about 2 s; this keeps the whole test around 20 s
SEED = 20260915
START_DEADLINE = 30  # seconds for gunicorn to answer after a (re)start; about 1 s normally
TEST_DEADLINE = 90  # the whole loop stops by itself well before pytest would hang

SETUP = """
import datetime as dt
from django.db import transaction
from spacebetween.accounts.models import Role
from spacebetween.accounts.services import user_create
from spacebetween.api.services import api_key_create
from spacebetween.clients import services as clinical
from spacebetween.measures.services import assignment_create
from spacebetween.practice.services import practice_create

practice = practice_create(name="Riverside Therapy")
admin = user_create(practice=practice, email="admin@example.org", full_name="Admin", role=Role.ADMIN,
                    password=None)
alice = user_create(practice=practice, email="alice@example.org", full_name="Alice",
                    role=Role.THERAPIST, password=None)
client = clinical.client_create(actor=alice, given_name="Carol", family_name="Jones",
                                email="carol@example.org")
episode = clinical.episode_open(actor=alice, client=client, referral_reason="Low mood",
                                started_on=dt.date.today())
now = dt.datetime.now(dt.UTC)
ids = [assignment_create(actor=alice, episode=episode, instrument_id="phq9", due_at=now, now=now).pk
       for _ in range({n})]
_, key = api_key_create(actor=admin, name="Durability test")
result = {{"key": key, "assignments": ids}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(rng: random.Random) -> dict[str, int]:
    answers = {f"phq9_{i}": rng.randint(0, 3) for i in range(1, 9)}
    answers["phq9_9"] = 0
    return answers


class Server:
    """gunicorn in its own session, so that os.killpg reaches the master and both workers at once."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as log:
            log.write(f"--- start {self.starts}\n".encode())
            self.proc = subprocess.Popen(  # noqa: S603 - our own server
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "spacebetween.wsgi:application",
                    "-b",
                    f"127.0.0.1:{self.port}",
                    "-w",
                    "2",
                    "--timeout",
                    "30",
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"gunicorn exited:\n{self.log.read_text()[-3000:]}"
            try:
                with urllib.request.urlopen(  # noqa: S310 - http://127.0.0.1 only
                    f"http://127.0.0.1:{self.port}/login/", timeout=5
                ):
                    return
            except urllib.error.HTTPError:
                return  # it answered
            except OSError:
                time.sleep(0.1)
        raise AssertionError(
            f"gunicorn did not answer in {START_DEADLINE} s:\n{self.log.read_text()[-3000:]}"
        )

    def kill(self) -> None:
        """SIGKILL the whole process group and wait until it is gone (and its port free again)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None
        # The workers were reparented when the master died; the next master can bind the port once
        # they have let go of the listening socket (gunicorn binds with SO_REUSEADDR, as we do here).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", self.port))
                    return
                except OSError:
                    time.sleep(0.02)


def _submit(port: int, key: str, assignment_id: int, answers: dict[str, int]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
        f"http://127.0.0.1:{port}/api/v1/assignments/{assignment_id}/responses",
        data=json.dumps({"answers": answers}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {"body": exc.read()[:2000].decode(errors="replace")}


def _stored_responses(db: ServerDb) -> tuple[dict[int, tuple[int, Any]], str | None]:
    """{assignment_id: (response_id, scores)} read straight from the database, with the SQLite
    integrity check (None on PostgreSQL)."""
    query = "SELECT assignment_id, id, scores FROM measures_response"
    if db.sqlite_path is not None:
        con = sqlite3.connect(db.sqlite_path)
        try:
            [(integrity,)] = con.execute("PRAGMA integrity_check").fetchall()
            rows = con.execute(query).fetchall()
        finally:
            con.close()
        return {a: (r, json.loads(s)) for a, r, s in rows}, integrity
    import psycopg

    config = dj_database_url.parse(db.url)
    with psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=int(config["PORT"] or 5432),
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname=config["NAME"],
    ) as con:
        rows = con.execute(query).fetchall()
    return {a: (r, s if not isinstance(s, str) else json.loads(s)) for a, r, s in rows}, None


@pytest.mark.e2e
def test_acknowledged_submissions_survive_kill_9_of_the_server(server_db: ServerDb, tmp_path: Path) -> None:
    setup = server_db.python(SETUP.format(n=N_ASSIGNMENTS))
    key, assignment_ids = setup["key"], setup["assignments"]
    assert len(assignment_ids) == N_ASSIGNMENTS

    rng = random.Random(SEED)
    server = Server(server_db.env, _free_port(), tmp_path / "gunicorn.log")
    acknowledged: dict[int, dict[str, Any]] = {}
    kills = 0
    deadline = time.monotonic() + TEST_DEADLINE
    try:
        server.start()
        for assignment_id in assignment_ids:
            assert time.monotonic() < deadline, f"gave up after {TEST_DEADLINE} s"
            status, body = _submit(server.port, key, assignment_id, _answers(rng))
            assert status == 201, (status, body, server.log.read_text()[-3000:])
            acknowledged[assignment_id] = body
            if rng.random() < KILL_PROBABILITY and kills < MAX_KILLS:
                server.kill()  # right after the acknowledgement, before anything else happens
                kills += 1
                server.start()
    finally:
        server.kill()

    assert kills == MAX_KILLS, "the seed no longer kills often enough to mean anything"
    assert len(acknowledged) == N_ASSIGNMENTS

    stored, integrity = _stored_responses(server_db)
    if server_db.sqlite_path is not None:
        assert integrity == "ok"
    lost = sorted(set(acknowledged) - set(stored))
    assert not lost, f"acknowledged submissions lost after kill -9: {lost}"
    for assignment_id, body in acknowledged.items():
        response_id, scores = stored[assignment_id]
        assert response_id == body["response_id"]
        assert scores, f"assignment {assignment_id} was stored without scores"
        assert scores == body["scores"]
