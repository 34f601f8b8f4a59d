"""Databases of their own for real `spacebetween` processes: a file in tmp_path on SQLite, a fresh
database on the PostgreSQL server (created here and dropped afterwards). The pytest test database
cannot be shared with another process, so nothing here touches it."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.harness import pg_connect, postgres_scratch

# Where the PostgreSQL tests look when the run itself is on SQLite (the CI's SQLite pass, a laptop).
LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"


@dataclass
class ServerDb:
    env: dict[str, str]
    url: str
    sqlite_path: Path | None  # None on PostgreSQL

    @property
    def engine(self) -> str:
        return "sqlite" if self.sqlite_path is not None else "postgresql"

    def popen(self, *args: str, **env: str) -> subprocess.Popen[str]:
        """`spacebetween ARGS` started in the background, stdout and stderr together."""
        return subprocess.Popen(  # noqa: S603 - our own console command
            [sys.executable, "-m", "spacebetween.cli", *args],
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def cli(self, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own console command
            [sys.executable, "-m", "spacebetween.cli", *args],
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def python(self, code: str, timeout: float = 300) -> Any:
        """Run `code` with Django set up against this database; it assigns its answer to `result`."""
        script = (
            "import django, json\ndjango.setup()\nresult = None\n"
            + code
            + "\nprint(json.dumps(result, default=str))"
        )
        proc = subprocess.run(  # noqa: S603 - our own test code
            [sys.executable, "-c", script],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        """Rows straight from the database, past Django and the application."""
        if self.sqlite_path is not None:
            con = sqlite3.connect(self.sqlite_path)
            try:
                return con.execute(query).fetchall()
            finally:
                con.close()
        with pg_connect(self.url) as con:
            return con.execute(query).fetchall()  # type: ignore[arg-type]


def base_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "SPACEBETWEEN_PRODUCTION", "DEBUG", "FIELD_ENCRYPTION_KEY"}
    }
    env["SPACEBETWEEN_DATA_DIR"] = str(tmp_path / "data")  # secret and field keys, shared by all processes
    env["DJANGO_SETTINGS_MODULE"] = "spacebetween.settings"
    env["ALLOWED_HOSTS"] = "127.0.0.1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_engine() -> str:
    """The engine of this test run: PostgreSQL when DATABASE_URL names it, else SQLite."""
    return "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"


def postgres_server() -> str:
    """The PostgreSQL server for tests that need one whatever the run's engine. Unreachable: a skip
    on a developer's machine, a failure under CI (CI=true), where PostgreSQL is part of the job."""
    url = os.environ.get("DATABASE_URL", "")
    url = url if url.startswith("postgres") else LOCAL_POSTGRES
    try:
        with pg_connect(url, dbname="postgres"):
            pass
    except Exception as exc:  # psycopg.OperationalError, or psycopg missing
        message = f"PostgreSQL at {url.split('@')[-1]} is not reachable ({type(exc).__name__})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; under CI it must be")
        pytest.skip(message)
    return url


@contextlib.contextmanager
def scratch_database(
    tmp_path: Path, engine: str, *, name: str = "db", migrate: bool = True, env: dict[str, str] | None = None
) -> Iterator[ServerDb]:
    """A new database on `engine` ("sqlite" or "postgresql"), migrated unless told otherwise."""
    env = dict(env or base_env(tmp_path))
    if engine == "sqlite":
        path = tmp_path / f"{name}.sqlite3"
        env["DATABASE_URL"] = f"sqlite:///{path}"
        yield _migrated(ServerDb(env, env["DATABASE_URL"], path), migrate)
        return
    server = postgres_server()
    with postgres_scratch(server, f"sb_{name}_{os.getpid()}_{uuid.uuid4().hex[:8]}") as (url, _version):
        env["DATABASE_URL"] = url
        yield _migrated(ServerDb(env, url, None), migrate)


def _migrated(db: ServerDb, migrate: bool) -> ServerDb:
    if migrate:
        done = db.cli("migrate", "-v0")
        assert done.returncode == 0, done.stderr[-3000:]
    return db
