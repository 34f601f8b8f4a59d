from __future__ import annotations

import datetime as dt
import hashlib
import html

import pyotp
import pytest
from django.test import override_settings

from spacebetween.accounts import signin
from spacebetween.accounts.models import RecoveryCode, Role, TotpDevice
from spacebetween.accounts.services import user_create
from spacebetween.audit.models import AuditEvent, Outcome
from tests.accounts.conftest import enrol, enrolled, sign_in, totp_at, totp_now
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


# --- Who must use MFA ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["alice", "sam", "admin"])
def test_staff_without_an_authenticator_are_sent_to_set_one_up(client, request, name) -> None:
    response = sign_in(client, request.getfixturevalue(name))
    assert response.url == "/account/mfa/enrol/"


def test_staff_with_an_authenticator_are_sent_to_enter_a_code(client, alice, clock) -> None:
    enrolled(client, alice, clock)
    assert sign_in(client, alice).url == "/account/mfa/verify/"


def test_a_client_does_not_need_mfa(client, carol_user) -> None:
    sign_in(client, carol_user)
    assert client.session[signin.SESSION_MFA_DONE] is True


def _demo_therapist(practice):  # type: ignore[no-untyped-def]
    return user_create(
        practice=practice,
        email="demo@example.org",
        full_name="Demo",
        role=Role.THERAPIST,
        password=PASSWORD,
        is_demo_account=True,
    )


def test_a_demo_account_skips_mfa_while_demo_accounts_are_allowed(client, practice) -> None:
    demo = _demo_therapist(practice)
    with override_settings(ALLOW_DEMO_ACCOUNTS=True):
        assert sign_in(client, demo).url == "/"


def test_a_demo_account_needs_mfa_when_demo_accounts_are_not_allowed(client, practice) -> None:
    demo = _demo_therapist(practice)
    with override_settings(ALLOW_DEMO_ACCOUNTS=False):
        assert sign_in(client, demo).url == "/account/mfa/enrol/"


def test_the_password_step_of_a_staff_member_is_audited_as_mfa_pending(client, alice) -> None:
    sign_in(client, alice)
    assert AuditEvent.objects.get(event_type="login").detail == "password; mfa pending"


# --- The password-only session -------------------------------------------------------------------


def test_a_password_only_session_cannot_open_other_pages(client, alice) -> None:
    sign_in(client, alice)
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == "/account/mfa/enrol/"


def test_a_password_only_session_is_sent_to_the_code_page_once_enrolled(client, alice, clock) -> None:
    enrolled(client, alice, clock)
    sign_in(client, alice)
    assert client.get("/practice/staff/").url == "/account/mfa/verify/"


def test_a_password_only_session_can_sign_out(client, alice) -> None:
    sign_in(client, alice)
    response = client.post("/logout/")
    assert response.url == "/login/"
    assert "_auth_user_id" not in client.session


def test_a_password_only_session_can_fetch_static_files(client, alice) -> None:
    sign_in(client, alice)
    response = client.get("/static/spacebetween/site.css")
    assert response.status_code == 200


def test_a_password_only_session_cannot_post_to_other_pages(client, alice) -> None:
    sign_in(client, alice)
    response = client.post("/account/password/", {"old_password": PASSWORD})
    assert response.url == "/account/mfa/enrol/"


# --- Enrolment ---------------------------------------------------------------------------------


def test_the_set_up_page_shows_a_qr_code_and_the_key_as_text(client, alice) -> None:
    sign_in(client, alice)
    page = client.get("/account/mfa/enrol/").content.decode()
    secret = signin.totp_secret(TotpDevice.objects.get(user=alice))
    assert "<svg" in page
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in page


def test_the_set_up_page_keeps_the_same_key_on_reload(client, alice) -> None:
    sign_in(client, alice)
    client.get("/account/mfa/enrol/")
    first = signin.totp_secret(TotpDevice.objects.get(user=alice))
    client.get("/account/mfa/enrol/")
    assert signin.totp_secret(TotpDevice.objects.get(user=alice)) == first


