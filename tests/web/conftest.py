"""Page-test helpers on top of the fixed cast in tests/conftest.py.

- `as_user(user)`: the test client signed in as `user`, past MFA, through the real session keys.
- `shared_episode`: Alice's episode of Carol, shared with Sam for supervision.
- `dan`: a second client of Alice, with an open episode of his own (a partner for couple sessions).
- `record_counts()`: clients, episodes, sessions and audit events, to prove a refused form wrote nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import NamedTuple

import pytest
from django.test import Client as HttpClient

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Client, Episode, Session
from tests.conftest import share_for_supervision, signed_in


def sign_in(http: HttpClient, user: User) -> HttpClient:
    return signed_in(user, http)


@pytest.fixture
def as_user(client: HttpClient) -> Callable[[User], HttpClient]:
    return lambda user: sign_in(client, user)


@pytest.fixture
def shared_episode(alice: User, episode: Episode) -> Episode:
    return share_for_supervision(alice, episode)


@pytest.fixture
def dan(alice: User) -> Client:
    client = clinical.client_create(actor=alice, given_name="Dan", family_name="Jones")
    clinical.episode_open(
        actor=alice, client=client, referral_reason="Conflict at home", started_on=dt.date(2026, 9, 1)
    )
    return client


class Counts(NamedTuple):
    clients: int
    episodes: int
    sessions: int
    audit_events: int


def _counts() -> Counts:
    return Counts(
        Client.objects.count(), Episode.objects.count(), Session.objects.count(), AuditEvent.objects.count()
    )


@pytest.fixture
def record_counts() -> Callable[[], Counts]:
    return _counts
