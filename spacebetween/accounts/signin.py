"""Signing in and out: the password step and its limits, the MFA step (TOTP and recovery codes),
session timeouts, and the registry of a user's sessions that lets the server end them.

A sign-in has two stages. After the password the session is "password-only": `require_mfa` lets it
reach only the MFA pages, logout and static files, until `SESSION_MFA_DONE` is set. Staff always need
MFA (ASVS 5.0 6.3.3); demo accounts skip it only while settings.ALLOW_DEMO_ACCOUNTS, and in
production they cannot sign in at all; clients do not need it. Every success, failure, lockout and
sign-out is audited, and no typed email address, password or code is ever stored or logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from importlib import import_module
from typing import NoReturn

import pyotp
import segno
from django.conf import settings
from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils.crypto import salted_hmac

from spacebetween import clock, crypto
from spacebetween.accounts.models import (
    AuthFailure,
    Lockout,
    RecoveryCode,
    ThrottleScope,
    TotpDevice,
    User,
    UserSession,
    normalise_email,
)
from spacebetween.audit.models import Action, Entity, Outcome
from spacebetween.audit.services import client_address, record

# Limits (ASVS 5.0 6.1.1, 6.3.1). Per account, whatever spelling of its address was typed, and per
# typed address when there is no account, so a lockout reveals nothing; per IP address against
# spraying one password over many accounts.
MAX_ACCOUNT_FAILURES = 5
MAX_ADDRESS_FAILURES = 20
MAX_CODE_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
LOCKOUT_PERIOD = dt.timedelta(minutes=15)

# TOTP (RFC 6238): 30-second steps, 6 digits, one step either side for clock drift.
TOTP_INTERVAL = 30
TOTP_DIGITS = 6
TOTP_VALID_WINDOW = 1
TOTP_ISSUER = "Space Between"
RECOVERY_CODE_COUNT = 10
# 24 characters of base32 = 120 bits, above the 112 bits that allow a plain hash (ASVS 5.0 6.5.2).
RECOVERY_CODE_LENGTH = 24
_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"

INVALID_LOGIN = "The email address or password is not right."
LOCKED_OUT = "Too many failed attempts. Wait 15 minutes, then try again."
INVALID_CODE = "That code is not right, or it has already been used."
CODES_LOCKED_OUT = "Too many wrong codes. Wait 15 minutes, then try again."
SESSION_EXPIRED = "Your session has ended. Please sign in again."
SIGNED_OUT = "You have signed out."

# Session keys.
SESSION_LOGIN_AT = "sb_login_at"
SESSION_SEEN_AT = "sb_seen_at"
SESSION_MFA_DONE = "sb_mfa_done"
SESSION_NEXT = "sb_next"
SESSION_NOTICE = "sb_notice"


class SignInRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- Limits -------------------------------------------------------------------------------------


def _throttle_key(scope: ThrottleScope, value: str) -> str:
    return salted_hmac(f"spacebetween.accounts.throttle.{scope}", value, algorithm="sha256").hexdigest()


def _is_locked(scope: ThrottleScope, key: str, now: dt.datetime) -> bool:
    return Lockout.objects.filter(scope=scope, key=key, until__gt=now).exists()


def _count_failure(scope: ThrottleScope, key: str, limit: int, now: dt.datetime) -> bool:
    """Record one failure; True when it reaches the limit and locks the key."""
    AuthFailure.objects.filter(failed_at__lte=now - FAILURE_WINDOW).delete()
    AuthFailure.objects.create(scope=scope, key=key, failed_at=now)
    if AuthFailure.objects.filter(scope=scope, key=key, failed_at__gt=now - FAILURE_WINDOW).count() < limit:
        return False
    Lockout.objects.update_or_create(scope=scope, key=key, defaults={"until": now + LOCKOUT_PERIOD})
    # The failures are spent on this lockout; counting starts afresh when it ends.
    AuthFailure.objects.filter(scope=scope, key=key).delete()
    return True


def _clear_failures(scope: ThrottleScope, key: str) -> None:
    AuthFailure.objects.filter(scope=scope, key=key).delete()


def _audit(
    request: HttpRequest | None,
    event_type: str,
    user: User | None,
    detail: str,
    outcome: Outcome = Outcome.SUCCESS,
) -> None:
    record(
        action=Action.EXECUTE,
        event_type=event_type,
        actor=user,
        entity_type=Entity.USER if user is not None else None,
        entity_id=user.pk if user is not None else "",
        outcome=outcome,
        request=request,
        detail=detail,
        actor_role="" if user is not None else "anonymous",
    )


# --- The password step --------------------------------------------------------------------------


def password_check(*, request: HttpRequest, email: str, password: str) -> User:
    """Return the user for a correct email and password; otherwise count the failure and refuse
    with the same message whether or not the account exists."""
    now = clock.now()
    email = normalise_email(email)
    # Exactly the stored form (never `iexact`, whose meaning differs between databases): every
    # spelling that reaches an account counts against that account, and no other spelling reaches it.
    account = User.objects.filter(email=email).first()
    account_key = _throttle_key(
        ThrottleScope.ACCOUNT, f"user:{account.pk}" if account is not None else f"email:{email}"
    )
    address_key = _throttle_key(ThrottleScope.ADDRESS, client_address(request) or "unknown")
    if _is_locked(ThrottleScope.ACCOUNT, account_key, now) or _is_locked(
        ThrottleScope.ADDRESS, address_key, now
    ):
        _audit(request, "login", account, "locked-out", Outcome.MINOR_FAILURE)
        raise SignInRefused(LOCKED_OUT)
    user = authenticate(request, username=email, password=password)
    if not isinstance(user, User):
        with transaction.atomic():
            locked_account = _count_failure(ThrottleScope.ACCOUNT, account_key, MAX_ACCOUNT_FAILURES, now)
            locked_address = _count_failure(ThrottleScope.ADDRESS, address_key, MAX_ADDRESS_FAILURES, now)
            reason = "unknown-account" if account is None else "bad-password-or-inactive"
            _audit(request, "login", account, reason, Outcome.MINOR_FAILURE)
            if locked_account:
                _audit(request, "lockout", account, "account", Outcome.SERIOUS_FAILURE)
            if locked_address:
                _audit(request, "lockout", account, "address", Outcome.SERIOUS_FAILURE)
        raise SignInRefused(INVALID_LOGIN)
    if user.is_demo_account and settings.PRODUCTION:
        # A demo account's password is published: never a way in to a production installation
        # (`check --deploy` fails while one exists, spacebetween/accounts/checks.py).
        _audit(request, "login", user, "demo-account-in-production", Outcome.MINOR_FAILURE)
        raise SignInRefused(INVALID_LOGIN)
    _clear_failures(ThrottleScope.ACCOUNT, account_key)
    return user


def mfa_required(user: User) -> bool:
    """Staff need MFA; demo accounts skip it only while demo accounts are allowed (never in production)."""
    if user.is_demo_account and settings.ALLOW_DEMO_ACCOUNTS:
        return False
    return user.is_staff_member


def mfa_pending(request: HttpRequest) -> bool:
    """Signed in with the password only, by someone who still owes the second factor."""
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return False
    return mfa_required(user) and not request.session.get(SESSION_MFA_DONE)


def mfa_confirmed(user: User) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def session_start(*, request: HttpRequest, user: User) -> None:
    """After a correct password: a new session key (ASVS 5.0 7.2.4), its timestamps, and its registration."""
    auth_login(request, user)
    stamp = clock.now().timestamp()
    request.session[SESSION_LOGIN_AT] = stamp
    request.session[SESSION_SEEN_AT] = stamp
    needs_mfa = mfa_required(user)
    if not needs_mfa:
        request.session[SESSION_MFA_DONE] = True
    with transaction.atomic():
        _register(request, user)
        if needs_mfa:
            detail = "password; mfa pending"
        elif user.is_staff_member:
            detail = "password; demo account without mfa"
        else:
            detail = "password"
        _audit(request, "login", user, detail)


def next_step_url(request: HttpRequest, user: User, wanted: str | None) -> str:
    """Where to go after the password: the MFA step when one is owed (keeping `wanted` for later)."""
    if mfa_pending(request):
        if wanted:
            request.session[SESSION_NEXT] = wanted
        return reverse("mfa_verify") if mfa_confirmed(user) else reverse("mfa_enrol")
    return wanted or reverse(settings.LOGIN_REDIRECT_URL)


def after_mfa_url(request: HttpRequest) -> str:
    return request.session.pop(SESSION_NEXT, None) or reverse(settings.LOGIN_REDIRECT_URL)


# --- The MFA step -------------------------------------------------------------------------------


def _secret_context(user: User) -> str:
    return f"accounts.TotpDevice.secret:user={user.pk}"


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL)


def totp_enrolment(*, user: User) -> TotpDevice:
    """The user's unconfirmed authenticator, made on first visit (the same secret on reload)."""
    device = TotpDevice.objects.filter(user=user).first()
    if device is not None:
        return device
    secret = pyotp.random_base32(length=32)  # 160 bits, as RFC 4226 recommends
    return TotpDevice.objects.create(
        user=user, secret_encrypted=crypto.encrypt(secret, context=_secret_context(user))
    )


