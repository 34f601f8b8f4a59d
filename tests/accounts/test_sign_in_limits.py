from __future__ import annotations

import html

import pytest

from spacebetween.accounts import signin
from spacebetween.accounts.models import AuthFailure, Lockout, ThrottleScope
from spacebetween.audit.models import AuditEvent, Outcome
from tests.accounts.conftest import enrolled, sign_in, totp_now

pytestmark = pytest.mark.django_db

WRONG = "wrong password 123"
SPRAYER = "203.0.113.9"


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


def _fail(client, user, times: int, **extra: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(times):
        sign_in(client, user, password=WRONG, **extra)


def _spray(client, times: int) -> None:  # type: ignore[no-untyped-def]
    """One wrong password against many addresses, all from one IP."""
    for i in range(times):
        client.post("/login/", {"email": f"person{i}@example.org", "password": WRONG}, REMOTE_ADDR=SPRAYER)


def test_four_failures_do_not_lock_the_account(client, carol_user, clock) -> None:
    _fail(client, carol_user, 4)
    assert sign_in(client, carol_user).url == "/"


def test_it_locks_the_account_after_five_failures(client, carol_user, clock) -> None:
    _fail(client, carol_user, 5)
    response = sign_in(client, carol_user)
    assert signin.LOCKED_OUT in _text(response)
    assert "_auth_user_id" not in client.session


def test_the_lock_holds_for_fifteen_minutes(client, carol_user, clock) -> None:
    _fail(client, carol_user, 5)
    clock.advance(minutes=14, seconds=59)
    assert signin.LOCKED_OUT in _text(sign_in(client, carol_user))


def test_the_lock_ends_after_fifteen_minutes(client, carol_user, clock) -> None:
    _fail(client, carol_user, 5)
    clock.advance(minutes=15, seconds=1)
    assert sign_in(client, carol_user).url == "/"


def test_the_account_lock_applies_from_any_address(client, carol_user, clock) -> None:
    _fail(client, carol_user, 5, REMOTE_ADDR="192.0.2.1")
    assert signin.LOCKED_OUT in _text(sign_in(client, carol_user, REMOTE_ADDR="198.51.100.7"))


def test_failures_older_than_fifteen_minutes_do_not_count(client, carol_user, clock) -> None:
    _fail(client, carol_user, 4)
    clock.advance(minutes=15, seconds=1)
    _fail(client, carol_user, 1)
    assert sign_in(client, carol_user).url == "/"


def test_a_successful_sign_in_clears_the_count(client, carol_user, clock) -> None:
    _fail(client, carol_user, 4)
    sign_in(client, carol_user)
    client.post("/logout/")
    _fail(client, carol_user, 4)
    assert sign_in(client, carol_user).url == "/"


def test_an_unknown_email_is_locked_the_same_way(client, practice, clock) -> None:
    for _ in range(5):
        client.post("/login/", {"email": "nobody@example.org", "password": WRONG})
    response = client.post("/login/", {"email": "nobody@example.org", "password": WRONG})
    assert signin.LOCKED_OUT in _text(response)


def test_the_lockout_is_audited(client, carol_user, clock) -> None:
    _fail(client, carol_user, 5)
    event = AuditEvent.objects.get(event_type="lockout")
    assert (event.actor_id, event.outcome) == (carol_user.pk, Outcome.SERIOUS_FAILURE)
    assert event.detail == "account"


def test_a_refusal_while_locked_is_audited(client, carol_user, clock) -> None:
    _fail(client, carol_user, 5)
    sign_in(client, carol_user)
    refusals = AuditEvent.objects.filter(event_type="login", detail="locked-out", actor_id=carol_user.pk)
    assert refusals.count() == 1


def test_the_lock_is_stored_in_the_database(client, carol_user, clock) -> None:
    _fail(client, carol_user, 5)
    lock = Lockout.objects.get(scope=ThrottleScope.ACCOUNT)
    assert lock.until == clock.now + signin.LOCKOUT_PERIOD


def test_the_typed_email_is_not_stored_with_the_failures(client, practice, clock) -> None:
    client.post("/login/", {"email": "nobody@example.org", "password": WRONG})
    assert not AuditEvent.objects.filter(detail__icontains="nobody").exists()
    assert all("nobody" not in f.key for f in AuthFailure.objects.all())


def test_it_blocks_an_address_after_twenty_failures(client, practice, clock) -> None:
    _spray(client, 20)
    response = client.post("/login/", {"email": "other@example.org", "password": WRONG}, REMOTE_ADDR=SPRAYER)
    assert signin.LOCKED_OUT in _text(response)


def test_an_address_block_stops_even_a_correct_password(client, carol_user, clock) -> None:
    _spray(client, 20)
    assert signin.LOCKED_OUT in _text(sign_in(client, carol_user, REMOTE_ADDR=SPRAYER))


def test_nineteen_failures_from_an_address_do_not_block_it(client, carol_user, clock) -> None:
    _spray(client, 19)
    assert sign_in(client, carol_user, REMOTE_ADDR=SPRAYER).url == "/"


def test_an_address_block_does_not_affect_other_addresses(client, carol_user, clock) -> None:
    _spray(client, 20)
    assert sign_in(client, carol_user, REMOTE_ADDR="198.51.100.7").url == "/"


# --- Codes -------------------------------------------------------------------------------------


def _wrong_codes(client, times: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(times):
        client.post("/account/mfa/verify/", {"code": "not-a-code"})


def test_it_stops_accepting_codes_after_five_wrong_ones(client, alice, clock) -> None:
    enrolled(client, alice, clock)
    sign_in(client, alice)
    _wrong_codes(client, 5)
    response = client.post("/account/mfa/verify/", {"code": totp_now(alice, clock)})
    assert signin.CODES_LOCKED_OUT in _text(response)
    assert client.session.get(signin.SESSION_MFA_DONE) is None


def test_four_wrong_codes_still_allow_the_right_one(client, alice, clock) -> None:
    enrolled(client, alice, clock)
    sign_in(client, alice)
    _wrong_codes(client, 4)
    assert client.post("/account/mfa/verify/", {"code": totp_now(alice, clock)}).url == "/"


def test_the_code_limit_ends_after_fifteen_minutes(client, alice, clock) -> None:
    enrolled(client, alice, clock)
    sign_in(client, alice)
    _wrong_codes(client, 5)
    clock.advance(minutes=15, seconds=1)
    client.post("/logout/")
    sign_in(client, alice)
    assert client.post("/account/mfa/verify/", {"code": totp_now(alice, clock)}).url == "/"


def test_the_code_limit_also_covers_enrolment(client, alice, clock) -> None:
    sign_in(client, alice)
    client.get("/account/mfa/enrol/")
    wrong = "000000" if totp_now(alice, clock) != "000000" else "111111"
    for _ in range(5):
        client.post("/account/mfa/enrol/", {"code": wrong})
    response = client.post("/account/mfa/enrol/", {"code": totp_now(alice, clock)})
    assert signin.CODES_LOCKED_OUT in _text(response)


def test_the_code_lockout_is_audited(client, alice, clock) -> None:
    enrolled(client, alice, clock)
    sign_in(client, alice)
    _wrong_codes(client, 5)
    assert AuditEvent.objects.filter(event_type="lockout", actor_id=alice.pk, detail="codes").count() == 1
