from __future__ import annotations

import html

import pytest
from django.contrib.sessions.models import Session
from django.test import Client as HttpClient

from spacebetween.accounts.models import User, UserSession
from spacebetween.accounts.views import PASSWORD_CHANGED
from spacebetween.audit.models import AuditEvent
from tests.accounts.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW = "a brand new passphrase 77"
PAGE = "/account/password/"


def _change(client, old: str = PASSWORD, new: str = NEW, again: str | None = None):  # type: ignore[no-untyped-def]
    return client.post(PAGE, {"old_password": old, "new_password1": new, "new_password2": again or new})


def test_the_page_sends_anonymous_visitors_to_sign_in(client, practice) -> None:
    assert client.get(PAGE).url == f"/login/?next={PAGE}"


def test_it_changes_the_password(client, carol_user) -> None:
    sign_in(client, carol_user)
    response = _change(client)
    assert response.url == PAGE
    assert User.objects.get(pk=carol_user.pk).check_password(NEW)


def test_it_says_the_password_was_changed(client, carol_user) -> None:
    sign_in(client, carol_user)
    response = client.get(_change(client).url)
    assert PASSWORD_CHANGED in html.unescape(response.content.decode())


def test_it_refuses_a_wrong_current_password(client, carol_user) -> None:
    sign_in(client, carol_user)
    response = _change(client, old="not my password 1")
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    assert User.objects.get(pk=carol_user.pk).check_password(PASSWORD)


def test_it_refuses_a_short_new_password_next_to_the_field(client, carol_user) -> None:
    sign_in(client, carol_user)
    response = _change(client, new="short1")
    assert "new_password2" in response.context["form"].errors
    assert User.objects.get(pk=carol_user.pk).check_password(PASSWORD)


def test_it_refuses_a_common_password(client, carol_user) -> None:
    sign_in(client, carol_user)
    response = _change(client, new="password1234")
    assert "new_password2" in response.context["form"].errors


def test_it_refuses_mismatched_new_passwords(client, carol_user) -> None:
    sign_in(client, carol_user)
    response = _change(client, again="something else entirely 9")
    assert "new_password2" in response.context["form"].errors
    assert User.objects.get(pk=carol_user.pk).check_password(PASSWORD)


def test_it_keeps_the_current_session_signed_in(client, carol_user) -> None:
    sign_in(client, carol_user)
    _change(client)
    assert client.get(PAGE).status_code == 200


def test_it_gives_the_current_session_a_new_key(client, carol_user) -> None:
    sign_in(client, carol_user)
    before = client.session.session_key
    _change(client)
    assert client.session.session_key != before
    assert not Session.objects.filter(session_key=before).exists()


def test_it_ends_the_users_other_sessions(client, carol_user) -> None:
    other = HttpClient()
    sign_in(other, carol_user)
    other_key = other.session.session_key
    sign_in(client, carol_user)
    _change(client)
    assert not Session.objects.filter(session_key=other_key).exists()
    assert other.get(PAGE).status_code == 302


def test_it_keeps_only_the_current_session_registered(client, carol_user) -> None:
    sign_in(HttpClient(), carol_user)
    sign_in(client, carol_user)
    _change(client)
    keys = list(UserSession.objects.filter(user=carol_user).values_list("session_key", flat=True))
    assert keys == [client.session.session_key]


def test_it_audits_the_change(client, carol_user) -> None:
    sign_in(client, carol_user)
    _change(client)
    assert AuditEvent.objects.filter(event_type="password-change", actor_id=carol_user.pk).count() == 1


def test_a_refused_change_writes_no_audit_event(client, carol_user) -> None:
    sign_in(client, carol_user)
    _change(client, new="short1")
    assert not AuditEvent.objects.filter(event_type="password-change").exists()
