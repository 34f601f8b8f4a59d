"""One-time sign-in links: how a practice's first admin (or anyone `spacebetween setup --reissue-link`
names) gets in without a password on the command line, and what invitations and password resets
e-mail (`accounts.invitations`; a reset link lasts one hour, `SignInLink.purpose` says which).

A link is a 256-bit token (`secrets.token_urlsafe(32)`) of which only the SHA-256 is stored
(`SignInLink`); it works once, for 72 hours, and a newer link of the same user revokes it. Opening it
(GET) consumes nothing, since mail scanners and chat previews fetch links; the POST from its start page
spends it with a conditional UPDATE and puts the user's id in a fresh "setting up" session, which
reaches only the page that sets a password. Setting the password signs the user in with the password
step done; the MFA enrolment (`signin`) follows, as for any staff sign-in. Every issue, use and
refusal is audited; refusals are counted per IP address (docs/security.md, "The first sign-in link").
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.crypto import salted_hmac

from spacebetween import clock, crypto
from spacebetween.accounts import signin
from spacebetween.accounts.models import AuthFailure, LinkPurpose, SignInLink, ThrottleScope, User
from spacebetween.audit.models import Action, Entity, Outcome, Purpose
from spacebetween.audit.services import client_address, record
from spacebetween.crypto import one_time_token

LINK_LIFETIME = dt.timedelta(hours=72)
# A password-reset link is a way into an existing account: it works for one hour only.
RESET_LINK_LIFETIME = dt.timedelta(hours=1)
# Per IP address: 10 tokens that do not work within 15 minutes, then 429 until the window has passed.
MAX_LINK_FAILURES = 10
LINK_FAILURE_WINDOW = dt.timedelta(minutes=15)
# The "setting up" session between spending the link and choosing a password.
SETUP_SESSION_SECONDS = 30 * 60

SESSION_SETUP_USER = "sb_setup_user"
SESSION_SETUP_AT = "sb_setup_at"
SESSION_SETUP_PURPOSE = "sb_setup_purpose"
EVENT = "sign-in-link"


class LinkRefused(Exception):
    """The token does not work. `gone` when it once did (used, revoked, expired), else unknown."""

    def __init__(self, *, gone: bool) -> None:
        super().__init__("sign-in link refused")
        self.gone = gone


class TooManyAttempts(Exception):
    pass


def link_url(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("welcome", kwargs={"welcome_token": token})


def link_issue(
    *,
    user: User,
    now: dt.datetime | None = None,
    detail: str = "issued",
    purpose: LinkPurpose = LinkPurpose.WELCOME,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> tuple[str, SignInLink]:
    """Revoke the user's usable links and store a new one, in one transaction (the caller's, when it
    has one); returns the raw token, the only time it exists, and the link."""
    when = now or clock.now()
    lifetime = RESET_LINK_LIFETIME if purpose == LinkPurpose.RESET else LINK_LIFETIME
    token, digest = one_time_token()
    with transaction.atomic():
        revoked = SignInLink.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=when
        )
        link = SignInLink.objects.create(
            user=user, purpose=purpose, token_hash=digest, created_at=when, expires_at=when + lifetime
        )
        record(
            action=Action.CREATE,
            event_type=EVENT,
            actor=actor,
            entity_type=Entity.SIGN_IN_LINK,
            entity_id=link.pk,
            practice_id=user.practice_id,
            purpose=Purpose.SYSTEM_ADMIN,
            request=request,
            detail=f"{purpose}: {detail}; user {user.pk}; {revoked} earlier revoked",
            actor_role="" if actor is not None else "system",
        )
    return token, link


def _address_key(request: HttpRequest) -> str:
    address = client_address(request) or "unknown"
    return salted_hmac("spacebetween.accounts.sign-in-link", address, algorithm="sha256").hexdigest()


def _check_attempts(request: HttpRequest, when: dt.datetime) -> str:
    key = _address_key(request)
    recent = AuthFailure.objects.filter(
        scope=ThrottleScope.SIGN_IN_LINK, key=key, failed_at__gt=when - LINK_FAILURE_WINDOW
    ).count()
    if recent >= MAX_LINK_FAILURES:
        raise TooManyAttempts
    return key


def _refuse(request: HttpRequest, key: str, when: dt.datetime, link: SignInLink | None) -> None:
    with transaction.atomic():
        AuthFailure.objects.filter(
            scope=ThrottleScope.SIGN_IN_LINK, failed_at__lte=when - LINK_FAILURE_WINDOW
        ).delete()
        AuthFailure.objects.create(scope=ThrottleScope.SIGN_IN_LINK, key=key, failed_at=when)
        record(
            action=Action.EXECUTE,
            event_type=EVENT,
            entity_type=Entity.SIGN_IN_LINK if link is not None else None,
            entity_id=link.pk if link is not None else "",
            outcome=Outcome.MINOR_FAILURE,
            practice_id=link.user.practice_id if link is not None else None,
            request=request,
            detail="unknown" if link is None else "used, revoked or expired",
            actor_role="anonymous",
        )
    raise LinkRefused(gone=link is not None)


def _link_for_token(token: str) -> SignInLink | None:
    if not token or len(token) > 128:
        return None
    return SignInLink.objects.filter(token_hash=crypto.token_hash(token)).select_related("user").first()


def _usable(link: SignInLink, when: dt.datetime) -> bool:
    return link.used_at is None and link.revoked_at is None and when < link.expires_at and link.user.is_active


def link_check(*, request: HttpRequest, token: str) -> SignInLink:
    """The usable link for `token`, consuming nothing (the start page)."""
    when = clock.now()
    key = _check_attempts(request, when)
    link = _link_for_token(token)
    if link is None or not _usable(link, when):
        _refuse(request, key, when, link)
    assert link is not None
    return link


def link_exchange(*, request: HttpRequest, token: str) -> User:
    """Spend the link (once only, across processes) and turn this browser's session into a fresh
    "setting up" session for its user. Anyone signed in here is signed out first."""
    when = clock.now()
    link = link_check(request=request, token=token)
    key = _address_key(request)
    with transaction.atomic():
        spent = SignInLink.objects.filter(
            pk=link.pk, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=when
        ).update(used_at=when)
        if spent:
            record(
                action=Action.EXECUTE,
                event_type=EVENT,
                actor=link.user,
                entity_type=Entity.SIGN_IN_LINK,
                entity_id=link.pk,
                purpose=Purpose.SYSTEM_ADMIN,
                request=request,
                detail="exchanged for a set-up session",
            )
    if not spent:  # a concurrent request spent it first
        _refuse(request, key, when, link)
    auth_logout(request)  # flushes the old session: a new key, nothing of anyone else's in it
    request.session[SESSION_SETUP_USER] = link.user.pk
    request.session[SESSION_SETUP_AT] = when.timestamp()
    request.session[SESSION_SETUP_PURPOSE] = link.purpose
    return link.user


def setup_user(request: HttpRequest) -> User | None:
    """The user this browser is setting up (after spending a link), or None; the set-up session
    lasts 30 minutes."""
    pk = request.session.get(SESSION_SETUP_USER)
    if pk is None:
        return None
    if clock.now().timestamp() - request.session.get(SESSION_SETUP_AT, 0) >= SETUP_SESSION_SECONDS:
        request.session.pop(SESSION_SETUP_USER, None)
        request.session.pop(SESSION_SETUP_AT, None)
        request.session.pop(SESSION_SETUP_PURPOSE, None)
        return None
    return User.objects.filter(pk=pk, is_active=True).select_related("practice").first()


def setup_purpose(request: HttpRequest) -> str:
    return str(request.session.get(SESSION_SETUP_PURPOSE, LinkPurpose.WELCOME))


def password_set(*, request: HttpRequest, user: User, new_password: str) -> None:
    """Set the password of the user being set up (validated), end every session of theirs (after a
    reset, the ones an intruder may hold), and sign this browser in with the password step done: MFA
    is owed next, as at every staff sign-in, so a reset keeps the authenticator it does not touch."""
    validate_password(new_password, user)
    user.set_password(new_password)
    purpose = setup_purpose(request)
    with transaction.atomic():
        user.save(update_fields=["password"])
        record(
            action=Action.UPDATE,
            event_type="password-set",
            actor=user,
            entity_type=Entity.USER,
            entity_id=user.pk,
            purpose=Purpose.SYSTEM_ADMIN,
            request=request,
            detail=f"from a sign-in link ({purpose})",
        )
        ended = signin.sessions_end(user=user)
        if ended and purpose == LinkPurpose.RESET:
            record(
                action=Action.EXECUTE,
                event_type="logout",
                actor=user,
                entity_type=Entity.USER,
                entity_id=user.pk,
                request=request,
                detail=f"password reset; {ended} sessions ended",
            )
    for key in (SESSION_SETUP_USER, SESSION_SETUP_AT, SESSION_SETUP_PURPOSE):
        request.session.pop(key, None)
    signin.session_start(request=request, user=user)


def next_url(request: HttpRequest, user: User) -> str:
    return signin.next_step_url(request, user, None)
