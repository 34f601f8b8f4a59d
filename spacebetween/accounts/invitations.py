"""Invitations and password resets by e-mail: the one-time sign-in links of `welcome`, sent through
the outbox (docs/security.md, "Invitations and password reset").

An invitation (a new staff member, a client's portal login) and a reset are the same link as the first
admin's: 256 random bits, only the SHA-256 stored, single use, spent by the POST of its start page,
revoking the user's older links. An invitation lasts 72 hours, a reset one hour. The e-mail is queued in
the transaction that issues the link and sent by the worker, so no page waits on a mail server.

A reset request answers the same page whatever the address (no account enumeration): the same writes
happen for known and unknown addresses (a token drawn, two throttle rows, an audit row without the
address), and what an account adds, a link row and a queued message, is a few small writes: the mail
itself goes out later from the worker, so neither answer waits on it. Requests are limited
per typed address (3 in 15 minutes: further ones send nothing, silently) and per IP address (10 in 15
minutes: 429).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from spacebetween import clock
from spacebetween.accounts import welcome
from spacebetween.accounts.models import AuthFailure, LinkPurpose, ThrottleScope, User, normalise_email
from spacebetween.audit.models import Action, Entity, Outcome, Purpose
from spacebetween.audit.services import client_address, record
from spacebetween.crypto import one_time_token
from spacebetween.notifications.models import OutboxMessage
from spacebetween.notifications.services import outbox_enqueue

RESET_WINDOW = dt.timedelta(minutes=15)
MAX_RESETS_PER_EMAIL = 3
MAX_RESETS_PER_IP = 10

RESET_SENT = "If that address has an account, we have sent a link to it. The link works for one hour."
RESET_TOO_MANY = "Too many requests from here. Wait 15 minutes, then try again."

INVITE_SUBJECT = "Your invitation to Space Between"
STAFF_INVITE_BODY = """Hello {name},

{practice} has added you to Space Between ({role}).

Open this link to choose your password; then you set up an authenticator app on your phone:
{url}

The link works once and stops working on {expires}. Please do not forward this email.
If it has stopped working, ask your practice admin for a new one.
"""
CLIENT_INVITE_BODY = """Hello,

{practice} has invited you to your own page in Space Between.

Open this link to choose your password:
{url}

The link works once and stops working on {expires}. Please do not forward this email.
If it has stopped working, ask your therapist for a new one.
"""
RESET_SUBJECT = "Reset your Space Between password"
RESET_BODY = """Hello,

Someone, probably you, asked to reset the password of your Space Between account.

Open this link to choose a new password:
{url}

The link works once and stops working on {expires}. Choosing a new password signs you out everywhere
else; your authenticator app (if you use one) stays as it is.
If you did not ask for this, ignore this email: your password stays as it is.
"""


class TooManyRequests(Exception):
    pass


def _expires(user: User, when: dt.datetime) -> str:
    local = timezone.localtime(when, timezone=zoneinfo.ZoneInfo(user.practice.time_zone))
    return f"{local:%-d %B %Y at %H:%M}"


def invitation_send(
    *, user: User, actor: User | None = None, request: HttpRequest | None = None
) -> OutboxMessage:
    """Issue an invitation link for `user` (revoking their older links) and queue the e-mail carrying
    it, in one transaction (the caller's, when it has one)."""
    with transaction.atomic():
        token, link = welcome.link_issue(
            user=user, purpose=LinkPurpose.INVITATION, detail="invitation", actor=actor, request=request
        )
        template = CLIENT_INVITE_BODY if user.is_client else STAFF_INVITE_BODY
        body = template.format(
            name=user.full_name,
            practice=user.practice.name,
            role=user.get_role_display().lower(),
            url=welcome.link_url(token),
            expires=_expires(user, link.expires_at),
        )
        return outbox_enqueue(
            practice_id=user.practice_id,
            to_address=user.email,
            subject=INVITE_SUBJECT,
            body_text=body,
            kind="invitation",
        )


def _key(scope: ThrottleScope, value: str) -> str:
    return salted_hmac(f"spacebetween.accounts.reset.{scope}", value, algorithm="sha256").hexdigest()


def _count(scope: ThrottleScope, key: str, now: dt.datetime) -> int:
    return AuthFailure.objects.filter(scope=scope, key=key, failed_at__gt=now - RESET_WINDOW).count()


def reset_request(*, request: HttpRequest, email: str) -> None:
    """Queue a reset link for the active, non-demo account of `email`, if there is one and its address
    is under its limit; answer the same whatever happened. TooManyRequests past the per-IP limit."""
    now = clock.now()
    ip_key = _key(ThrottleScope.RESET_ADDRESS, client_address(request) or "unknown")
    if _count(ThrottleScope.RESET_ADDRESS, ip_key, now) >= MAX_RESETS_PER_IP:
        with transaction.atomic():
            record(
                action=Action.EXECUTE,
                event_type="password-reset-request",
                outcome=Outcome.MINOR_FAILURE,
                request=request,
                detail="limit per source address",
                actor_role="anonymous",
            )
        raise TooManyRequests
    email = normalise_email(email)
    account = User.objects.filter(email=email).select_related("practice").first()
    account_key = _key(ThrottleScope.RESET_ACCOUNT, f"user:{account.pk}" if account else f"email:{email}")
    token, _ = one_time_token()  # the same work for every address
    with transaction.atomic():
        AuthFailure.objects.filter(
            scope__in=[ThrottleScope.RESET_ACCOUNT, ThrottleScope.RESET_ADDRESS],
            failed_at__lte=now - RESET_WINDOW,
        ).delete()
        over = _count(ThrottleScope.RESET_ACCOUNT, account_key, now) >= MAX_RESETS_PER_EMAIL
        AuthFailure.objects.create(scope=ThrottleScope.RESET_ACCOUNT, key=account_key, failed_at=now)
        AuthFailure.objects.create(scope=ThrottleScope.RESET_ADDRESS, key=ip_key, failed_at=now)
        if account is None:
            outcome = "no account"
        elif not account.is_active or account.is_demo_account:
            outcome = "inactive or demo account"
        elif over:
            outcome = "limit per email address"
        else:
            outcome = "link sent"
            token, link = welcome.link_issue(
                user=account, purpose=LinkPurpose.RESET, detail="reset requested", request=request
            )
            outbox_enqueue(
                practice_id=account.practice_id,
                to_address=account.email,
                subject=RESET_SUBJECT,
                body_text=RESET_BODY.format(
                    url=welcome.link_url(token), expires=_expires(account, link.expires_at)
                ),
                kind="password-reset",
            )
        record(
            action=Action.EXECUTE,
            event_type="password-reset-request",
            entity_type=Entity.USER if account is not None else None,
            entity_id=account.pk if account is not None else "",
            outcome=Outcome.SUCCESS if outcome == "link sent" else Outcome.MINOR_FAILURE,
            practice_id=account.practice_id if account is not None else None,
            purpose=Purpose.SYSTEM_ADMIN,
            request=request,
            detail=outcome,
            actor_role="anonymous",
        )


def supervision_url() -> str:
    return settings.SITE_URL.rstrip("/") + reverse("supervision")
