"""Fixtures for the durability tests: a database of the run's engine for real server processes
(tests/durability/databases.py), an SMTP sink, and the size of each test, small for CI or long with
`--soak`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.durability.databases import ServerDb, run_engine, scratch_database

# The SMTP sink and the mail outage (tests/notifications), for test_risk_answers.py.
from tests.notifications.conftest import smtp_down, smtp_sink  # noqa: F401


@pytest.fixture
def soak(request: pytest.FixtureRequest) -> bool:
    """True under `pytest --soak` (the option is registered in tests/conftest.py)."""
    return bool(request.config.getoption("--soak"))


@pytest.fixture
def server_db(tmp_path: Path) -> Iterator[ServerDb]:
    with scratch_database(tmp_path, run_engine(), name="durability") as db:
        yield db