def totp_secret(device: TotpDevice) -> str:
    return crypto.decrypt(device.secret_encrypted, context=_secret_context(device.user))


def totp_qr_svg(*, user: User, secret: str) -> str:
    """The provisioning URI as an inline SVG QR code: no script, no style attributes."""
    uri = _totp(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)
    return segno.make(uri, error="m").svg_inline(
        scale=4, dark="#1d2430", light="#ffffff", title="QR code to scan with your authenticator app"
    )


def _matching_step(secret: str, code: str, now: dt.datetime) -> int | None:
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    totp = _totp(secret)
    current = totp.timecode(now)
    for step in range(current - TOTP_VALID_WINDOW, current + TOTP_VALID_WINDOW + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_step(device: TotpDevice, step: int) -> bool:
    """Claim a time step with a conditional UPDATE, so a code works once even across processes."""
    claimed = (
        TotpDevice.objects.filter(pk=device.pk)
        .filter(Q(last_used_step__isnull=True) | Q(last_used_step__lt=step))
        .update(last_used_step=step)
    )
    return claimed == 1


def _normalise_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(_normalise_code(code).encode()).hexdigest()


def _use_recovery_code(user: User, code: str, now: dt.datetime) -> bool:
    """Spend an unused recovery code with a conditional UPDATE: once only, even across processes."""
    unused = RecoveryCode.objects.filter(user=user, code_hash=_recovery_hash(code), used_at__isnull=True)
    return unused.update(used_at=now) == 1


def _new_recovery_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4)))
    RecoveryCode.objects.bulk_create([RecoveryCode(user=user, code_hash=_recovery_hash(c)) for c in codes])
    return codes


