"""Dates and times on pages, formatted in plain Python.

`{{ value|when:"D j M Y, H:i" }}` gives what Django's `date` filter gives for the few formats the
pages use, in the active time zone (the practice's), and `{% time_of value "D j M Y, H:i" %}` wraps it
in `<time datetime="…">`. Why not the `date` filter: it builds a formatter object per call and looks
every name up through the translation machinery, and a client page with half a year of weekly
sessions and questionnaires formats about 370 dates, which was the largest single cost of that page
(docs/performance.md, "The client page"). The pages are in English (LANGUAGE_CODE "en"), so the day
and month names are the English ones the `date` filter gives there; a format not listed below falls
back to the `date` filter itself, so a new format is never wrong, only not faster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day(d: dt.date) -> str:
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def _clock(d: dt.datetime) -> str:
    return f"{d.hour:02d}:{d.minute:02d}"


_FORMATS: dict[str, Callable[[dt.datetime], str]] = {
    "D j M Y, H:i": lambda d: f"{_DAYS[d.weekday()]} {_day(d)}, {_clock(d)}",
    "j M Y, H:i": lambda d: f"{_day(d)}, {_clock(d)}",
    "j M Y": _day,
    "c": lambda d: d.isoformat(),
}


def _local(value: dt.date) -> dt.date:
    # As the date filter does: an aware datetime is shown in the active time zone; a date stays a date.
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


@register.filter(expects_localtime=False)
def when(value: dt.date | None, fmt: str = "j M Y") -> str:
    """`value` in `fmt` (one of the formats above, else Django's date filter); "" for None."""
    if value in (None, ""):
        return ""
    if not isinstance(value, dt.date):
        return str(date_filter(value, fmt))
    local = _local(value)
    format_ = _FORMATS.get(fmt)
    return str(date_filter(local, fmt)) if format_ is None else format_(local)  # type: ignore[arg-type]


@register.simple_tag
def time_of(value: dt.date | None, fmt: str = "D j M Y, H:i") -> SafeString | str:
    """`<time datetime="ISO 8601">value in fmt</time>`, both in the active time zone."""
    if value is None:
        return ""
    local = _local(value)
    return format_html('<time datetime="{}">{}</time>', local.isoformat(), when(local, fmt))
