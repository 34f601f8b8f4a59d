"""Hand-written SQL for the few writes on an answer's path, where the ORM's cost of building each query
is most of the time an answer takes (docs/performance.md: an API submission went from 19 ORM queries
to a handful of these). The statement text is built once per model and column list; the names come
from the model's fields and every value is prepared by its field, exactly as the ORM would write it
(time zones, JSON), so rows written here and rows written by the ORM are the same."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model


@functools.cache
def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@functools.cache
def _column(model: type[Model], name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)  # type: ignore[union-attr]


def columns(model: type[Model], *names: str) -> dict[str, str]:
    """The quoted table ("table") and the quoted column of each field in `names`, for SQL text."""
    return {"table": _table(model), **{name: _column(model, name) for name in names}}


def value(model: type[Model], name: str, raw: Any) -> Any:
    """`raw` as the field `name` of `model` writes it (or compares it) in this database."""
    return model._meta.get_field(name).get_db_prep_save(raw, connection)  # type: ignore[union-attr]


@functools.cache
def _insert_sql(model: type[Model], names: tuple[str, ...], returning: bool) -> str:
    listed = ", ".join(_column(model, name) for name in names)
    placeholders = ", ".join(["%s"] * len(names))
    sql = f"INSERT INTO {_table(model)} ({listed}) VALUES ({placeholders})"  # noqa: S608 - our names
    if returning:
        sql += f" RETURNING {_column(model, model._meta.pk.name)}"  # type: ignore[union-attr]
    return sql


def insert(model: type[Model], values: Mapping[str, Any], *, returning_pk: bool = True) -> Any:
    """INSERT one row of `model` from field values (by field name); its primary key when asked.
    SQLite (3.35 and later, which Django 5.2 needs for this feature) and PostgreSQL both return it."""
    names = tuple(values)
    sql = _insert_sql(model, names, returning_pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, [value(model, name, values[name]) for name in names])
        if returning_pk:
            return cursor.fetchone()[0]
    return None


def execute(sql: str, params: Sequence[Any]) -> tuple[int, list[tuple[Any, ...]]]:
    """Run one statement; the rows it changed and any rows it returned."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.rowcount, rows