def _check_code_limit(request: HttpRequest, user: User, now: dt.datetime) -> str:
    key = _throttle_key(ThrottleScope.MFA, str(user.pk))
    if _is_locked(ThrottleScope.MFA, key, now):
        _audit(request, "mfa-verify", user, "locked-out", Outcome.MINOR_FAILURE)
        raise SignInRefused(CODES_LOCKED_OUT)
    return key


def _refuse_code(request: HttpRequest, user: User, key: str, now: dt.datetime, event_type: str) -> NoReturn:
    with transaction.atomic():
        locked = _count_failure(ThrottleScope.MFA, key, MAX_CODE_FAILURES, now)
        _audit(request, event_type, user, "wrong-code", Outcome.MINOR_FAILURE)
        if locked:
            _audit(request, "lockout", user, "codes", Outcome.SERIOUS_FAILURE)
    raise SignInRefused(INVALID_CODE)


def _complete_mfa(request: HttpRequest, user: User, key: str) -> None:
    _clear_failures(ThrottleScope.MFA, key)
    request.session[SESSION_MFA_DONE] = True
    session_rotate(request=request, user=user)


def mfa_enrol_confirm(*, request: HttpRequest, user: User, code: str) -> list[str]:
    """Confirm the new authenticator with a current code; returns the recovery codes, shown once."""
    now = clock.now()
    key = _check_code_limit(request, user, now)
    device = TotpDevice.objects.get(user=user, confirmed_at__isnull=True)
    step = _matching_step(totp_secret(device), _normalise_code(code), now)
    if step is None:
        _refuse_code(request, user, key, now, "mfa-enrol")
    with transaction.atomic():
        device.confirmed_at = now
        device.last_used_step = step
        device.save(update_fields=["confirmed_at", "last_used_step"])
        codes = _new_recovery_codes(user)
        _audit(request, "mfa-enrol", user, "totp")
        _audit(request, "login", user, "mfa totp (enrolment)")
    _complete_mfa(request, user, key)
    return codes


