"""The practice's retention rule: the admin's setting (8 years unless set), audited; bad input is
refused and changes nothing; the admin opens a client's data-rights page by record number."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Client
from spacebetween.rights.models import DEFAULT_RETENTION_YEARS, RetentionPolicy
from spacebetween.rights.selectors import retention_years
from spacebetween.rights.services import retention_set
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_the_default_is_eight_years_and_the_admin_changes_it(admin: User, alice: User) -> None:
    assert retention_years(admin.practice_id) == DEFAULT_RETENTION_YEARS == 8
    url = reverse("retention_settings")
    page = signed_in(admin).get(url)
    assert page.status_code == 200 and b'value="8"' in page.content
    assert signed_in(admin).post(url, {"years_after_last_episode": "10"}).status_code == 302
    assert retention_years(admin.practice_id) == 10
    event = AuditEvent.objects.get(entity_type="RetentionPolicy")
    assert (event.action, event.actor_id, event.detail) == ("U", admin.pk, "10 years")
    with pytest.raises(PermissionDenied):
        retention_set(actor=alice, years_after_last_episode=1)


@pytest.mark.parametrize("years", ["0", "101", "eight", ""])
def test_bad_input_is_refused_and_changes_nothing(admin: User, years: str) -> None:
    response = signed_in(admin).post(reverse("retention_settings"), {"years_after_last_episode": years})
    assert response.status_code == 400 and b"There is a problem" in response.content
    assert not RetentionPolicy.objects.exists()
    with pytest.raises(ValidationError):
        retention_set(actor=admin, years_after_last_episode=0)


def test_the_admin_opens_a_clients_page_by_record_number(
    admin: User, oscar: User, client_record: Client
) -> None:
    found = signed_in(admin).get(reverse("retention_settings"), {"record": str(client_record.pk)})
    assert found["Location"] == reverse("client_rights", args=[client_record.pk])
    page = signed_in(admin).get(found["Location"])
    assert page.status_code == 200 and b"Download the archive" in page.content
    assert b"Record consent given" not in page.content  # consent is the treating therapist's
    assert signed_in(admin).get(reverse("client_rights", args=[client_record.pk + 99])).status_code == 404
