"""What the Django-backed benchmarks share: scratch databases, the environment of the processes that use
them, running a bench module under Django in a child process, and the real server (gunicorn).

The runner itself never configures Django: every process that does gets its own database (a SQLite file
in a temporary folder, or a PostgreSQL database created here and dropped afterwards), so nothing the
benchmarks write reaches a practice's data or the test database.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Where the benchmarks create (and drop) their PostgreSQL databases; a server URL, its path is ignored.
POSTGRES_ENV = "SPACEBETWEEN_BENCH_POSTGRES"
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
SERVER_START_SECONDS = 30  # gunicorn answers in about a second; a loaded CI machine gets more room
CHILD_TIMEOUT_SECONDS = 900


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server named by SPACEBETWEEN_BENCH_POSTGRES could not be reached."""


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def bench_env(data_dir: Path, database_url: str, *, production: bool) -> dict[str, str]:
    """The environment of a process of the practice platform on a scratch database.

    production=True is what a deployment runs (docs/security.md): SPACEBETWEEN_PRODUCTION=1 with fresh
    random keys, behind a TLS proxy (requests carry X-Forwarded-Proto: https, so the HTTPS redirect
    does not fire). Otherwise the development settings with DEBUG off, for in-process page timings
    that need no collected static files."""
    drop = {"DATABASE_URL", "SPACEBETWEEN_PRODUCTION", "DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEY"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        DJANGO_SETTINGS_MODULE="spacebetween.settings",
        SPACEBETWEEN_DATA_DIR=str(data_dir),
        STATIC_ROOT=str(data_dir / "static"),
        DATABASE_URL=database_url,
        DEBUG="false",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
    )
    if production:
        env.update(
            SPACEBETWEEN_PRODUCTION="1",
            SECRET_KEY=base64.urlsafe_b64encode(os.urandom(48)).decode(),
            FIELD_ENCRYPTION_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
            ALLOWED_HOSTS="127.0.0.1",
            BEHIND_TLS_PROXY="true",
        )
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
    return env


def pg_connect(url: str, dbname: str | None = None, **kw: Any) -> Any:
    """A psycopg connection to the server in `url` (to `dbname` if given, else the URL's database)."""
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    return psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=int(config["PORT"] or 5432),
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname=dbname or config["NAME"],
        connect_timeout=5,
        **kw,
    )


@contextlib.contextmanager
def postgres_scratch(server_url: str, db_name: str) -> Iterator[tuple[str, str]]:
    """A fresh database `db_name` on the PostgreSQL server of `server_url`, dropped afterwards; yields
    its URL and the server's version. The admin connection is not held meanwhile (a long run must not
    depend on one idle connection, and a test may restart the server)."""
    with pg_connect(server_url, dbname="postgres", autocommit=True) as admin:
        version = admin.execute("SHOW server_version").fetchone()[0]
        admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{db_name}"')
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + db_name, str(version)
    finally:
        _drop_postgres(server_url, db_name)


def _drop_postgres(server_url: str, db_name: str) -> None:
    """Drop a scratch database; if the server is gone, say which one is left rather than hide why the
    run stopped."""
    try:
        with pg_connect(server_url, dbname="postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    except Exception as exc:  # reported, not raised: the run's own error matters more
        print(f"could not drop scratch database {db_name}: {exc}", file=sys.stderr)


@contextlib.contextmanager
def scratch_database(kind: str, data_dir: Path, name: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A fresh database of `kind` ("sqlite" or "postgresql") for one benchmark, removed afterwards.
    Yields its URL and facts about it (the PostgreSQL server version)."""
    if kind == "sqlite":
        path = data_dir / f"{name}.sqlite3"
        try:
            yield f"sqlite:///{path}", {"engine": "sqlite"}
        finally:
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        return
    if kind != "postgresql":
        raise ValueError(f"unknown database kind {kind!r}: use sqlite or postgresql")
    import psycopg

    server = os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES)
    try:
        pg_connect(server, dbname="postgres").close()
    except psycopg.OperationalError as exc:
        where = server.split("@")[-1]  # no password in the message
        raise PostgresUnavailable(f"PostgreSQL at {where} ({POSTGRES_ENV}) is unreachable: {exc}") from exc
    with postgres_scratch(server, f"sb_bench_{os.getpid()}_{name}") as (url, version):
        yield url, {"engine": "postgresql", "server_version": version}


def run_child(env: dict[str, str], module: str, *args: str) -> Any:
    """Run `python -m <module> <args>` under `env`; its last line of stdout is its JSON answer."""
    proc = subprocess.run(  # noqa: S603 - our own bench module
        [sys.executable, "-m", module, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_SECONDS,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def count_rows(url: str, table: str) -> int:
    """Rows in `table` of the database at `url`, read with the driver alone (no Django)."""
    query = f"SELECT count(*) FROM {table}"  # noqa: S608 - a table name of ours, not input
    if url.startswith("sqlite:///"):
        con = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return int(con.execute(query).fetchone()[0])
        finally:
            con.close()
    with pg_connect(url) as pg:
        row = pg.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gunicorn_workers(kind: str) -> int:
    """The sync workers docs/operations.md recommends for a database of `kind`: gunicorn's own (2 x
    cores) + 1 (docs.gunicorn.org, Design) on PostgreSQL; cores + 1 on SQLite, which admits one writer
    at a time, so that more workers only queue on its write lock and crowd the cores (measured on
    the 2-core machine: 3 workers answer 12-15% more submissions than 5, with half the p99)."""
    cores = os.cpu_count() or 1
    return cores + 1 if kind == "sqlite" else 2 * cores + 1


@dataclass
class Server:
    """gunicorn in a session of its own, so that stopping or killing it reaches the master and every
    worker. A context manager for one run (the benchmarks); `start` and `kill` for restarts on the same
    port (the durability tests)."""

    env: dict[str, str]
    log: Path
    workers: int
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start gunicorn and return once it answers."""
        self.starts += 1
        with self.log.open("ab") as log:
            log.write(f"--- start {self.starts}\n".encode())
            self.proc = subprocess.Popen(  # noqa: S603 - our own server
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "spacebetween.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    str(self.workers),
                    "--timeout",
                    "60",
                ],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_until_answering()
        except BaseException:
            self.stop()
            raise

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash would, and wait until its port is free again."""
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
            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind(("127.0.0.1", self.port))
                    return
                except OSError:
                    time.sleep(0.02)

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.tail()}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                conn.request("GET", "/healthz", headers=PROXY_HEADERS)
                status = conn.getresponse().status
            except OSError:
                time.sleep(0.1)  # not listening yet
                continue
            finally:
                conn.close()
            if status != 200:
                raise RuntimeError(f"gunicorn answered /healthz with {status}:\n{self.tail()}")
            return
        raise RuntimeError(f"gunicorn did not answer in {SERVER_START_SECONDS} s:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        """SIGTERM the process group (graceful), SIGKILL whatever is left after 10 s; wait for the master."""
        if self.proc is None:
            return
        for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
        # Workers orphaned by a killed master are in the same group; make sure none outlives us.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc = None


# What the practice's TLS proxy adds to every request (settings: BEHIND_TLS_PROXY).
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
