"""API-test helpers on top of the fixed cast in tests/conftest.py.

- `api_key`: a live key of the cast's practice, created by its admin; `plaintext` is what they copied.
- `oscar_key`: a key of the other practice (Hilltop), created by its own admin.
- `api`: a test client that sends `Authorization: Bearer <key>` with every request.
- `due_phq9`: a PHQ-9 that Alice assigned to Carol's episode, due now, expiring in a week.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import pytest
from django.test import Client as HttpClient

from spacebetween.accounts.models import Role, User
from spacebetween.accounts.services import user_create
from spacebetween.answering import services as answering
from spacebetween.api import services
from spacebetween.api.models import ApiKey
from spacebetween.clients.models import Episode
from spacebetween.measures.models import Assignment
from spacebetween.practice.models import Practice
from tests.conftest import PASSWORD


class IssuedKey(NamedTuple):
    key: ApiKey
    plaintext: str


def bearer(plaintext: str) -> HttpClient:
    return HttpClient(headers={"Authorization": f"Bearer {plaintext}"})


@pytest.fixture
def api_key(admin: User) -> IssuedKey:
    return IssuedKey(*services.api_key_create(actor=admin, name="Tablet in the waiting room"))


@pytest.fixture
def oscar_key(other_practice: Practice) -> IssuedKey:
    hilltop_admin = user_create(
        practice=other_practice,
        email="hilltop-admin@example.org",
        full_name="Hilltop Admin",
        role=Role.ADMIN,
        password=PASSWORD,
    )
    return IssuedKey(*services.api_key_create(actor=hilltop_admin, name="Hilltop survey tool"))


@pytest.fixture
def api(api_key: IssuedKey) -> HttpClient:
    return bearer(api_key.plaintext)


def phq9(item9: int = 0, **overrides: object) -> dict[str, object]:
    answers: dict[str, object] = {f"phq9_{i}": 1 for i in range(1, 9)}
    answers["phq9_9"] = item9
    answers.update(overrides)
    return answers


@pytest.fixture
def due_phq9(alice: User, episode: Episode) -> Assignment:
    now = dt.datetime.now(dt.UTC)
    return answering.assignment_create(
        actor=alice, episode=episode, instrument_id="phq9", due_at=now, now=now
    )
