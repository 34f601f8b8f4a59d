"""The worker's scheduled send: a client without a portal login gets a one-time link by email for a
questionnaire that has become due; a client with a login gets a sign-in reminder instead."""

from __future__ import annotations

import datetime as dt

import pytest

from spacebetween.accounts.models import User
from spacebetween.answering.services import assignment_create
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Client, Episode
from spacebetween.delivery.services import links_send_due
from spacebetween.measures.models import Assignment, AssignmentStatus
from spacebetween.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db

# 10:00 in London on a weekday: inside the hours when reminders may go out.
NOW = dt.datetime(2026, 10, 6, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def dana_episode(alice: User) -> Episode:
    """A client with an email address and no portal login."""
    dana = clinical.client_create(
        actor=alice, given_name="Dana", family_name="Reed", email="dana@example.org"
    )
    return clinical.episode_open(
        actor=alice, client=dana, referral_reason="Panic attacks", started_on=dt.date(2026, 9, 1)
    )


def _due(alice: User, episode: Episode) -> Assignment:
    return assignment_create(actor=alice, episode=episode, instrument_id="phq9", due_at=NOW, now=NOW)


def test_a_client_without_a_login_gets_a_link_once(alice: User, dana_episode: Episode) -> None:
    assignment = _due(alice, dana_episode)
    assert links_send_due(now=NOW) == 1
    assert links_send_due(now=NOW) == 0
    message = OutboxMessage.objects.get(to_address="dana@example.org")
    assert "/a/" in message.body()
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SENT


def test_a_client_with_a_portal_login_gets_no_link(
    alice: User, client_record: Client, episode: Episode
) -> None:
    _due(alice, episode)
    assert links_send_due(now=NOW) == 0
    assert not OutboxMessage.objects.filter(kind="questionnaire-link").exists()


def test_nothing_is_sent_before_it_is_due(alice: User, dana_episode: Episode) -> None:
    assignment_create(
        actor=alice, episode=dana_episode, instrument_id="phq9", due_at=NOW + dt.timedelta(days=1), now=NOW
    )
    assert links_send_due(now=NOW) == 0
    assert not OutboxMessage.objects.exists()
