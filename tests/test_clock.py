"""The product reads the current time in one place, spacebetween/clock.py, so that the `clock` fixture
(tests/conftest.py) moves it for every part at once. spacebetween/core takes times as arguments, and
migrations are history: both are left out."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

from spacebetween import clock
from tests.conftest import FakeClock

PACKAGE = Path(__file__).resolve().parent.parent / "spacebetween"

# The calls that read the wall clock, by the name they are called on: `datetime.now()`, `dt.date.today()`,
# `timezone.now()`, `timezone.localdate()` (with no time given), `time.time()`.
_READS = {
    "datetime": {"now", "today", "utcnow"},
    "date": {"today"},
    "timezone": {"now", "localdate", "localtime"},
    "time": {"time", "time_ns"},
}


def time_reads(path: str, source: str) -> list[str]:
    """Each call that reads the wall clock, other than through `clock.now()`; and each `from
    spacebetween.clock import now`, which a test could not move."""
    found = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.ImportFrom) and node.module == "spacebetween.clock":
            found.append(f"{path}:{node.lineno} imports from spacebetween.clock: use `clock.now()`")
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        func, owner = node.func, node.func.value
        name = (
            owner.attr
            if isinstance(owner, ast.Attribute)
            else owner.id
            if isinstance(owner, ast.Name)
            else ""
        )
        # timezone.localtime(value) and localdate(value) only convert a time they are given.
        given = func.attr in {"localdate", "localtime"} and bool(node.args)
        if func.attr in _READS.get(name, ()) and not given:
            found.append(f"{path}:{node.lineno} reads the time: {ast.unparse(node)}")
    return found


def _product_sources() -> dict[str, str]:
    return {
        path.relative_to(PACKAGE).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] != "core"
        and "migrations" not in path.parts
        and path != PACKAGE / "clock.py"
    }


def test_the_product_reads_the_time_only_through_the_clock() -> None:
    found = [line for path, source in _product_sources().items() for line in time_reads(path, source)]
    assert not found, "read the time with `from spacebetween import clock; clock.now()`:\n" + "\n".join(found)


def test_the_check_finds_each_way_of_reading_the_time() -> None:
    source = (
        "import datetime as dt, time\n"
        "from django.utils import timezone\n"
        "from spacebetween.clock import now\n"
        "a = dt.datetime.now(dt.UTC)\n"
        "b = timezone.now()\n"
        "c = dt.date.today()\n"
        "d = time.time()\n"
        "e = timezone.localdate()\n"
        "f = timezone.localtime(a)\n"  # converts a given time: fine
        "g = clock.now()\n"  # the clock: fine
        "h = time.monotonic()\n"  # a duration, not the time of day: fine
        "i = dt.time(19, 0)\n"  # a time of day made, not read: fine
    )
    assert [line.split(" ", 1)[0] for line in time_reads("x.py", source)] == [
        "x.py:3",
        "x.py:4",
        "x.py:5",
        "x.py:6",
        "x.py:7",
        "x.py:8",
    ]


def test_the_clock_is_aware_and_in_utc() -> None:
    now = clock.now()
    assert now.tzinfo is not None and now.utcoffset() == dt.timedelta(0)


def test_the_fixture_moves_the_clock(clock: FakeClock) -> None:
    from spacebetween import clock as product_clock

    when = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    clock.set(when)
    assert product_clock.now() == when
    clock.advance(minutes=1)
    assert product_clock.now() == when + dt.timedelta(minutes=1)
