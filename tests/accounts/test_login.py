from __future__ import annotations

import html
import re

import pytest
from django.test import override_settings

from spacebetween.accounts import signin
from spacebetween.accounts.models import Role, UserSession
from spacebetween.accounts.services import user_create
from spacebetween.accounts.views import DEMO_NOTICE
from spacebetween.audit.models import AuditEvent, Outcome
from tests.accounts.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


def _page(response, email: str) -> str:  # type: ignore[no-untyped-def]
    """The page without what legitimately differs: the typed email and the masked CSRF token."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", _text(response).replace(email, "X"))


def test_the_sign_in_page_asks_for_email_and_password(client, practice) -> None:
    response = client.get("/login/")
    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()
    assert 'name="password"' in response.content.decode()


def test_a_client_with_the_right_password_is_signed_in_and_sent_home(client, carol_user) -> None:
    response = sign_in(client, carol_user)
    assert response.status_code == 302
    assert response.url == "/"
    assert client.session["_auth_user_id"] == str(carol_user.pk)


def test_a_wrong_password_is_refused_with_the_generic_message(client, carol_user) -> None:
    response = sign_in(client, carol_user, password="wrong password 123")
    assert response.status_code == 200
    assert signin.INVALID_LOGIN in _text(response)
    assert "_auth_user_id" not in client.session


def test_an_unknown_email_gets_the_same_message_as_a_wrong_password(client, carol_user) -> None:
    unknown = client.post("/login/", {"email": "nobody@example.org", "password": PASSWORD})
    wrong = sign_in(client, carol_user, password="wrong password 123")
    assert signin.INVALID_LOGIN in _text(unknown)
    assert _page(unknown, "nobody@example.org") == _page(wrong, carol_user.email)


def test_a_deactivated_account_gets_the_generic_message(client, carol_user) -> None:
    carol_user.is_active = False
    carol_user.save(update_fields=["is_active"])
    response = sign_in(client, carol_user)
    assert signin.INVALID_LOGIN in _text(response)
    assert "_auth_user_id" not in client.session


def test_the_email_is_matched_without_regard_to_case(client, carol_user) -> None:
    response = client.post("/login/", {"email": carol_user.email.upper(), "password": PASSWORD})
    assert response.url == "/"


def test_it_rotates_the_session_key_at_sign_in(client, carol_user) -> None:
    client.get("/login/")
    session = client.session
    session["probe"] = 1
    session.save()
    before = session.session_key
    sign_in(client, carol_user)
    assert client.session.session_key != before


def test_it_registers_the_new_session_for_the_user(client, carol_user) -> None:
    sign_in(client, carol_user)
    assert list(UserSession.objects.filter(user=carol_user).values_list("session_key", flat=True)) == [
        client.session.session_key
    ]


def test_it_audits_a_successful_sign_in(client, carol_user) -> None:
    sign_in(client, carol_user)
    event = AuditEvent.objects.filter(event_type="login").get()
    assert (event.actor_id, event.outcome, event.detail) == (carol_user.pk, Outcome.SUCCESS, "password")


def test_it_audits_a_failed_sign_in_without_storing_what_was_typed(client, carol_user) -> None:
    sign_in(client, carol_user, password="wrong password 123")
    event = AuditEvent.objects.filter(event_type="login").get()
    assert (event.actor_id, event.outcome) == (carol_user.pk, Outcome.MINOR_FAILURE)
    assert "wrong password" not in event.detail


def test_it_audits_an_unknown_email_without_storing_it(client, practice) -> None:
    client.post("/login/", {"email": "nobody@example.org", "password": PASSWORD})
    event = AuditEvent.objects.filter(event_type="login").get()
    assert (event.actor_id, event.detail) == (None, "unknown-account")
    assert not AuditEvent.objects.filter(detail__icontains="nobody").exists()


def test_it_follows_a_safe_next_address_after_sign_in(client, carol_user) -> None:
    response = client.post("/login/?next=/me/", {"email": carol_user.email, "password": PASSWORD})
    assert response.url == "/me/"


def test_it_ignores_a_next_address_on_another_site(client, carol_user) -> None:
    credentials = {"email": carol_user.email, "password": PASSWORD}
    response = client.post("/login/?next=https://evil.example/", credentials)
    assert response.url == "/"


def test_a_signed_in_user_visiting_the_sign_in_page_is_sent_home(client, carol_user) -> None:
    sign_in(client, carol_user)
    assert client.get("/login/").url == "/"


def test_passwords_are_stored_with_argon2(practice) -> None:
    # Outside the fast-hashing fixture: the project's own PASSWORD_HASHERS.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"]):
        user = user_create(
            practice=practice, email="new@example.org", full_name="New", role=Role.CLIENT, password=PASSWORD
        )
    assert user.password.startswith("argon2$argon2id$")


def test_argon2_is_the_configured_first_hasher() -> None:
    from spacebetween import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_the_sign_in_page_says_demo_accounts_skip_mfa_when_they_exist(client, practice) -> None:
    user_create(
        practice=practice,
        email="demo@example.org",
        full_name="Demo",
        role=Role.THERAPIST,
        password=PASSWORD,
        is_demo_account=True,
    )
    with override_settings(ALLOW_DEMO_ACCOUNTS=True):
        response = client.get("/login/")
    assert DEMO_NOTICE in _text(response)
    assert 'class="notice' in response.content.decode()


def test_the_sign_in_page_has_no_demo_notice_without_demo_accounts(client, alice) -> None:
    with override_settings(ALLOW_DEMO_ACCOUNTS=True):
        response = client.get("/login/")
    assert DEMO_NOTICE not in _text(response)


def test_the_sign_in_page_has_no_demo_notice_when_demo_accounts_are_not_allowed(client, practice) -> None:
    user_create(
        practice=practice,
        email="demo@example.org",
        full_name="Demo",
        role=Role.THERAPIST,
        password=PASSWORD,
        is_demo_account=True,
    )
    with override_settings(ALLOW_DEMO_ACCOUNTS=False):
        response = client.get("/login/")
    assert DEMO_NOTICE not in _text(response)


def test_the_sign_in_page_is_not_cached(client, practice) -> None:
    assert "no-store" in client.get("/login/")["Cache-Control"]
