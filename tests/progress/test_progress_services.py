"""The treating therapist's switch for the client's own progress view: who may use it, what bad input
does, and what the audit log keeps (ids only)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Client, Episode
from spacebetween.progress import selectors, services
from spacebetween.progress.models import ProgressViewSetting
from tests.conftest import share_for_supervision

pytestmark = pytest.mark.django_db


def test_shown_by_default_then_hidden_and_shown_again_each_change_audited(
    alice: User, client_record: Client
) -> None:
    assert selectors.progress_shown(client_record) is True
    hidden = services.progress_view_set(actor=alice, client=client_record, shown=False)
    assert selectors.progress_shown(client_record) is False
    assert hidden.changed_by == alice
    services.progress_view_set(actor=alice, client=client_record, shown=True)
    assert selectors.progress_shown(client_record) is True
    assert ProgressViewSetting.objects.count() == 1
    events = AuditEvent.objects.filter(entity_type="ProgressViewSetting")
    assert [(e.action, e.entity_id, e.actor_id) for e in events] == [
        ("C", str(hidden.pk), alice.pk),
        ("U", str(hidden.pk), alice.pk),
    ]


@pytest.mark.parametrize("who", ["bob", "sam", "admin", "carol_user"])
def test_anyone_but_the_treating_therapist_is_refused_and_audited(
    who: str, alice: User, client_record: Client, episode: Episode, request: pytest.FixtureRequest
) -> None:
    share_for_supervision(alice, episode)  # sam may read the record, still not change it
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        services.progress_view_set(actor=actor, client=client_record, shown=False)
    assert not ProgressViewSetting.objects.exists()
    denied = AuditEvent.objects.get(event_type="access-denied", actor_id=actor.pk)
    assert (denied.entity_type, denied.entity_id, denied.detail) == (
        "Client",
        str(client_record.pk),
        "progress-view",
    )
    assert selectors.progress_shown(client_record) is True


@pytest.mark.parametrize("bad", ["no", None, 0, "False"])
def test_anything_but_true_or_false_is_refused_on_the_field(
    bad: object, alice: User, client_record: Client
) -> None:
    with pytest.raises(ValidationError) as refused:
        services.progress_view_set(actor=alice, client=client_record, shown=bad)
    assert "shown" in refused.value.message_dict
    assert not ProgressViewSetting.objects.exists()
    assert not AuditEvent.objects.filter(entity_type="ProgressViewSetting").exists()
