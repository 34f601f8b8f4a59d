"""Look-alikes of an address (Go live, item 11.1): `ſ` (U+017F) and `ı` (U+0131), which PostgreSQL's
UPPER() maps to S and I. Every spelling that reaches an account counts against that account's limit,
and a spelling that the stored address does not match exactly reaches no account at all, on SQLite
and PostgreSQL alike."""

from __future__ import annotations

import html

import pytest
from django.test import Client as HttpClient

from spacebetween.accounts import models, signin
from spacebetween.accounts.models import Role, User
from spacebetween.accounts.services import user_create
from tests.accounts.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

WRONG = "wrong password 123"


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


def _post(http: HttpClient, email: str, password: str = WRONG):  # type: ignore[no-untyped-def]
    return http.post("/login/", {"email": email, "password": password})


def test_failures_under_look_alike_spellings_lock_the_one_account(client, sam, clock) -> None:
    spellings = [
        "sam@example.org",
        "ſam@example.org",
        "SAM@EXAMPLE.ORG",
        "ſAM@example.org",
        "Sam@Example.org",
    ]
    for email in spellings:
        assert signin.INVALID_LOGIN in _text(_post(client, email))
    response = sign_in(client, sam)
    assert signin.LOCKED_OUT in _text(response)
    assert "_auth_user_id" not in client.session


def test_a_look_alike_spelling_is_refused_while_the_account_is_locked(client, sam, clock) -> None:
    for _ in range(signin.MAX_ACCOUNT_FAILURES):
        _post(client, sam.email)
    assert signin.LOCKED_OUT in _text(_post(HttpClient(), "ſam@example.org", PASSWORD))


def test_a_spelling_the_stored_address_does_not_match_reaches_no_account(client, alice, clock) -> None:
    # `alıce` is not `alice`: on PostgreSQL UPPER() made them equal and tried Alice's password.
    response = _post(client, "alıce@example.org", PASSWORD)
    assert signin.INVALID_LOGIN in _text(response)
    assert "_auth_user_id" not in client.session


def test_failures_under_an_unmatched_spelling_leave_the_account_alone(client, carol_user, clock) -> None:
    for _ in range(signin.MAX_ACCOUNT_FAILURES):
        _post(client, "carol@example.org".replace("o", "ο"))  # Greek omicron: another address
    assert sign_in(HttpClient(), carol_user).url == "/"


def test_the_address_is_found_in_any_case(client, carol_user, clock) -> None:
    assert _post(client, "  CAROL@Example.ORG ", PASSWORD).url == "/"


def test_the_address_is_stored_in_the_form_it_is_looked_up_in(practice) -> None:
    user = user_create(
        practice=practice, email="ſUE@Example.ORG", full_name="Sue", role=Role.CLIENT, password=None
    )
    assert user.email == "sue@example.org" == models.normalise_email("  ſue@EXAMPLE.org ")
    assert models.normalise_email("ｓｕｅ@example.org") == user.email  # fullwidth letters
    assert User.objects.get_by_natural_key("SUE@example.org") == user
    with pytest.raises(User.DoesNotExist):
        User.objects.get_by_natural_key("ſuı@example.org")
