"""The client's own progress view, on top of the fixed cast (tests/conftest.py).

- `phq9(actor_episode, total, when)`: Carol answers a PHQ-9 with that total (the risk item at 0).
- `dave_assignment`: Dave, another client of Alice's with his own portal login (tests/exercises).
- `held`: three sessions of Carol's episode that took place, attended (September 2026).
"""

from __future__ import annotations

import datetime as dt

import pytest

from spacebetween.accounts.models import User
from spacebetween.answering import services as answering
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Attendance, Episode, Session
from spacebetween.measures.models import Response
from tests.browser.conftest import (  # noqa: F401  (the browser fixtures, for the browser test)
    chromium,
    demo_client_user,
    demo_practice,
    demo_therapist,
    live_site,
    screenshot,
    sign_in,
)
from tests.exercises.conftest import dave_assignment, dave_user, today  # noqa: F401  (Dave, another client)

PHQ9_ITEMS = [f"phq9_{n}" for n in range(1, 9)]  # item 9 (the risk item) stays 0


def phq9_answers(total: int) -> dict[str, int]:
    """Answers whose PHQ-9 total is `total` (0-24), item 9 answered 'Not at all'."""
    assert 0 <= total <= 24
    answers = {item: min(3, max(0, total - 3 * index)) for index, item in enumerate(PHQ9_ITEMS)}
    return {**answers, "phq9_9": 0}


def phq9(actor: User, episode: Episode, total: int, when: dt.datetime) -> Response:
    assignment = answering.assignment_create(
        actor=actor, episode=episode, instrument_id="phq9", due_at=when, now=when
    )
    return answering.response_submit(assignment=assignment, answers=phq9_answers(total), via="link", now=when)


@pytest.fixture
def held(alice: User, episode: Episode) -> list[Session]:
    sessions = []
    for day in (8, 15, 22):
        s = clinical.session_create(
            actor=alice, episode=episode, starts_at=dt.datetime(2026, 9, day, 10, 0, tzinfo=dt.UTC)
        )
        s.attendance = Attendance.ATTENDED
        s.save(update_fields=["attendance"])
        sessions.append(s)
    return sessions
