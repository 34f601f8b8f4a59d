"""Adding staff with an address that has an account elsewhere (Go live, item 11.3): the admin learns
nothing about other practices' accounts, or about their own practice's clients; the refusal is
audited without the address."""

from __future__ import annotations

import pytest

from spacebetween.accounts import services
from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import AuditEvent, Outcome

pytestmark = pytest.mark.django_db

ADD = "/practice/staff/add/"


def _add(http, email: str):  # type: ignore[no-untyped-def]
    data = {
        "full_name": "Nina Novak",
        "email": email,
        "role": Role.THERAPIST,
        "supervisor": "",
        "password": "",
    }
    return http.post(ADD, data)


def _email_errors(response) -> list[str]:  # type: ignore[no-untyped-def]
    return list(response.context["form"].errors.get("email", []))


def test_an_address_of_another_practice_is_refused_without_saying_so(as_user, admin, oscar) -> None:
    before = User.objects.count()
    errors = _email_errors(_add(as_user(admin), oscar.email))
    assert errors == [services.EMAIL_UNUSABLE]
    assert "exist" not in services.EMAIL_UNUSABLE and "practice" not in services.EMAIL_UNUSABLE
    assert User.objects.count() == before


def test_an_address_of_one_of_the_practices_clients_gets_the_same_answer(as_user, admin, carol_user) -> None:
    assert _email_errors(_add(as_user(admin), carol_user.email.upper())) == [services.EMAIL_UNUSABLE]


def test_an_address_on_the_admins_own_staff_list_is_named_as_such(as_user, admin, alice) -> None:
    assert _email_errors(_add(as_user(admin), alice.email)) == [services.EMAIL_TAKEN]


def test_the_refusal_is_audited_without_the_address_or_the_other_account(as_user, admin, oscar) -> None:
    http = as_user(admin)
    before = AuditEvent.objects.count()
    _add(http, oscar.email)
    [event] = AuditEvent.objects.filter(seq__gt=before)
    assert (event.actor_id, event.practice_id, event.outcome) == (
        admin.pk,
        admin.practice_id,
        Outcome.MINOR_FAILURE,
    )
    assert event.entity_id == ""
    assert "oscar" not in event.detail and str(oscar.pk) != event.entity_id


def test_the_admin_can_go_on_with_another_address(as_user, admin, oscar) -> None:
    http = as_user(admin)
    _add(http, oscar.email)
    assert _add(http, "nina@example.org").status_code == 302
    assert User.objects.get(email="nina@example.org").practice_id == admin.practice_id
