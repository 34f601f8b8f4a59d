from __future__ import annotations

import functools
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models


@functools.cache
def known_time_zones() -> frozenset[str]:
    """The IANA names this machine's time-zone database has. Read once: `available_timezones()`
    walks the whole database on disk (about 25 ms), and every practice saved is checked."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in known_time_zones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/London).")


class Practice(models.Model):
    """A practice (private practice or clinic): the boundary of every other record."""

    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="Europe/London", validators=[validate_time_zone])
    country = models.CharField(max_length=2, default="GB", help_text="ISO 3166-1 alpha-2")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