def test_the_key_is_encrypted_at_rest(client, alice) -> None:
    sign_in(client, alice)
    client.get("/account/mfa/enrol/")
    device = TotpDevice.objects.get(user=alice)
    assert signin.totp_secret(device) not in device.secret_encrypted
    assert len(signin.totp_secret(device)) == 32


def test_a_wrong_code_does_not_confirm_the_authenticator(client, alice, clock) -> None:
    sign_in(client, alice)
    client.get("/account/mfa/enrol/")
    wrong = "000000" if totp_now(alice, clock) != "000000" else "111111"
    response = client.post("/account/mfa/enrol/", {"code": wrong})
    assert signin.INVALID_CODE in _text(response)
    assert TotpDevice.objects.get(user=alice).confirmed_at is None
    assert client.get("/").url == "/account/mfa/enrol/"


def test_the_right_code_confirms_the_authenticator(client, alice, clock) -> None:
    enrol(client, alice, clock)
    assert TotpDevice.objects.get(user=alice).confirmed_at == clock.now


def test_enrolment_completes_the_sign_in(client, alice, clock) -> None:
    enrol(client, alice, clock)
    assert client.get("/account/password/").status_code == 200


def test_enrolment_shows_ten_recovery_codes_once(client, alice, clock) -> None:
    codes = enrol(client, alice, clock)
    assert len(codes) == 10
    assert len(set(codes)) == 10


def test_recovery_codes_are_stored_only_as_hashes(client, alice, clock) -> None:
    codes = enrol(client, alice, clock)
    stored = set(RecoveryCode.objects.filter(user=alice).values_list("code_hash", flat=True))
    assert stored == {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}


def test_enrolment_is_audited(client, alice, clock) -> None:
    enrol(client, alice, clock)
    event = AuditEvent.objects.get(event_type="mfa-enrol")
    assert (event.actor_id, event.outcome) == (alice.pk, Outcome.SUCCESS)


def test_enrolment_rotates_the_session_key(client, alice, clock) -> None:
    sign_in(client, alice)
    before = client.session.session_key
    enrol_page = client.get("/account/mfa/enrol/")
    assert enrol_page.status_code == 200
    client.post("/account/mfa/enrol/", {"code": totp_now(alice, clock)})
    assert client.session.session_key != before


def test_a_fully_signed_in_user_is_sent_home_from_the_set_up_page(client, alice, clock) -> None:
    enrol(client, alice, clock)
    assert client.get("/account/mfa/enrol/").url == "/"


# --- Verification --------------------------------------------------------------------------------


def test_the_current_code_completes_the_sign_in(client, alice, clock) -> None:
    enrolled(client, alice, clock)
    sign_in(client, alice)
    response = client.post("/account/mfa/verify/", {"code": totp_now(alice, clock)})
    assert response.url == "/"
    assert client.session[signin.SESSION_MFA_DONE] is True


def test_a_code_from_the_previous_time_step_is_accepted(client, alice, clock) -> None:
    enrolled(client, alice, clock)
    sign_in(client, alice)
    code = totp_now(alice, clock)
    clock.advance(seconds=30)
    assert client.post("/account/mfa/verify/", {"code": code}).url == "/"


def test_a_code_from_two_time_steps_ago_is_refused(client, alice, clock) -> None:
    enrolled(client, alice, clock)
    sign_in(client, alice)
    code = totp_now(alice, clock)
    clock.advance(seconds=60)
    if code in {totp_at(alice, clock.now + dt.timedelta(seconds=s)) for s in (-30, 0, 30)}:
        pytest.skip("the same six digits happen to recur within the window")
    response = client.post("/account/mfa/verify/", {"code": code})
    assert signin.INVALID_CODE in _text(response)


def test_the_same_code_is_refused_a_second_time(client, alice, clock) -> None:
    enrolled(client, alice, clock)
    sign_in(client, alice)
    code = totp_now(alice, clock)
    client.post("/account/mfa/verify/", {"code": code})
    client.post("/logout/")
    sign_in(client, alice)
    response = client.post("/account/mfa/verify/", {"code": code})
    assert signin.INVALID_CODE in _text(response)
    assert client.session.get(signin.SESSION_MFA_DONE) is None


