"""PostgreSQL connections bind parameters on the server and prepare a statement that has run 5 times on a
connection (settings._postgres_options, docs/performance.md); DB_PREPARE_THRESHOLD=0 turns both off,
and a value that is not a whole number of 0 or more stops the start with a message naming it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from spacebetween import settings as app_settings
from spacebetween import statements
from spacebetween.measures.models import Assignment

POSTGRES_URL = "postgres://practice@db.internal:5432/spacebetween"


def _options(monkeypatch: pytest.MonkeyPatch, threshold: str | None) -> dict[str, object]:
    monkeypatch.setenv("DATABASE_URL", POSTGRES_URL)
    if threshold is None:
        monkeypatch.delenv("DB_PREPARE_THRESHOLD", raising=False)
    else:
        monkeypatch.setenv("DB_PREPARE_THRESHOLD", threshold)
    return dict(app_settings._databases()["default"]["OPTIONS"])


def test_postgres_prepares_statements_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _options(monkeypatch, None) == {"server_side_binding": True, "prepare_threshold": 5}
    assert _options(monkeypatch, "2") == {"server_side_binding": True, "prepare_threshold": 2}


def test_a_threshold_of_zero_turns_preparing_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # Django's own default: client-side binding, nothing prepared (for old transaction-mode poolers).
    assert _options(monkeypatch, "0") == {}


@pytest.mark.parametrize("bad", ["-1", "five"])
def test_a_bad_threshold_stops_the_start_naming_it(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DB_PREPARE_THRESHOLD"):
        _options(monkeypatch, bad)


def test_sqlite_is_not_given_postgres_options(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite3")
    options = app_settings._databases()["default"]["OPTIONS"]
    assert "server_side_binding" not in options and "prepare_threshold" not in options


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only: SQLite prepares nothing")
@pytest.mark.django_db
def test_a_statement_is_prepared_on_the_server_after_five_runs() -> None:
    table = statements.columns(Assignment, "id")
    sql = f"SELECT count(*) FROM {table['table']} WHERE {table['id']} > %s"  # noqa: S608 - our names

    def prepared() -> int:
        like = f"%{table['table']}%> $1%"
        _, rows = statements.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", (like,)
        )
        return int(rows[0][0])

    for _ in range(5):
        statements.execute(sql, (0,))
    assert prepared() == 0
    statements.execute(sql, (0,))  # psycopg: run `prepare_threshold` times, then prepared
    assert prepared() == 1
