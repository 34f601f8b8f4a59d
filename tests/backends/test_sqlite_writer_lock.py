"""The SQLite backend's writer lock (spacebetween/backends/sqlite3/base.py): a transaction holds an
exclusive flock on `<database>-writer.lock` from BEGIN to COMMIT or ROLLBACK, a second writer waits
for it and goes on once it is free, and nothing is held after a commit, a rollback or a close."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db.utils import ConnectionHandler

ENGINE = "spacebetween.backends.sqlite3"


OPTIONS = {"transaction_mode": "IMMEDIATE", "timeout": 5}


@pytest.fixture(autouse=True)
def own_connections(django_db_blocker) -> Iterator[None]:  # noqa: ANN001
    """These tests make their own connections to their own files, not to the test database."""
    with django_db_blocker.unblock():
        yield


def connection_to(path: Path):  # noqa: ANN201 - Django's DatabaseWrapper
    handler = ConnectionHandler({"default": {"ENGINE": ENGINE, "NAME": str(path), "OPTIONS": OPTIONS}})
    return handler["default"]


def lock_is_free(path: Path) -> bool:
    fd = os.open(f"{path}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # releases the probe's own lock, if it got it
    return True


@pytest.fixture
def database(tmp_path: Path, own_connections: None) -> Iterator[Path]:
    path = tmp_path / "db.sqlite3"
    setup = connection_to(path)
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE answer (id INTEGER PRIMARY KEY, value INTEGER)")
    setup.close()
    yield path


def begin(connection) -> None:  # noqa: ANN001
    """What transaction.atomic does on entry, on this connection."""
    connection.ensure_connection()
    connection._start_transaction_under_autocommit()


def test_a_transaction_holds_the_lock_until_it_commits(database: Path) -> None:
    writer = connection_to(database)
    begin(writer)
    with writer.cursor() as cursor:
        cursor.execute("INSERT INTO answer (value) VALUES (1)")
    assert not lock_is_free(database)
    writer.commit()
    assert lock_is_free(database)
    writer.close()


def test_a_rollback_and_a_close_release_it_too(database: Path) -> None:
    writer = connection_to(database)
    begin(writer)
    writer.rollback()
    assert lock_is_free(database)
    begin(writer)
    writer.close()  # e.g. a worker that stops mid-transaction
    assert lock_is_free(database)


def test_a_second_writer_waits_for_the_first_and_then_writes(database: Path) -> None:
    first = connection_to(database)
    begin(first)
    with first.cursor() as cursor:
        cursor.execute("INSERT INTO answer (value) VALUES (1)")
    began = threading.Event()
    errors: list[BaseException] = []

    def second_writer() -> None:
        second = connection_to(database)  # made in its own thread, as Django requires
        try:
            begin(second)
            began.set()
            with second.cursor() as cursor:
                cursor.execute("INSERT INTO answer (value) VALUES (2)")
            second.commit()
        except BaseException as exc:  # reported to the test's thread below
            errors.append(exc)
        finally:
            second.close()

    thread = threading.Thread(target=second_writer)
    thread.start()
    assert not began.wait(0.5), "the second writer began while the first held the lock"
    first.commit()
    thread.join(10)
    assert not thread.is_alive() and not errors, errors
    assert began.is_set()
    with first.cursor() as cursor:
        cursor.execute("SELECT value FROM answer ORDER BY id")
        assert [row[0] for row in cursor.fetchall()] == [1, 2]
    first.close()
    assert lock_is_free(database)


def test_in_memory_databases_take_no_lock(tmp_path: Path) -> None:
    memory = connection_to(Path(":memory:"))
    begin(memory)
    assert not list(tmp_path.iterdir()) and not Path(":memory:-writer.lock").exists()
    memory.rollback()
    memory.close()
