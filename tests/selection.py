"""Which tests are slow and which use the run's database: the `slow` and `dbless` markers, set on every
collected test by tests/conftest.py (pytest_collection_modifyitems), never by hand.

slow: a browser (marker `browser`), a server or worker in a subprocess (marker `e2e`, tests/durability),
any other subprocess (a test module, or a module of one of its fixtures, that imports `subprocess`:
the console command, the linters), the demo practice made or loaded in full, or the API fuzzer.
`scripts/test --fast` leaves these out; a new test is fast unless it is one of these.

dbless: uses no database of the run's engine, so it runs the same whatever DATABASE_URL says: no
pytest-django database (`db`, `transactional_db`, `django_db`, `live_server`) and no scratch database
made with `run_engine()` (tests/durability/databases.py), in the test, its module or its fixtures;
and no way to ask the run's engine (django.db's `connection` in the module, a `skipif`). CI runs these
once, in the SQLite pass; `scripts/test --db-only` is its PostgreSQL pass.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import django.db
import pytest

TESTS = Path(__file__).resolve().parent

SLOW_MARKERS = {"browser", "e2e"}
SLOW_DIRECTORIES = {TESTS / "durability", TESTS / "browser"}
# In-process but slow: the demo practice made in full (most of a minute) or loaded by its command;
# the property-based fuzzing of every API operation.
SLOW_FIXTURES = {"live_server", "full_demo"}
SLOW_MODULES = {
    TESTS / "api" / "test_schemathesis.py",
    TESTS / "demo" / "test_demo_command.py",
    TESTS / "demo" / "test_demo_determinism.py",
}

# pytest-django's database fixtures all need django_db_setup (django_db_blocker is in every test's
# closure, through an autouse fixture of pytest-django's: it says nothing).
RUN_DATABASE_FIXTURES = {"django_db_setup", "db", "transactional_db", "live_server"}


def _imports(module: types.ModuleType | None, name: str) -> bool:
    """`module` has imported `name` (a module or a function)."""
    found = getattr(module, name, None) if module is not None else None
    return isinstance(found, (types.ModuleType, types.FunctionType))


def _names(func: Callable[..., Any] | None, name: str) -> bool:
    code = getattr(func, "__code__", None)
    return code is not None and name in code.co_names


def _fixture_functions(item: pytest.Item) -> list[Callable[..., Any]]:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return []
    return [d.func for defs in info.name2fixturedefs.values() for d in defs]


def _fixture_modules(item: pytest.Item) -> list[types.ModuleType]:
    names = {getattr(func, "__module__", "") for func in _fixture_functions(item)}
    return [sys.modules[n] for n in names if n.startswith("tests.") and n in sys.modules]


def is_slow(item: pytest.Item) -> bool:
    path = Path(str(item.path))
    if SLOW_MARKERS & {mark.name for mark in item.iter_markers()}:
        return True
    if path in SLOW_MODULES or any(d in path.parents for d in SLOW_DIRECTORIES):
        return True
    if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    module = getattr(item, "module", None)
    return any(_imports(m, "subprocess") for m in [module, *_fixture_modules(item)])


def uses_run_database(item: pytest.Item) -> bool:
    if item.get_closest_marker("django_db") is not None:
        return True
    if RUN_DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    # A test that may ask which engine the run is on (and be skipped on one) must run on both.
    if item.get_closest_marker("skipif") is not None:
        return True
    module = getattr(item, "module", None)
    if _imports(module, "run_engine") or any(
        getattr(module, name, None) is getattr(django.db, name) for name in ("connection", "connections")
    ):
        return True
    functions = [getattr(item, "function", None), *_fixture_functions(item)]
    return any(_names(func, "run_engine") for func in functions)


def mark(items: list[pytest.Item]) -> None:
    for item in items:
        if is_slow(item):
            item.add_marker(pytest.mark.slow)
        if not uses_run_database(item):
            item.add_marker(pytest.mark.dbless)


def deselect(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`--fast` drops the slow tests, `--db-only` the dbless ones."""
    drop: set[str] = set()
    if config.getoption("--fast"):
        drop.add("slow")
    if config.getoption("--db-only"):
        drop.add("dbless")
    if not drop:
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        (dropped if drop & {m.name for m in item.iter_markers()} else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
