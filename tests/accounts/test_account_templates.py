"""Every template of the accounts app, rendered through its real page, carries no inline script or
style: the Content-Security-Policy (script-src 'self'; style-src 'self') would block it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client as HttpClient
from django.test import override_settings

import spacebetween.accounts
from spacebetween.accounts import welcome
from spacebetween.accounts.models import Role, User
from spacebetween.accounts.services import user_create
from tests.accounts.conftest import enrol, enrolled, sign_in, totp_now
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

TEMPLATE_DIR = Path(spacebetween.accounts.__file__).parent / "templates" / "accounts"
INLINE = re.compile(r"<script|<style|\sstyle\s*=|\son[a-z]+\s*=|javascript:", re.IGNORECASE)


def _login(http, users, clock):  # type: ignore[no-untyped-def]
    user_create(
        practice=users["admin"].practice,
        email="demo@example.org",
        full_name="Demo",
        role=Role.THERAPIST,
        password=PASSWORD,
        is_demo_account=True,
    )
    with override_settings(ALLOW_DEMO_ACCOUNTS=True):
        return http.post("/login/", {"email": "x@example.org", "password": "wrong password 1"})


def _mfa_enrol(http, users, clock):  # type: ignore[no-untyped-def]
    sign_in(http, users["alice"])
    http.get("/account/mfa/enrol/")
    return http.post("/account/mfa/enrol/", {"code": "12"})


def _recovery_codes(http, users, clock):  # type: ignore[no-untyped-def]
    sign_in(http, users["alice"])
    http.get("/account/mfa/enrol/")
    return http.post("/account/mfa/enrol/", {"code": totp_now(users["alice"], clock)})


def _mfa_verify(http, users, clock):  # type: ignore[no-untyped-def]
    enrolled(http, users["alice"], clock)
    sign_in(http, users["alice"])
    return http.post("/account/mfa/verify/", {"code": "nope"})


def _password_change(http, users, clock):  # type: ignore[no-untyped-def]
    enrol(http, users["alice"], clock)
    return http.post("/account/password/", {"old_password": "x", "new_password1": "y", "new_password2": "z"})


def _staff_list(http, users, clock):  # type: ignore[no-untyped-def]
    enrol(http, users["admin"], clock)
    return http.get("/practice/staff/")


def _staff_add(http, users, clock):  # type: ignore[no-untyped-def]
    enrol(http, users["admin"], clock)
    return http.post("/practice/staff/add/", {"email": "bad", "role": "nope"})


def _staff_edit(http, users, clock):  # type: ignore[no-untyped-def]
    enrol(http, users["admin"], clock)
    return http.post(f"/practice/staff/{users['alice'].pk}/reset-mfa/", {})


def _welcome(http, users, clock):  # type: ignore[no-untyped-def]
    token, _ = welcome.link_issue(user=users["admin"])
    return http.get(f"/welcome/{token}/")


def _welcome_password(http, users, clock):  # type: ignore[no-untyped-def]
    token, _ = welcome.link_issue(user=users["admin"])
    http.post(f"/welcome/{token}/")
    return http.post("/account/welcome/password/", {"new_password1": "x", "new_password2": "y"})


def _welcome_problem(http, users, clock):  # type: ignore[no-untyped-def]
    return http.get("/welcome/unknown-token/")


def _password_reset(http, users, clock):  # type: ignore[no-untyped-def]
    return http.post("/account/password/reset/", {"email": "not an address"})


def _supervision(http, users, clock):  # type: ignore[no-untyped-def]
    User.objects.filter(pk=users["alice"].pk).update(proposed_supervisor=users["admin"])
    enrol(http, users["alice"], clock)
    return http.get("/account/supervision/")


PAGES: dict[str, Callable] = {
    "login.html": _login,
    "mfa_enrol.html": _mfa_enrol,
    "recovery_codes.html": _recovery_codes,
    "mfa_verify.html": _mfa_verify,
    "password_change.html": _password_change,
    "staff_list.html": _staff_list,
    "staff_add.html": _staff_add,
    "staff_edit.html": _staff_edit,
    "welcome.html": _welcome,
    "welcome_password.html": _welcome_password,
    "welcome_problem.html": _welcome_problem,
    "password_reset.html": _password_reset,
    "supervision.html": _supervision,
}
# Pages that are not a 200 when they work as they should.
STATUS = {"welcome_problem.html": 404}


def test_every_template_of_the_app_is_checked() -> None:
    assert {p.name for p in TEMPLATE_DIR.glob("*.html")} == set(PAGES)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_template_has_no_inline_script_or_style(name, admin, alice, sam, clock) -> None:
    response = PAGES[name](HttpClient(), {"admin": admin, "alice": alice}, clock)
    assert response.status_code == STATUS.get(name, 200)
    assert f"accounts/{name}" in [t.name for t in response.templates]
    page = response.content.decode()
    assert not INLINE.findall(page), INLINE.findall(page)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_template_source_has_no_inline_script_or_style(name) -> None:
    assert not INLINE.search((TEMPLATE_DIR / name).read_text())


def test_the_check_would_catch_an_inline_style() -> None:
    assert (
        INLINE.search('<p style="color: red">')
        and INLINE.search("<svg><style>")
        and INLINE.search("<a onclick=x>")
    )
