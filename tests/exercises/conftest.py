"""Between-sessions helpers on top of the fixed cast (tests/conftest.py).

- `assignment`: Alice sets Carol a daily thought record for the coming two weeks.
- `dave_assignment`: Dave, another client of Alice's with his own portal login, has one too.
- `THOUGHT_RECORD`: a complete entry.
"""

from __future__ import annotations

import datetime as dt

import pytest

from spacebetween.accounts.models import Role, User
from spacebetween.accounts.services import user_create
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Episode
from spacebetween.exercises import services
from spacebetween.exercises.models import ExerciseAssignment
from tests.browser.conftest import (  # noqa: F401  (the browser fixtures, for test_in_browser.py)
    browser_page,
    chromium,
    demo_client_user,
    demo_practice,
    demo_therapist,
    live_site,
    screenshot,
    sign_in,
)
from tests.conftest import FakeClock
from tests.insights.conftest import course  # noqa: F401  (for test_practice_as_process.py)

THOUGHT_RECORD = {
    "situation": "My friend did not answer my message",
    "feeling": "worried",
    "intensity": "80",
    "thought": "She is angry with me",
    "evidence_for": "She usually answers fast",
    "evidence_against": "She told me work is busy",
    "balanced_thought": "She is probably busy; I can ask tomorrow",
    "intensity_after": "40",
}


@pytest.fixture
def today(clock: FakeClock) -> dt.date:
    clock.set(dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC))
    return dt.date(2026, 10, 5)


def assign(
    actor: User, episode: Episode, today: dt.date, exercise: str = "thought-record"
) -> ExerciseAssignment:
    return services.exercise_assign(
        actor=actor,
        episode=episode,
        exercise=exercise,
        frequency="daily",
        starts_on=today,
        ends_on=today + dt.timedelta(days=13),
    )


@pytest.fixture
def assignment(alice: User, episode: Episode, today: dt.date) -> ExerciseAssignment:
    return assign(alice, episode, today)


@pytest.fixture
def dave_user(alice: User) -> User:
    return user_create(
        practice=alice.practice,
        email="dave@example.org",
        full_name="Dave",
        role=Role.CLIENT,
        password="x" * 20,
    )


@pytest.fixture
def dave_assignment(alice: User, dave_user: User, today: dt.date) -> ExerciseAssignment:
    client = clinical.client_create(
        actor=alice, given_name="Dave", family_name="Smith", email="dave@example.org"
    )
    client = clinical.client_portal_link(actor=alice, client=client, portal_user=dave_user)
    episode = clinical.episode_open(
        actor=alice, client=client, referral_reason="Panic at work", started_on=dt.date(2026, 9, 1)
    )
    return assign(alice, episode, today, "other-minds")
