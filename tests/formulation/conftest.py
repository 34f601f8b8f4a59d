from __future__ import annotations

import datetime as dt

import pytest

from spacebetween.accounts.models import User
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Attendance, Episode, Session
from tests.conftest import share_for_supervision


@pytest.fixture
def held(alice: User, episode: Episode) -> list[Session]:
    """Three sessions that took place (September 2026), attended."""
    sessions = []
    for day in (8, 15, 22):
        s = clinical.session_create(
            actor=alice, episode=episode, starts_at=dt.datetime(2026, 9, day, 10, 0, tzinfo=dt.UTC)
        )
        s.attendance = Attendance.ATTENDED
        s.save(update_fields=["attendance"])
        sessions.append(s)
    return sessions


@pytest.fixture
def shared_episode(alice: User, episode: Episode) -> Episode:
    return share_for_supervision(alice, episode)


from tests.browser.conftest import (  # noqa: E402, F401
    browser_page,
    chromium,
    demo_practice,
    demo_therapist,
    live_site,
    sign_in,
)
