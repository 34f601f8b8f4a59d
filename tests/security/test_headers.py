"""Security headers on every response of the sign-in and account pages."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from spacebetween.accounts import signin
from spacebetween.ui.middleware import CONTENT_SECURITY_POLICY
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ANONYMOUS_PAGES = ["/login/", "/", "/account/password/", "/practice/staff/", "/no-such-page/"]


def _signed_in(user) -> HttpClient:  # type: ignore[no-untyped-def]
    http = HttpClient()
    http.force_login(user)
    session = http.session
    session[signin.SESSION_MFA_DONE] = True
    session.save()
    return http


def test_the_policy_allows_no_inline_script_or_style() -> None:
    assert CONTENT_SECURITY_POLICY == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_every_response_carries_the_content_security_policy(client, practice, path) -> None:
    assert client.get(path)["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_every_response_carries_a_permissions_policy(client, practice, path) -> None:
    policy = client.get(path)["Permissions-Policy"]
    assert "camera=()" in policy
    assert "microphone=()" in policy
    assert "geolocation=()" in policy


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_every_response_is_for_this_origin_only(client, practice, path) -> None:
    assert client.get(path)["Cross-Origin-Resource-Policy"] == "same-origin"


def test_pages_for_signed_in_users_are_never_stored(carol_user) -> None:
    assert _signed_in(carol_user).get("/account/password/")["Cache-Control"] == "no-store"


def test_redirects_for_signed_in_users_are_never_stored(alice) -> None:
    assert _signed_in(alice).get("/")["Cache-Control"] == "no-store"


def test_not_found_pages_for_signed_in_users_are_never_stored(alice) -> None:
    assert _signed_in(alice).get("/practice/staff/")["Cache-Control"] == "no-store"


def test_pages_are_not_framed_and_not_sniffed(client, practice) -> None:
    response = client.get("/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_session_cookie_is_http_only_and_same_site(client, carol_user) -> None:
    client.post("/login/", {"email": carol_user.email, "password": PASSWORD})
    cookie = client.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


@pytest.mark.parametrize(
    "path",
    [
        "/login/",
        "/logout/",
        "/account/mfa/enrol/",
        "/account/mfa/verify/",
        "/account/password/",
        "/practice/staff/add/",
    ],
)
def test_forms_refuse_a_post_without_a_csrf_token(carol_user, path) -> None:
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(carol_user)
    assert http.post(path, {}).status_code == 403
