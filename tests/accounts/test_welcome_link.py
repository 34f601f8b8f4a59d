"""The first sign-in link: start page, spending it, the first password, then MFA enrolment."""

from __future__ import annotations

import logging

import pytest
from django.test import Client as HttpClient

from spacebetween import crypto
from spacebetween.accounts import welcome
from spacebetween.accounts.models import Role, SignInLink, User
from spacebetween.accounts.services import user_create
from spacebetween.audit.models import AuditEvent, Entity, Outcome
from spacebetween.practice.models import Practice
from tests.accounts.conftest import sign_in, totp_now
from tests.conftest import FakeClock

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "copper-kettle-evening-tide"  # noqa: S105


@pytest.fixture
def newcomer(practice: Practice) -> User:
    return user_create(
        practice=practice, email="new@example.org", full_name="New Admin", role=Role.ADMIN, password=None
    )


def set_up(http: HttpClient, token: str, password: str = NEW_PASSWORD):  # type: ignore[no-untyped-def]
    http.post(f"/welcome/{token}/")
    return http.post("/account/welcome/password/", {"new_password1": password, "new_password2": password})


def test_the_whole_first_sign_in(client: HttpClient, newcomer: User, clock: FakeClock) -> None:
    token, link = welcome.link_issue(user=newcomer)
    page = client.get(f"/welcome/{token}/")
    assert page.status_code == 200 and page["Referrer-Policy"] == "strict-origin"
    assert b"Set up your account" in page.content
    link.refresh_from_db()
    assert link.used_at is None, "opening the link consumes nothing"
    assert client.get(f"/welcome/{token}/").status_code == 200

    started = client.post(f"/welcome/{token}/")
    assert started.status_code == 302 and started["Location"] == "/account/welcome/password/"
    link.refresh_from_db()
    assert link.used_at == clock.now
    assert client.get("/account/welcome/password/").status_code == 200

    weak = client.post("/account/welcome/password/", {"new_password1": "short", "new_password2": "short"})
    assert weak.status_code == 200 and b"too short" in weak.content
    done = client.post(
        "/account/welcome/password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302 and done["Location"] == "/account/mfa/enrol/"
    newcomer.refresh_from_db()
    assert newcomer.check_password(NEW_PASSWORD)
    assert client.get("/").status_code == 302, "nothing else before MFA"
    assert client.get("/practice/staff/")["Location"] == "/account/mfa/enrol/"

    assert client.get("/account/mfa/enrol/").status_code == 200
    enrolled = client.post("/account/mfa/enrol/", {"code": totp_now(newcomer, clock)})
    assert enrolled.status_code == 200 and b"recovery" in enrolled.content.lower()
    assert client.get("/practice/staff/").status_code == 200, "a normal signed-in admin now"

    # Later: a normal sign-in with the password and a code.
    client.post("/logout/")
    clock.advance(seconds=30)
    response = sign_in(client, newcomer, password=NEW_PASSWORD)
    assert response["Location"] == "/account/mfa/verify/"
    client.post("/account/mfa/verify/", {"code": totp_now(newcomer, clock)})
    assert client.get("/practice/staff/").status_code == 200

    events = AuditEvent.objects.filter(entity_type=Entity.SIGN_IN_LINK)
    assert events.filter(outcome=Outcome.SUCCESS).count() == 2  # issued, used


def test_a_link_works_once(client: HttpClient, newcomer: User, clock: FakeClock) -> None:
    token, _ = welcome.link_issue(user=newcomer)
    set_up(client, token)
    other = HttpClient()
    assert other.get(f"/welcome/{token}/").status_code == 410
    again = other.post(f"/welcome/{token}/")
    assert again.status_code == 410 and b"does not work" in again.content
    assert other.get("/account/welcome/password/").status_code == 403
    failures = AuditEvent.objects.filter(entity_type=Entity.SIGN_IN_LINK, outcome=Outcome.MINOR_FAILURE)
    assert failures.count() == 2


def test_an_expired_link_does_not_work(client: HttpClient, newcomer: User, clock: FakeClock) -> None:
    token, _ = welcome.link_issue(user=newcomer)
    clock.advance(hours=71, minutes=59)
    assert client.get(f"/welcome/{token}/").status_code == 200
    clock.advance(minutes=1)
    assert client.get(f"/welcome/{token}/").status_code == 410
    assert client.post(f"/welcome/{token}/").status_code == 410
    newcomer.refresh_from_db()
    assert not newcomer.has_usable_password()


def test_a_reissued_link_revokes_the_old_one(client: HttpClient, newcomer: User) -> None:
    old, _ = welcome.link_issue(user=newcomer)
    new, _ = welcome.link_issue(user=newcomer)
    assert client.get(f"/welcome/{old}/").status_code == 410
    assert client.get(f"/welcome/{new}/").status_code == 200


def test_unknown_and_used_links_show_the_same_page(client: HttpClient, newcomer: User) -> None:
    token, _ = welcome.link_issue(user=newcomer)
    set_up(HttpClient(), token)
    unknown = client.get("/welcome/not-a-real-token/")
    used = client.get(f"/welcome/{token}/")
    assert unknown.status_code == 404 and used.status_code == 410
    assert unknown.content == used.content
    assert b"new@example.org" not in used.content


def test_the_set_up_session_ends_after_30_minutes(
    client: HttpClient, newcomer: User, clock: FakeClock
) -> None:
    token, _ = welcome.link_issue(user=newcomer)
    client.post(f"/welcome/{token}/")
    clock.advance(minutes=31)
    assert client.get("/account/welcome/password/").status_code == 403


def test_a_deactivated_account_cannot_use_its_link(client: HttpClient, newcomer: User) -> None:
    token, _ = welcome.link_issue(user=newcomer)
    User.objects.filter(pk=newcomer.pk).update(is_active=False)
    assert client.post(f"/welcome/{token}/").status_code == 410


def test_failures_are_limited_per_address(client: HttpClient, newcomer: User, clock: FakeClock) -> None:
    token, _ = welcome.link_issue(user=newcomer)
    for n in range(welcome.MAX_LINK_FAILURES):
        assert client.get(f"/welcome/wrong-{n}/").status_code == 404
    assert client.get(f"/welcome/{token}/").status_code == 429
    clock.advance(minutes=16)
    assert client.get(f"/welcome/{token}/").status_code == 200


def test_someone_signed_in_is_signed_out_by_the_link(newcomer: User, admin: User, clock: FakeClock) -> None:
    from tests.conftest import signed_in

    http = signed_in(admin)
    token, _ = welcome.link_issue(user=newcomer)
    set_up(http, token)
    assert http.session["_auth_user_id"] == str(newcomer.pk)


def test_the_token_stays_out_of_the_logs(
    client: HttpClient, newcomer: User, caplog: pytest.LogCaptureFixture
) -> None:
    token, _ = welcome.link_issue(user=newcomer)
    set_up(HttpClient(), token)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get(f"/welcome/{token}/")
    assert caplog.records, "the refusal was logged"
    assert not any(token in r.getMessage() for r in caplog.records)
    assert SignInLink.objects.filter(token_hash=crypto.token_hash(token)).exists()
