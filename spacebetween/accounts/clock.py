"""The one place sign-in, MFA and session limits read the time, so tests can move it."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    return timezone.now()