def mfa_verify(*, request: HttpRequest, user: User, code: str) -> None:
    """Finish sign-in with a code from the authenticator app or an unused recovery code."""
    now = clock.now()
    key = _check_code_limit(request, user, now)
    device = TotpDevice.objects.get(user=user, confirmed_at__isnull=False)
    code = _normalise_code(code)
    step = _matching_step(totp_secret(device), code, now)
    if step is not None and _use_step(device, step):
        method = "totp"
    elif len(code) == RECOVERY_CODE_LENGTH and _use_recovery_code(user, code, now):
        method = "recovery-code"
    else:
        _refuse_code(request, user, key, now, "mfa-verify")
    with transaction.atomic():
        _audit(request, "mfa-verify", user, method)
        _audit(request, "login", user, f"mfa {method}")
    _complete_mfa(request, user, key)


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


# --- Sessions -----------------------------------------------------------------------------------


def _session_store() -> type:
    return import_module(settings.SESSION_ENGINE).SessionStore


def _register(request: HttpRequest, user: User) -> None:
    if request.session.session_key is None:
        request.session.save()
    store = _session_store()()
    # Forget sessions that ended without us (cookie expiry, clearsessions).
    stale = [row.pk for row in UserSession.objects.filter(user=user) if not store.exists(row.session_key)]
    UserSession.objects.filter(pk__in=stale).delete()
    UserSession.objects.get_or_create(session_key=request.session.session_key, defaults={"user": user})


def session_rotate(*, request: HttpRequest, user: User, password_changed: bool = False) -> None:
    """Issue a new session key (after MFA, after a password change) and keep the registry in step."""
    old_key = request.session.session_key
    if password_changed:
        update_session_auth_hash(request, user)  # cycles the key too
    else:
        request.session.cycle_key()
    with transaction.atomic():
        UserSession.objects.filter(session_key=old_key).delete()
        UserSession.objects.get_or_create(session_key=request.session.session_key, defaults={"user": user})


def sessions_end(*, user: User, keep: str | None = None) -> int:
    """End every session of `user` on the server, except the one keyed `keep`; returns how many."""
    rows = UserSession.objects.filter(user=user)
    if keep:
        rows = rows.exclude(session_key=keep)
    keys = list(rows.values_list("session_key", flat=True))
    store = _session_store()()
    for key in keys:
        store.delete(key)
    UserSession.objects.filter(session_key__in=keys).delete()
    return len(keys)


def sign_out(*, request: HttpRequest) -> None:
    """Logout: ends all of the user's sessions, on every device (ASVS 5.0 7.4.1)."""
    user = request.user
    if isinstance(user, User):
        with transaction.atomic():
            _audit(request, "logout", user, "user")
            sessions_end(user=user)
    auth_logout(request)


def session_expiry(request: HttpRequest, user: User) -> str | None:
    """Why this session is over ("idle", "absolute"), or None after noting this request as activity."""
    now = clock.now().timestamp()
    if user.is_staff_member:
        idle, absolute = settings.STAFF_IDLE_TIMEOUT_SECONDS, settings.STAFF_ABSOLUTE_TIMEOUT_SECONDS
    else:
        idle, absolute = settings.CLIENT_IDLE_TIMEOUT_SECONDS, settings.CLIENT_ABSOLUTE_TIMEOUT_SECONDS
    login_at = request.session.setdefault(SESSION_LOGIN_AT, now)
    seen_at = request.session.get(SESSION_SEEN_AT, now)
    if now - login_at >= absolute:
        return "absolute"
    if now - seen_at >= idle:
        return "idle"
    request.session[SESSION_SEEN_AT] = now
    return None


def session_expire(*, request: HttpRequest, user: User, reason: str) -> None:
    """End a timed-out session and leave a notice for the sign-in page."""
    key = request.session.session_key
    with transaction.atomic():
        _audit(request, "logout", user, f"{reason}-timeout")
        UserSession.objects.filter(session_key=key).delete()
    request.session.flush()
    request.user = AnonymousUser()
    request.session[SESSION_NOTICE] = SESSION_EXPIRED
