"""Writing to and draining the e-mail outbox.

Delivery is at least once: a message is marked sent only after the SMTP server accepted it, so a worker
killed between the server's "250 OK" and our UPDATE leaves a message that another worker sends again
once the lease has expired. Duplicates are kept rare and recognisable: one message per SMTP
transaction, marked sent straight after it, a lease far longer than the SMTP timeout, and the same
Message-ID header on every attempt so that mail systems and readers can tell a resend.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import uuid
from dataclasses import dataclass
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q

from spacebetween import clock, crypto
from spacebetween.audit.models import Action, Entity, Outcome, Purpose
from spacebetween.audit.services import record
from spacebetween.notifications.models import OutboxMessage, Status, body_context

logger = logging.getLogger(__name__)

# Waits after the 1st, 2nd, 3rd ... failed attempt: 1, 2, 4 ... minutes, never more than an hour.
BACKOFF_FIRST = dt.timedelta(minutes=1)
BACKOFF_CAP = dt.timedelta(minutes=60)
# 48 attempts ride out about two days of mail outage (7 doubling waits, then hourly) before giving up.
MAX_ATTEMPTS = 48
DEFAULT_LEASE = dt.timedelta(minutes=5)

ERROR_BAD_ADDRESS = "The recipient is not a valid e-mail address."
ERROR_BAD_SUBJECT = "The subject must be one line of at most 200 characters."
ERROR_BAD_KIND = "The kind must be a short slug such as 'reminder' or 'alert'."


def backoff(attempts: int) -> dt.timedelta:
    """The wait before the next try after `attempts` failed ones."""
    if attempts < 1:
        return dt.timedelta(0)
    return min(BACKOFF_FIRST * 2 ** min(attempts - 1, 30), BACKOFF_CAP)


def sender(practice_name: str) -> str:
    """The From header: the practice's name with the installation's sending address
    (DEFAULT_FROM_EMAIL's address part), e.g. "Riverside Therapy <no-reply@example.org>", so that the
    client sees who writes. The name is one line (a header cannot carry a line break) and encoded
    as the RFC asks when it is not ASCII."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL
    name = " ".join(practice_name.split())[:100]
    return formataddr((name, address)) if name else address


def _message_id() -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


def outbox_enqueue(
    *,
    practice_id: int,
    to_address: str,
    subject: str,
    body_text: str,
    kind: str,
    not_before: dt.datetime | None = None,
) -> OutboxMessage:
    """Queue one e-mail. Call it inside the transaction of the change it announces, so that the message
    exists if and only if the change committed. Subject and body carry minimal PHI ("You have a new alert
    in Space Between. Sign in to see it."): never an instrument name, score or answer."""
    try:
        validate_email(to_address)
    except ValidationError as exc:
        raise ValueError(ERROR_BAD_ADDRESS) from exc
    if not subject or len(subject) > 200 or "\n" in subject or "\r" in subject:
        raise ValueError(ERROR_BAD_SUBJECT)
    if not kind or len(kind) > 32 or not kind.replace("-", "").replace("_", "").isalnum():
        raise ValueError(ERROR_BAD_KIND)
    now = clock.now()
    message_id = _message_id()
    return OutboxMessage.objects.create(
        practice_id=practice_id,
        to_address=to_address,
        subject=subject,
        body_text=crypto.encrypt(body_text, context=body_context(message_id)),
        kind=kind,
        not_before=not_before or now,
        message_id=message_id,
        created_at=now,
    )


def _claimable(now: dt.datetime) -> Q:
    due = Q(status=Status.PENDING, not_before__lte=now)
    abandoned = Q(status=Status.SENDING, lease_until__lt=now)  # its worker died or hung
    return due | abandoned


def _claim_ids(*, ids: list[int], worker_id: str, now: dt.datetime, lease: dt.timedelta) -> int:
    """The conditional UPDATE: only rows still claimable when it runs change hands, so of two workers
    that picked the same candidates only one gets each row (PostgreSQL re-checks the WHERE clause on
    the locked row; SQLite's IMMEDIATE transactions run one writer at a time)."""
    return (
        OutboxMessage.objects.filter(pk__in=ids)
        .filter(_claimable(now))
        .update(
            status=Status.SENDING,
            claimed_by=worker_id,
            lease_until=now + lease,
            attempts=F("attempts") + 1,
        )
    )


def outbox_claim(
    *, worker_id: str, now: dt.datetime, lease: dt.timedelta = DEFAULT_LEASE, limit: int = 10
) -> list[OutboxMessage]:
    """Claim up to `limit` due messages for `worker_id` (unique per process) until now + lease.

    Each claim counts as an attempt, so a message that kills its worker cannot be retried forever."""
    with transaction.atomic():
        ids = list(
            OutboxMessage.objects.filter(_claimable(now))
            .order_by("not_before", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids or not _claim_ids(ids=ids, worker_id=worker_id, now=now, lease=lease):
            return []
        return list(
            OutboxMessage.objects.filter(
                pk__in=ids, status=Status.SENDING, claimed_by=worker_id, lease_until=now + lease
            )
            .select_related("practice")
            .order_by("not_before", "id")
        )


def outbox_release(*, messages: list[OutboxMessage], worker_id: str) -> int:
    """Hand back claimed messages that were not tried (the worker is stopping): pending again, and the
    claim no longer counts as an attempt."""
    return OutboxMessage.objects.filter(
        pk__in=[m.pk for m in messages], status=Status.SENDING, claimed_by=worker_id
    ).update(status=Status.PENDING, lease_until=None, claimed_by="", attempts=F("attempts") - 1)


def _short_error(exc: BaseException) -> str:
    """The class and SMTP code only: server texts often echo the recipient's address."""
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__} {code}" if code else type(exc).__name__


def _give_up(message: OutboxMessage, *, worker_id: str, error: str) -> bool:
    with transaction.atomic():
        changed = OutboxMessage.objects.filter(
            pk=message.pk, status=Status.SENDING, claimed_by=worker_id
        ).update(status=Status.FAILED, lease_until=None, last_error=error)
        if changed:
            record(
                action=Action.EXECUTE,
                event_type="notification",
                entity_type=Entity.OUTBOX_MESSAGE,
                entity_id=message.pk,
                outcome=Outcome.SERIOUS_FAILURE,
                practice_id=message.practice_id,
                purpose=Purpose.OPERATIONS,
                detail=f"gave up after {message.attempts} attempts",
                actor_role="system",
            )
    return bool(changed)


@dataclass
class SendResult:
    sent: bool = False
    retry: bool = False
    failed: bool = False
    skipped: bool = False  # the lease was lost before sending; another worker has it


def outbox_send_one(
    message: OutboxMessage, connection: BaseEmailBackend, *, now: dt.datetime | None = None
) -> SendResult:
    """Send one claimed message and record the outcome. On an SMTP or network error it goes back to
    pending with a backoff, or to failed (with an audit row) after MAX_ATTEMPTS; it is never deleted."""
    now = now or clock.now()
    worker_id = message.claimed_by
    still_ours = OutboxMessage.objects.filter(
        pk=message.pk, status=Status.SENDING, claimed_by=worker_id, lease_until__gt=now
    ).exists()
    if not still_ours:
        return SendResult(skipped=True)
    email = EmailMessage(
        subject=message.subject,
        body=message.body(),
        from_email=sender(message.practice.name),
        to=[message.to_address],
        headers={"Message-ID": message.message_id, "Auto-Submitted": "auto-generated"},
        connection=connection,
    )
    try:
        accepted = connection.send_messages([email])
        if not accepted:
            raise smtplib.SMTPException("not accepted")
    except (smtplib.SMTPException, OSError) as exc:
        error = _short_error(exc)
        if message.attempts >= MAX_ATTEMPTS:
            return SendResult(failed=_give_up(message, worker_id=worker_id, error=error))
        OutboxMessage.objects.filter(pk=message.pk, status=Status.SENDING, claimed_by=worker_id).update(
            status=Status.PENDING,
            not_before=now + backoff(message.attempts),
            lease_until=None,
            claimed_by="",
            last_error=error,
        )
        return SendResult(retry=True)
    # Sent is final even if the lease lapsed meanwhile: the server has the message.
    OutboxMessage.objects.filter(pk=message.pk).exclude(status=Status.SENT).update(
        status=Status.SENT, sent_at=clock.now(), lease_until=None, last_error="", body_text=""
    )
    return SendResult(sent=True)
