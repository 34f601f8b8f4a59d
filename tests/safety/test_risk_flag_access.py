"""safety.access.get_flag_for: deny by default, 404 outside the user's rights, every denial audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Episode
from spacebetween.safety.access import get_flag_for
from spacebetween.safety.escalation import escalate_due
from spacebetween.safety.models import RiskFlag
from tests.safety.conftest import RAISED, raise_flag

pytestmark = pytest.mark.django_db


def _denied(user: User, flag: RiskFlag) -> None:
    with pytest.raises(Http404):
        get_flag_for(None, user, flag.pk)
    event = AuditEvent.objects.get(event_type="access-denied", actor_id=user.pk)
    assert (event.entity_type, event.entity_id, event.detail) == ("RiskFlag", str(flag.pk), "not-in-scope")


def test_the_treating_therapist_gets_the_flag(alice: User, flag: RiskFlag) -> None:
    assert get_flag_for(None, alice, flag.pk) == flag


def test_a_colleague_gets_404(bob: User, flag: RiskFlag) -> None:
    _denied(bob, flag)


def test_the_supervisor_gets_404_on_an_unshared_episode(sam: User, flag: RiskFlag) -> None:
    _denied(sam, flag)


def test_the_supervisor_gets_the_flag_on_a_shared_episode(
    sam: User, shared_episode: Episode, flag: RiskFlag
) -> None:
    assert get_flag_for(None, sam, flag.pk) == flag


def test_the_supervisor_gets_the_flag_once_it_is_escalated_to_them(sam: User, flag: RiskFlag) -> None:
    escalate_due(now=RAISED + dt.timedelta(hours=5))
    assert get_flag_for(None, sam, flag.pk) == flag


def test_an_admin_gets_404(admin: User, flag: RiskFlag) -> None:
    _denied(admin, flag)


def test_the_client_gets_404_even_for_their_own_answer(carol_user: User, flag: RiskFlag) -> None:
    _denied(carol_user, flag)


def test_another_practice_gets_404(oscar: User, flag: RiskFlag) -> None:
    _denied(oscar, flag)


def test_a_missing_flag_is_404(alice: User, flag: RiskFlag) -> None:
    with pytest.raises(Http404):
        get_flag_for(None, alice, flag.pk + 100)


def test_an_admin_gets_a_flag_escalated_to_them(admin: User, bob: User) -> None:
    """Bob has no supervisor: his unacknowledged flags escalate to the practice admin."""
    client = clinical.client_create(actor=bob, given_name="Dan", family_name="Reed")
    episode = clinical.episode_open(
        actor=bob, client=client, referral_reason="Anxiety", started_on=dt.date(2026, 9, 1)
    )
    flag = raise_flag(bob, episode)
    escalate_due(now=RAISED + dt.timedelta(hours=5))
    assert get_flag_for(None, admin, flag.pk) == flag
