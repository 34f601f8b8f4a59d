"""Fixtures for the outbox: a local SMTP sink, a port where no server listens, one that never answers,
and a database of its own for worker subprocesses (a file on SQLite, a fresh database on PostgreSQL)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dj_database_url
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sink:
    """Collects what the SMTP server accepted."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 OK"

    def message_ids(self) -> list[str]:
        ids = []
        for envelope in self.envelopes:
            content = (
                envelope.content.decode() if isinstance(envelope.content, bytes) else str(envelope.content)
            )
            ids += [
                line.split(":", 1)[1].strip()
                for line in content.splitlines()
                if line.startswith("Message-ID:")
            ]
        return ids


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 that can be started late (the outage ends) and stopped."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sink = Sink()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def envelopes(self) -> list[Envelope]:
        return self.sink.envelopes


@pytest.fixture
def smtp_down(settings: Any) -> Iterator[SmtpSink]:
    """Settings point at a free port where nothing listens yet; `.start()` ends the outage."""
    server = SmtpSink(free_port())
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


@pytest.fixture
def smtp_sink(smtp_down: SmtpSink) -> SmtpSink:
    smtp_down.start()
    return smtp_down


@pytest.fixture
def smtp_silent() -> Iterator[int]:
    """A port that accepts connections and never says a word: a worker stays in the middle of sending."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield int(s.getsockname()[1])


class WorkerDb:
    """A migrated database that `spacebetween` subprocesses share with each other (the test's own
    database is in memory on SQLite, and rows must really commit to be seen across processes)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "spacebetween.cli", *args]

    def popen(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(  # noqa: S603 - our own console command
            self.command(*args),
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def run(self, *args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def python(self, code: str, timeout: float = 60) -> Any:
        """Run `code` with Django set up against this database; it assigns its answer to `result`."""
        script = (
            "import django, json\ndjango.setup()\nresult = None\n"
            + code
            + "\nprint(json.dumps(result, default=str))"
        )
        proc = subprocess.run(
            [sys.executable, "-c", script],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])


def _base_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SPACEBETWEEN_PRODUCTION", "DEBUG"}
    }
    env["SPACEBETWEEN_DATA_DIR"] = str(tmp_path / "data")
    env["DJANGO_SETTINGS_MODULE"] = "spacebetween.settings"
    env["PYTHONUNBUFFERED"] = "1"
    env["LOG_LEVEL"] = "INFO"
    return env


@pytest.fixture
def worker_db(tmp_path: Path) -> Iterator[WorkerDb]:
    """On the database engine of this test run: SQLite as a file in tmp_path, PostgreSQL as a fresh
    database on the same server, dropped afterwards."""
    env = _base_env(tmp_path)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
        db = WorkerDb(env)
        assert db.run("migrate", "-v0").returncode == 0
        yield db
        return
    import psycopg

    config = dj_database_url.parse(url)
    name = f"sb_outbox_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=int(config["PORT"] or 5432),
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
        db = WorkerDb(env)
        migrated = db.run("migrate", "-v0")
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        yield db
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
