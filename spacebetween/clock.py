"""The one place the product reads the current time, so that tests can move it (the `clock` fixture
of tests/conftest.py sets what `now` returns). Call it as `clock.now()`, never import `now` by name:
a test moves the time by replacing this module's `now`.

Plain Python (no Django), so every layer may use it; spacebetween/core takes times as arguments
instead. Services that take `now=` keep it: it is how a caller hands them one moment for a whole
operation.
"""

from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    """The current time, aware, in UTC (what `django.utils.timezone.now()` gives with USE_TZ)."""
    return dt.datetime.now(dt.UTC)
