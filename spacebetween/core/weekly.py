"""Counts per calendar week, for practice shown beside the measures (docs/between-sessions.md).

Framework-free: the caller gives the days things happened (already in the practice's time zone) and
the last day to show. Weeks start on Monday (ISO 8601), so a week reads the same on every page.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable


def week_start(day: dt.date) -> dt.date:
    """The Monday of `day`'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def per_week(days: Iterable[dt.date], *, last_day: dt.date, weeks: int) -> list[tuple[dt.date, int]]:
    """(Monday, how many) for each of the `weeks` weeks up to and including `last_day`'s, oldest first;
    a week with nothing in it counts 0, and days outside the span are left out."""
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    last = week_start(last_day)
    mondays = [last - dt.timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
    counted = Counter(week_start(day) for day in days)
    return [(monday, counted.get(monday, 0)) for monday in mondays]
