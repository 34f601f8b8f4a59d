"""Risk-flag helpers on top of the fixed cast (tests/conftest.py).

- `flag`: Carol answers PHQ-9 item 9 = 1 ("Several days") through the real services; the flag is
  raised for Alice, the treating therapist.
- `shared_episode`: Alice's episode of Carol, shared with Sam for supervision.
"""

from __future__ import annotations

import datetime as dt

import pytest

from spacebetween.accounts.models import User
from spacebetween.answering import services as answering
from spacebetween.clients.models import Episode
from spacebetween.safety.models import RiskFlag
from tests.conftest import share_for_supervision

RAISED = dt.datetime(2026, 9, 10, 9, 0, tzinfo=dt.UTC)


def phq9(item9: int) -> dict[str, int | None]:
    answers: dict[str, int | None] = {f"phq9_{i}": 1 for i in range(1, 9)}
    answers["phq9_9"] = item9
    return answers


def raise_flag(actor: User, episode: Episode, when: dt.datetime = RAISED) -> RiskFlag:
    assignment = answering.assignment_create(
        actor=actor, episode=episode, instrument_id="phq9", due_at=when, now=when
    )
    answering.response_submit(assignment=assignment, answers=phq9(1), via="link", now=when)
    return RiskFlag.objects.get(assignment=assignment)


@pytest.fixture
def flag(alice: User, episode: Episode) -> RiskFlag:
    return raise_flag(alice, episode)


@pytest.fixture
def shared_episode(alice: User, episode: Episode) -> Episode:
    return share_for_supervision(alice, episode)
