"""The pages' date filter (`spacebetween.ui.templatetags.when`) writes what Django's `date` filter writes.

It exists only to be faster (docs/performance.md), so the `date` filter is the oracle: random instants
across daylight-saving changes in several time zones, each format the pages use, in a real template.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo

import pytest
from django.template import engines
from django.utils import timezone

FORMATS = ("D j M Y, H:i", "j M Y, H:i", "j M Y", "c", "j F Y")  # the last one falls back to `date`
ZONES = ("Europe/London", "America/New_York", "Australia/Sydney", "UTC", "Asia/Kolkata")


def _render(source: str, **context: object) -> str:
    return engines["django"].from_string(source).render(context)


@pytest.mark.parametrize("zone", ZONES)
def test_when_writes_what_the_date_filter_writes(zone: str) -> None:
    rng = random.Random(zone)  # noqa: S311 - reproducible test data
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        for _ in range(300):
            instant = dt.datetime(2019, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
                minutes=rng.randrange(0, 4_000_000), microseconds=rng.choice((0, 250))
            )
            for fmt in FORMATS:
                expected = _render(f'{{{{ v|date:"{fmt}" }}}}', v=instant)
                assert _render(f'{{{{ v|when:"{fmt}" }}}}', v=instant) == expected
            day = instant.date()
            assert _render('{{ v|when:"j M Y" }}', v=day) == _render('{{ v|date:"j M Y" }}', v=day)


def test_time_of_is_a_time_element_in_the_active_zone() -> None:
    instant = dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)  # 02:30 in London, in the first BST hour
    with timezone.override(zoneinfo.ZoneInfo("Europe/London")):
        html = _render('{% time_of v "D j M Y, H:i" %}', v=instant)
        expected = _render(
            '<time datetime="{{ v|date:\'c\' }}">{{ v|date:"D j M Y, H:i" }}</time>', v=instant
        )
    assert html == expected == '<time datetime="2026-03-29T02:30:00+01:00">Sun 29 Mar 2026, 02:30</time>'


def test_nothing_for_no_date() -> None:
    assert _render('[{{ v|when:"j M Y" }}][{% time_of v %}]', v=None) == "[][]"
