"""Which session a score belongs to (spacebetween/insights/series.py): the rule, by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from spacebetween.insights.series import session_number

UTC = dt.UTC
STARTS = [dt.datetime(2026, 9, d, 10, 0, tzinfo=UTC) for d in (1, 8, 15)]  # three attended sessions


@pytest.mark.parametrize(
    ("submitted", "expected"),
    [
        (dt.datetime(2026, 8, 30, 18, 0, tzinfo=UTC), 1),  # intake, before the first session
        (dt.datetime(2026, 9, 1, 9, 59, tzinfo=UTC), 1),  # a minute before session 1
        (dt.datetime(2026, 9, 1, 10, 0, tzinfo=UTC), 2),  # at session 1's start: too late for it
        (dt.datetime(2026, 9, 7, 20, 0, tzinfo=UTC), 2),  # the evening before session 2
        (dt.datetime(2026, 9, 20, 8, 0, tzinfo=UTC), 4),  # after the last session: the next one
    ],
)
def test_a_measure_answered_before_a_session_belongs_to_that_session(submitted, expected) -> None:
    assert session_number(STARTS, submitted, about_last_session=False) == expected


@pytest.mark.parametrize(
    ("submitted", "expected"),
    [
        (dt.datetime(2026, 8, 30, 18, 0, tzinfo=UTC), 0),  # before any session: about none
        (dt.datetime(2026, 9, 1, 19, 0, tzinfo=UTC), 1),  # the evening after session 1
        (dt.datetime(2026, 9, 8, 9, 0, tzinfo=UTC), 1),  # still before session 2
        (dt.datetime(2026, 9, 15, 11, 0, tzinfo=UTC), 3),  # after the last session
    ],
)
def test_an_alliance_measure_is_about_the_session_just_had(submitted, expected) -> None:
    assert session_number(STARTS, submitted, about_last_session=True) == expected