def test_the_code_used_at_enrolment_cannot_be_used_again(client, alice, clock) -> None:
    enrol(client, alice, clock)
    code = totp_now(alice, clock)
    client.post("/logout/")
    sign_in(client, alice)
    response = client.post("/account/mfa/verify/", {"code": code})
    assert signin.INVALID_CODE in _text(response)


def test_a_recovery_code_completes_the_sign_in(client, alice, clock) -> None:
    codes = enrolled(client, alice, clock)
    sign_in(client, alice)
    assert client.post("/account/mfa/verify/", {"code": codes[0]}).url == "/"


def test_a_recovery_code_is_accepted_without_dashes_and_in_capitals(client, alice, clock) -> None:
    codes = enrolled(client, alice, clock)
    sign_in(client, alice)
    assert client.post("/account/mfa/verify/", {"code": codes[3].replace("-", " ").upper()}).url == "/"


def test_a_recovery_code_works_only_once(client, alice, clock) -> None:
    codes = enrolled(client, alice, clock)
    sign_in(client, alice)
    client.post("/account/mfa/verify/", {"code": codes[0]})
    client.post("/logout/")
    sign_in(client, alice)
    response = client.post("/account/mfa/verify/", {"code": codes[0]})
    assert signin.INVALID_CODE in _text(response)


def test_a_used_recovery_code_is_marked_used(client, alice, clock) -> None:
    codes = enrolled(client, alice, clock)
    sign_in(client, alice)
    client.post("/account/mfa/verify/", {"code": codes[0]})
    assert RecoveryCode.objects.filter(user=alice, used_at__isnull=False).count() == 1


def test_a_wrong_code_is_refused_and_audited(client, alice, clock) -> None:
    enrolled(client, alice, clock)
    sign_in(client, alice)
    response = client.post("/account/mfa/verify/", {"code": "not-a-code"})
    assert signin.INVALID_CODE in _text(response)
    event = AuditEvent.objects.filter(event_type="mfa-verify").get()
    assert (event.actor_id, event.outcome, event.detail) == (alice.pk, Outcome.MINOR_FAILURE, "wrong-code")


def test_a_successful_code_is_audited_as_a_sign_in(client, alice, clock) -> None:
    enrolled(client, alice, clock)
    sign_in(client, alice)
    client.post("/account/mfa/verify/", {"code": totp_now(alice, clock)})
    event = AuditEvent.objects.filter(event_type="login", actor_id=alice.pk).last()
    assert event is not None and event.detail == "mfa totp"


def test_verification_rotates_the_session_key(client, alice, clock) -> None:
    enrolled(client, alice, clock)
    sign_in(client, alice)
    before = client.session.session_key
    client.post("/account/mfa/verify/", {"code": totp_now(alice, clock)})
    assert client.session.session_key != before


def test_verification_returns_to_the_page_asked_for_before_sign_in(client, alice, clock) -> None:
    enrolled(client, alice, clock)
    client.post("/login/?next=/practice/staff/", {"email": alice.email, "password": PASSWORD})
    assert client.post("/account/mfa/verify/", {"code": totp_now(alice, clock)}).url == "/practice/staff/"


def test_the_code_page_sends_unenrolled_staff_to_set_up(client, alice) -> None:
    sign_in(client, alice)
    assert client.get("/account/mfa/verify/").url == "/account/mfa/enrol/"


def test_the_code_page_sends_anonymous_visitors_to_sign_in(client, practice) -> None:
    assert client.get("/account/mfa/verify/").url.startswith("/login/")


def test_totp_codes_have_six_digits_and_thirty_second_steps(client, alice, clock) -> None:
    enrol(client, alice, clock)
    totp = pyotp.TOTP(signin.totp_secret(TotpDevice.objects.get(user=alice)))
    assert (totp.digits, totp.interval, signin.TOTP_VALID_WINDOW) == (6, 30, 1)
