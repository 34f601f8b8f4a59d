from __future__ import annotations

import html

import pytest
from django.contrib.sessions.models import Session
from django.test import Client as HttpClient

from spacebetween.accounts import signin
from spacebetween.accounts.models import UserSession
from spacebetween.audit.models import AuditEvent
from tests.accounts.conftest import enrol, enrolled, sign_in, totp_now

pytestmark = pytest.mark.django_db

# A page every signed-in user may open, owned by this app.
PAGE = "/account/password/"


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


# --- Timeouts ----------------------------------------------------------------------------------


def test_staff_stay_signed_in_when_active_within_fifteen_minutes(client, alice, clock) -> None:
    enrol(client, alice, clock)
    clock.advance(minutes=14, seconds=59)
    assert client.get(PAGE).status_code == 200


def test_staff_are_signed_out_after_fifteen_idle_minutes(client, alice, clock) -> None:
    enrol(client, alice, clock)
    clock.advance(minutes=15)
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response.url == f"/login/?next={PAGE}"
    assert "_auth_user_id" not in client.session


def test_activity_restarts_the_idle_clock(client, alice, clock) -> None:
    enrol(client, alice, clock)
    clock.advance(minutes=10)
    client.get(PAGE)
    clock.advance(minutes=10)
    assert client.get(PAGE).status_code == 200


def test_staff_are_signed_out_twelve_hours_after_sign_in_however_active(client, alice, clock) -> None:
    enrol(client, alice, clock)
    for _ in range(12 * 6):
        clock.advance(minutes=10)
        client.get(PAGE)
    assert "_auth_user_id" not in client.session


def test_staff_active_for_just_under_twelve_hours_stay_signed_in(client, alice, clock) -> None:
    enrol(client, alice, clock)
    for _ in range(12 * 6 - 1):
        clock.advance(minutes=10)
        client.get(PAGE)
    clock.advance(minutes=9)
    assert client.get(PAGE).status_code == 200


def test_a_client_stays_signed_in_after_fifteen_idle_minutes(client, carol_user, clock) -> None:
    sign_in(client, carol_user)
    clock.advance(minutes=16)
    assert client.get(PAGE).status_code == 200


def test_a_client_is_signed_out_after_their_idle_limit(client, carol_user, clock, settings) -> None:
    sign_in(client, carol_user)
    clock.advance(seconds=settings.CLIENT_IDLE_TIMEOUT_SECONDS)
    assert client.get(PAGE).status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_client_is_signed_out_at_their_absolute_limit_however_active(
    client, carol_user, clock, settings
) -> None:
    sign_in(client, carol_user)
    for _ in range(settings.CLIENT_ABSOLUTE_TIMEOUT_SECONDS // 600):
        clock.advance(minutes=10)
        client.get(PAGE)
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.get(event_type="logout").detail == "absolute-timeout"


def test_the_limits_come_from_settings(client, alice, clock, settings) -> None:
    settings.STAFF_IDLE_TIMEOUT_SECONDS = 60
    enrol(client, alice, clock)
    clock.advance(seconds=61)
    assert client.get(PAGE).status_code == 302


def test_an_expired_session_shows_why_on_the_sign_in_page(client, alice, clock) -> None:
    enrol(client, alice, clock)
    clock.advance(minutes=16)
    client.get(PAGE)
    assert signin.SESSION_EXPIRED in _text(client.get("/login/"))


def test_an_expired_session_is_deleted_on_the_server(client, alice, clock) -> None:
    enrol(client, alice, clock)
    key = client.session.session_key
    clock.advance(minutes=16)
    client.get(PAGE)
    assert not Session.objects.filter(session_key=key).exists()
    assert not UserSession.objects.filter(session_key=key).exists()


def test_an_expired_session_is_audited(client, alice, clock) -> None:
    enrol(client, alice, clock)
    clock.advance(minutes=16)
    client.get(PAGE)
    event = AuditEvent.objects.get(event_type="logout")
    assert (event.actor_id, event.detail) == (alice.pk, "idle-timeout")


def test_a_password_only_session_also_times_out(client, alice, clock) -> None:
    sign_in(client, alice)
    clock.advance(minutes=15)
    assert client.get("/account/mfa/enrol/").url == "/login/?next=/account/mfa/enrol/"


# --- Logout ------------------------------------------------------------------------------------


def test_logout_by_get_is_refused(client, carol_user) -> None:
    sign_in(client, carol_user)
    assert client.get("/logout/").status_code == 405
    assert "_auth_user_id" in client.session


def test_logout_signs_the_user_out(client, carol_user) -> None:
    sign_in(client, carol_user)
    response = client.post("/logout/")
    assert response.url == "/login/"
    assert client.get(PAGE).status_code == 302


def test_logout_ends_the_users_sessions_on_other_devices(carol_user) -> None:
    laptop, phone = HttpClient(), HttpClient()
    sign_in(laptop, carol_user)
    sign_in(phone, carol_user)
    phone_key = phone.session.session_key
    laptop.post("/logout/")
    assert not Session.objects.filter(session_key=phone_key).exists()
    assert phone.get(PAGE).status_code == 302


def test_logout_leaves_other_users_signed_in(carol_user, bob, clock) -> None:
    carol, bobs = HttpClient(), HttpClient()
    sign_in(carol, carol_user)
    enrol(bobs, bob, clock)
    carol.post("/logout/")
    assert bobs.get(PAGE).status_code == 200


def test_logout_is_audited(client, carol_user) -> None:
    sign_in(client, carol_user)
    client.post("/logout/")
    event = AuditEvent.objects.get(event_type="logout")
    assert (event.actor_id, event.detail) == (carol_user.pk, "user")


def test_logout_asks_the_browser_to_clear_site_data(client, carol_user) -> None:
    sign_in(client, carol_user)
    assert '"cache"' in client.post("/logout/")["Clear-Site-Data"]


def test_logout_empties_the_session_registry(client, carol_user) -> None:
    sign_in(client, carol_user)
    client.post("/logout/")
    assert not UserSession.objects.filter(user=carol_user).exists()


# --- Session keys ------------------------------------------------------------------------------


def test_each_session_is_registered_under_its_current_key(client, alice, clock) -> None:
    enrolled(client, alice, clock)
    sign_in(client, alice)
    client.post("/account/mfa/verify/", {"code": totp_now(alice, clock)})
    keys = list(UserSession.objects.filter(user=alice).values_list("session_key", flat=True))
    assert keys == [client.session.session_key]


def test_the_password_only_session_key_dies_when_mfa_completes(client, alice, clock) -> None:
    enrolled(client, alice, clock)
    sign_in(client, alice)
    password_only_key = client.session.session_key
    client.post("/account/mfa/verify/", {"code": totp_now(alice, clock)})
    assert not Session.objects.filter(session_key=password_only_key).exists()


def test_forgotten_sessions_are_pruned_from_the_registry_at_sign_in(client, carol_user) -> None:
    sign_in(client, carol_user)
    old_key = client.session.session_key
    Session.objects.filter(session_key=old_key).delete()
    sign_in(HttpClient(), carol_user)
    assert not UserSession.objects.filter(session_key=old_key).exists()
