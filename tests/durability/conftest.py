"""A database of its own for a real server process: a file in tmp_path on SQLite, a fresh database on
the same server on PostgreSQL (created here and dropped afterwards). The pytest test database cannot
be shared with another process, so nothing here touches it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dj_database_url
import pytest


@dataclass
class ServerDb:
    env: dict[str, str]
    url: str
    sqlite_path: Path | None  # None on PostgreSQL

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own console command
            [sys.executable, "-m", "spacebetween.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def python(self, code: str, timeout: float = 120) -> Any:
        """Run `code` with Django set up against this database; it assigns its answer to `result`."""
        script = "import django, json\ndjango.setup()\nresult = None\n" + code + "\nprint(json.dumps(result))"
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


def _base_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SPACEBETWEEN_PRODUCTION", "DEBUG"}
    }
    env["SPACEBETWEEN_DATA_DIR"] = str(tmp_path / "data")  # secret and field keys, shared by all processes
    env["DJANGO_SETTINGS_MODULE"] = "spacebetween.settings"
    env["ALLOWED_HOSTS"] = "127.0.0.1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _migrate(db: ServerDb) -> ServerDb:
    migrated = db.cli("migrate", "-v0")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    return db


@pytest.fixture
def server_db(tmp_path: Path) -> Iterator[ServerDb]:
    env = _base_env(tmp_path)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        path = tmp_path / "server.sqlite3"
        env["DATABASE_URL"] = f"sqlite:///{path}"
        yield _migrate(ServerDb(env, env["DATABASE_URL"], path))
        return
    import psycopg

    config = dj_database_url.parse(url)
    name = f"sb_durability_{uuid.uuid4().hex[:12]}"
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
        yield _migrate(ServerDb(env, env["DATABASE_URL"], None))
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

