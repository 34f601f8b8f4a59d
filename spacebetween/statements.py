"""Hand-written SQL for the few reads and writes on an answer's path, where the ORM's cost of building
each query was most of the time an answer took (docs/performance.md). The statement text is built
once per model and column list; the names come from the model's fields and every value is prepared
by its field, exactly as the ORM would write it (time zones, JSON), so rows written here and rows
written by the ORM are the same."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


@functools.cache
def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@functools.cache
def _column(model: type[Model], name: str) -> str:
    return connection.ops.quote_name(str(model._meta.get_field(name).column))  # type: ignore[union-attr]


def columns(model: type[Model], *names: str) -> dict[str, str]:
    """The quoted table ("table") and the quoted column of each field in `names`, for SQL text."""
    return {"table": _table(model), **{name: _column(model, name) for name in names}}


def value(model: type[Model], name: str, raw: Any) -> Any:
    """`raw` as the field `name` of `model` writes it (or compares it) in this database."""
    return model._meta.get_field(name).get_db_prep_save(raw, connection)  # type: ignore[union-attr]


@functools.cache
def _fields(model: type[Model], names: tuple[str, ...]) -> tuple[Field[Any, Any], ...]:
    return tuple(model._meta.get_field(name) for name in names)  # type: ignore[misc]


@functools.cache
def _insert_sql(
    model: type[Model], names: tuple[str, ...], returning: bool, unique: tuple[str, ...] = ()
) -> str:
    listed = ", ".join(_column(model, name) for name in names)
    placeholders = ", ".join(["%s"] * len(names))
    sql = f"INSERT INTO {_table(model)} ({listed}) VALUES ({placeholders})"  # noqa: S608 - our names
    if unique:
        update = ", ".join(
            f"{_column(model, name)} = EXCLUDED.{_column(model, name)}"
            for name in names
            if name not in unique
        )
        sql += f" ON CONFLICT ({', '.join(_column(model, name) for name in unique)}) DO UPDATE SET {update}"
    if returning:
        sql += f" RETURNING {_column(model, model._meta.pk.name)}"  # type: ignore[union-attr]
    return sql


def insert(
    model: type[Model], values: Mapping[str, Any], *, returning_pk: bool = True, unique: Sequence[str] = ()
) -> Any:
    """INSERT one row of `model` from field values (by field name); its primary key when asked.
    With `unique` (the fields of a unique constraint), a row that exists takes the other values
    instead (ON CONFLICT ... DO UPDATE, SQLite 3.24+ and PostgreSQL alike). SQLite 3.35+ (which
    Django 5.2's RETURNING needs too) and PostgreSQL both return the key."""
    names = tuple(values)
    sql = _insert_sql(model, names, returning_pk, tuple(unique))
    db = connections[DEFAULT_DB_ALIAS]  # once, not through the proxy for every value
    params = [f.get_db_prep_save(values[f.name], db) for f in _fields(model, names)]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        if returning_pk:
            return cursor.fetchone()[0]
    return None


@functools.cache
def select_list(model: type[Model], alias: str) -> str:
    """Every column of `model`, in field order, as `alias`."column", ...: for `from_row`."""
    quote = connection.ops.quote_name
    return ", ".join(f"{quote(alias)}.{quote(str(f.column))}" for f in model._meta.concrete_fields)


@functools.cache
def _readers(model: type[Model]) -> tuple[tuple[str, ...], tuple[tuple[Any, Any], ...]]:
    """The attribute names of `model`'s columns, and for each the converters (the backend's, then the
    field's) and the column expression they are called with, as the ORM's compiler applies them."""
    readers = []
    for f in model._meta.concrete_fields:
        col = f.get_col(model._meta.db_table)
        readers.append(
            (tuple(connection.ops.get_db_converters(col) + col.get_db_converters(connection)), col)
        )
    return tuple(f.attname for f in model._meta.concrete_fields), tuple(readers)


def from_row(row: Sequence[Any], *models: type[Model]) -> list[Model]:
    """Instances of `models` from one row that selected each one's `select_list`, in that order."""
    instances, at = [], 0
    for model in models:
        names, readers = _readers(model)
        values = []
        for raw, (converters, col) in zip(row[at : at + len(names)], readers, strict=True):
            for convert in converters:
                raw = convert(raw, col, connection)
            values.append(raw)
        instances.append(model.from_db(connection.alias, names, values))
        at += len(names)
    return instances


@functools.cache
def _select_sql(model: type[Model], names: tuple[str, ...], order_by: tuple[str, ...]) -> str:
    where = " AND ".join(f"t.{_column(model, name)} = %s" for name in names)
    sql = f"SELECT {select_list(model, 't')} FROM {_table(model)} t WHERE {where}"  # noqa: S608 - our names
    if order_by:
        sql += " ORDER BY " + ", ".join(f"t.{_column(model, name)}" for name in order_by)
    return sql


def select(model: type[M], *, order_by: Sequence[str] = (), **where: Any) -> list[M]:
    """The rows of `model` whose fields equal `where` (a foreign key by its id), as instances, in the
    order of the fields `order_by`. At least one condition: these are reads of a known row or an
    episode's rows, never a whole table."""
    if not where:
        raise ValueError(f"select from {model.__name__} needs at least one field to match")
    names = tuple(where)
    db = connections[DEFAULT_DB_ALIAS]
    params = [f.get_db_prep_value(where[f.name], db) for f in _fields(model, names)]
    _, rows = execute(_select_sql(model, names, tuple(order_by)), params)
    return [instance(row, model) for row in rows]


def get(model: type[M], **where: Any) -> M | None:
    """The row of `model` whose fields equal `where` (its primary key, or the fields of a unique
    constraint), as an instance; None when there is none."""
    found = select(model, **where)
    if len(found) > 1:
        raise model.MultipleObjectsReturned(  # type: ignore[attr-defined]
            f"{len(found)} rows of {model.__name__} where {where}"
        )
    return found[0] if found else None


def instance(row: Sequence[Any], model: type[M]) -> M:
    """One instance of `model` from a row that selected its `select_list`."""
    found = from_row(row, model)[0]
    assert isinstance(found, model)
    return found


def execute(sql: str, params: Sequence[Any]) -> tuple[int, list[tuple[Any, ...]]]:
    """Run one statement; the rows it changed and any rows it returned."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.rowcount, rows
