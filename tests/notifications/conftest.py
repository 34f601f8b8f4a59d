"""Fixtures for the outbox: a local SMTP sink, a port where no server listens, one that never answers,
and a database of its own for worker subprocesses (a file on SQLite, a fresh database on PostgreSQL)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.harness import free_port
from tests.durability.databases import ServerDb, base_env, run_engine, scratch_database


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


@pytest.fixture
def worker_db(tmp_path: Path) -> Iterator[ServerDb]:
    """A database that `spacebetween` subprocesses share with each other, on the engine of this test
    run (the test's own database is in memory on SQLite, and rows must really commit to be seen
    across processes)."""
    env = base_env(tmp_path)
    env["LOG_LEVEL"] = "INFO"
    with scratch_database(tmp_path, run_engine(), name="outbox", env=env) as db:
        yield db
