"""Helpers for the sign-in, MFA, session and staff-administration tests.

- `clock`: tests/conftest.py's clock, set to a fixed moment for TOTP; `clock.advance(minutes=16)`.
- `sign_in(http, user)`: the real password step through /login/ (staff then owe MFA).
- `enrol(http, user, clock)`: the real enrolment; returns the recovery codes (staff are then fully in).
- `totp_now(user, clock)`: the authenticator app's current code for `user`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pyotp
import pytest
from django.test import Client as HttpClient

from spacebetween.accounts import signin
from spacebetween.accounts.models import TotpDevice, User
from tests.conftest import PASSWORD, FakeClock


@pytest.fixture
def clock(clock: FakeClock) -> FakeClock:
    # Mid-step (…:10 past a 30-second boundary) so "one step earlier/later" is unambiguous.
    clock.set(dt.datetime(2026, 11, 2, 9, 0, 10, tzinfo=dt.UTC))
    return clock


def sign_in(http: HttpClient, user: User, password: str = PASSWORD, **extra: Any):  # type: ignore[no-untyped-def]
    return http.post("/login/", {"email": user.email, "password": password}, **extra)


def totp_at(user: User, when: dt.datetime) -> str:
    device = TotpDevice.objects.get(user=user)
    return pyotp.TOTP(signin.totp_secret(device)).at(when)


def totp_now(user: User, clock: FakeClock) -> str:
    return totp_at(user, clock.now)


def enrol(http: HttpClient, user: User, clock: FakeClock) -> list[str]:
    """Password, then authenticator set-up; returns the recovery codes shown."""
    sign_in(http, user)
    http.get("/account/mfa/enrol/")
    response = http.post("/account/mfa/enrol/", {"code": totp_now(user, clock)})
    assert response.status_code == 200, response
    return re.findall(r"<code>([a-z2-7-]{29})</code>", response.content.decode())


def enrolled(http: HttpClient, user: User, clock: FakeClock) -> list[str]:
    """Enrol, sign out, and move past the code's time step; returns the recovery codes."""
    codes = enrol(http, user, clock)
    http.post("/logout/")
    clock.advance(seconds=30)
    return codes


@pytest.fixture
def as_user(client: HttpClient, clock: FakeClock):  # type: ignore[no-untyped-def]
    """The test client fully signed in as `user` through the real pages (password, then MFA if owed)."""

    def signed_in(user: User) -> HttpClient:
        if user.is_staff_member:
            enrol(client, user, clock)
        else:
            sign_in(client, user)
        return client

    return signed_in
