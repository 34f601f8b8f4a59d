"""Writes: issuing and sending one-time questionnaire links, exchanging a link for an answering
session, the per-IP limit on link attempts, and draft answers. (The practice's own crisis resources
are written by `safety.crisis`.)

A link is a capability for one assignment, not a login (docs/measurement-loop.md, One-time links): a
256-bit token (`secrets.token_urlsafe(32)`) of which only the SHA-256 is stored; opening it (GET)
consumes nothing; the POST from its start page marks it used and puts the assignment id in a fresh
session, so the token never appears in a later URL, Referer or browser history entry.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.auth import logout as auth_logout
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from spacebetween import clock
from spacebetween.accounts.models import User
from spacebetween.audit.models import Action, Entity, Outcome, Purpose
from spacebetween.audit.services import client_address, record
from spacebetween.clients.access import episodes_for
from spacebetween.core.instruments import Instrument
from spacebetween.core.schedule import reminder_at
from spacebetween.crypto import one_time_token
from spacebetween.delivery.models import Draft, LinkFailure, QuestionnaireLink
from spacebetween.delivery.selectors import draft_answers, link_for_token
from spacebetween.measures import selectors as measures
from spacebetween.measures.models import Assignment, AssignmentStatus
from spacebetween.notifications.models import OutboxMessage
from spacebetween.notifications.services import outbox_enqueue
from spacebetween.safety import risk
from spacebetween.safety.models import FlagSource

# Per IP address: 10 tokens that do not work within 15 minutes, then 429 until the window has passed
# (security.md §1.8 point 6; 256-bit tokens make guessing hopeless anyway, this keeps it noisy and slow).
MAX_LINK_FAILURES = 10
LINK_FAILURE_WINDOW = dt.timedelta(minutes=15)

# Session keys of an answering session. It carries no user: it reaches only the answering pages.
SESSION_ASSIGNMENT = "sb_answer_assignment"
SESSION_STARTED_AT = "sb_answer_started_at"
SESSION_SEEN_AT = "sb_answer_seen_at"

LINK_NOT_ALLOWED = "Only the episode's therapist can send this questionnaire."
LINK_CLOSED = "This questionnaire can no longer be answered, so no link was sent."
NO_EMAIL = "The client has no email address on record."
NOT_AN_OPTION = "Choose one of the answers shown."
ANSWER_REQUIRED = "Choose an answer to go on."

# Minimal PHI (docs/notifications.md): no instrument name, score or health content.
EMAIL_SUBJECT = "A questionnaire from your therapist"
EMAIL_BODY = """Hello,

Your therapist has asked you to answer a short questionnaire before your next session.

Open this link to start:
{url}

The link works once and stops working on {expires}. Please do not forward this email.
If the link has stopped working, ask your therapist for a new one.

Space Between
"""


class LinkRefused(Exception):
    """The token does not work. `gone` when it once did (used, revoked, expired), else unknown."""

    def __init__(self, *, gone: bool) -> None:
        super().__init__("link refused")
        self.gone = gone


class TooManyAttempts(Exception):
    pass


def _may_send(actor: User, assignment: Assignment) -> bool:
    return episodes_for(actor, write=True).filter(pk=assignment.episode_id).exists()


def _open(assignment: Assignment, when: dt.datetime) -> bool:
    return (
        assignment.status in (AssignmentStatus.DUE, AssignmentStatus.SENT, AssignmentStatus.OPENED)
        and when < assignment.expires_at
    )


def _issue(*, actor: User | None, assignment: Assignment, now: dt.datetime, request: Any) -> str:
    """Revoke the assignment's usable link, if any, and store a new one; in the caller's transaction."""
    QuestionnaireLink.objects.filter(
        assignment=assignment, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    token, digest = one_time_token()
    link = QuestionnaireLink.objects.create(
        assignment=assignment,
        token_hash=digest,
        created_by=actor,
        created_at=now,
        expires_at=assignment.expires_at,
    )
    record(
        action=Action.CREATE,
        actor=actor,
        entity_type=Entity.QUESTIONNAIRE_LINK,
        entity_id=link.pk,
        practice_id=assignment.episode.client.practice_id,
        purpose=Purpose.TREATMENT,
        request=request,
    )
    return token


def _check_issuer(actor: User | None, assignment: Assignment, when: dt.datetime) -> None:
    if actor is not None and not _may_send(actor, assignment):
        raise PermissionDenied(LINK_NOT_ALLOWED)
    if not _open(assignment, when):
        raise ValidationError(LINK_CLOSED)


def link_issue(
    *, actor: User | None, assignment: Assignment, now: dt.datetime | None = None, request: Any = None
) -> str:
    """A new link for `assignment`, revoking any earlier one; returns the raw token, the only time it
    exists outside the client's email. `actor` None is the system (a scheduled send)."""
    when = now or clock.now()
    assignment = Assignment.objects.select_related("episode__client").get(pk=assignment.pk)
    _check_issuer(actor, assignment, when)
    with transaction.atomic(durable=True):
        return _issue(actor=actor, assignment=assignment, now=when, request=request)


def link_url(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("link_start_page", kwargs={"token": token})


def link_send(
    *,
    actor: User | None,
    assignment: Assignment,
    now: dt.datetime | None = None,
    not_before: dt.datetime | None = None,
    request: Any = None,
) -> OutboxMessage:
    """Issue a new link and queue the email carrying it, in one transaction; the assignment is marked
    sent. The email names no instrument and carries no health content. `not_before` holds the email
    back (e.g. past the client's quiet hours)."""
    when = now or clock.now()
    assignment = Assignment.objects.select_related("episode__client__practice").get(pk=assignment.pk)
    _check_issuer(actor, assignment, when)
    client = assignment.episode.client
    if not client.email:
        raise ValidationError(NO_EMAIL)
    expires = timezone.localtime(assignment.expires_at, timezone=zoneinfo.ZoneInfo(client.practice.time_zone))
    with transaction.atomic(durable=True):
        token = _issue(actor=actor, assignment=assignment, now=when, request=request)
        message = outbox_enqueue(
            practice_id=client.practice_id,
            to_address=client.email,
            subject=EMAIL_SUBJECT,
            body_text=EMAIL_BODY.format(url=link_url(token), expires=f"{expires:%-d %B %Y at %H:%M}"),
            kind="questionnaire-link",
            not_before=not_before,
        )
        Assignment.objects.filter(pk=assignment.pk, status=AssignmentStatus.DUE).update(
            status=AssignmentStatus.SENT, sent_at=when
        )
    return message


def links_send_due(*, now: dt.datetime) -> int:
    """The scheduled send: each client without a portal login gets a one-time link by email for every
    questionnaire that has become due (clients with a login get a sign-in reminder from
    plans.services.plan_apply instead). Sent outside the client's quiet hours; each assignment once,
    because a sent assignment is no longer `due`."""
    due = (
        Assignment.objects.filter(
            status=AssignmentStatus.DUE,
            due_at__lte=now,
            expires_at__gt=now,
            episode__client__portal_user__isnull=True,
        )
        .exclude(episode__client__email="")
        .select_related("episode__client__practice")
    )
    sent = 0
    for assignment in due:
        send_at = reminder_at(now, assignment.episode.client.practice.time_zone)
        if send_at >= assignment.expires_at:
            continue
        try:
            link_send(actor=None, assignment=assignment, now=now, not_before=send_at)
        except (ValidationError, ValueError):  # closed meanwhile, or an address the outbox refuses
            continue
        sent += 1
    return sent


# --- The per-IP limit ---------------------------------------------------------------------------


def _address_key(request: HttpRequest) -> str:
    address = client_address(request) or "unknown"
    return salted_hmac("spacebetween.delivery.link-attempts", address, algorithm="sha256").hexdigest()


def _check_attempts(request: HttpRequest, when: dt.datetime) -> str:
    key = _address_key(request)
    recent = LinkFailure.objects.filter(key=key, failed_at__gt=when - LINK_FAILURE_WINDOW).count()
    if recent >= MAX_LINK_FAILURES:
        raise TooManyAttempts
    return key


def _refuse(request: HttpRequest, key: str, when: dt.datetime, link: QuestionnaireLink | None) -> None:
    with transaction.atomic():
        LinkFailure.objects.filter(failed_at__lte=when - LINK_FAILURE_WINDOW).delete()
        LinkFailure.objects.create(key=key, failed_at=when)
        record(
            action=Action.EXECUTE,
            event_type="questionnaire-link",
            entity_type=Entity.QUESTIONNAIRE_LINK if link is not None else None,
            entity_id=link.pk if link is not None else "",
            outcome=Outcome.MINOR_FAILURE,
            practice_id=link.assignment.episode.client.practice_id if link is not None else None,
            request=request,
            detail="unknown" if link is None else "used, revoked or expired",
            actor_role="anonymous",
        )
    raise LinkRefused(gone=link is not None)


def _usable(link: QuestionnaireLink, when: dt.datetime) -> bool:
    return (
        link.used_at is None
        and link.revoked_at is None
        and when < link.expires_at
        and _open(link.assignment, when)
    )


def link_check(*, request: HttpRequest, token: str, now: dt.datetime | None = None) -> Assignment:
    """The assignment of a usable link, consuming nothing (the start page). Counts a failure per IP
    address; `TooManyAttempts` once the limit is reached, `LinkRefused` for a token that does not work."""
    when = now or clock.now()
    key = _check_attempts(request, when)
    link = link_for_token(token)
    if link is None or not _usable(link, when):
        _refuse(request, key, when, link)
    assert link is not None
    return link.assignment


def link_exchange(*, request: HttpRequest, token: str, now: dt.datetime | None = None) -> Assignment:
    """Spend the link (a conditional UPDATE: once only, across processes) and turn this browser's
    session into a fresh answering session for its assignment. Anyone signed in here is signed out."""
    when = now or clock.now()
    key = _check_attempts(request, when)
    link = link_for_token(token)
    if link is None or not _usable(link, when):
        _refuse(request, key, when, link)
    assert link is not None
    assignment = link.assignment
    with transaction.atomic(durable=True):
        spent = QuestionnaireLink.objects.filter(
            pk=link.pk, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=when
        ).update(used_at=when)
        if spent:
            Assignment.objects.filter(
                pk=assignment.pk, status__in=[AssignmentStatus.DUE, AssignmentStatus.SENT]
            ).update(status=AssignmentStatus.OPENED, opened_at=when)
            record(
                action=Action.EXECUTE,
                event_type="questionnaire-link",
                entity_type=Entity.QUESTIONNAIRE_LINK,
                entity_id=link.pk,
                practice_id=assignment.episode.client.practice_id,
                purpose=Purpose.PATIENT_REQUEST,
                request=request,
                detail="exchanged for an answering session",
                actor_role="client",
            )
    if not spent:  # a concurrent request spent it first
        _refuse(request, key, when, link)
    auth_logout(request)  # flushes the old session: a new key, nothing of anyone else's in it
    stamp = when.timestamp()
    request.session[SESSION_ASSIGNMENT] = assignment.pk
    request.session[SESSION_STARTED_AT] = stamp
    request.session[SESSION_SEEN_AT] = stamp
    return assignment


def answering_assignment_id(request: HttpRequest, when: dt.datetime | None = None) -> int | None:
    """The assignment this browser's answering session is for, or None (no session, or timed out:
    30 minutes idle, 2 hours in all, as for client sign-ins)."""
    pk = request.session.get(SESSION_ASSIGNMENT)
    if pk is None:
        return None
    moment = (when or clock.now()).timestamp()
    started = request.session.get(SESSION_STARTED_AT, 0)
    seen = request.session.get(SESSION_SEEN_AT, 0)
    if (
        moment - started >= settings.CLIENT_ABSOLUTE_TIMEOUT_SECONDS
        or moment - seen >= settings.CLIENT_IDLE_TIMEOUT_SECONDS
    ):
        request.session.flush()
        return None
    request.session[SESSION_SEEN_AT] = moment
    return int(pk)


# --- Drafts -------------------------------------------------------------------------------------


def parse_answer(instrument: Instrument, item_id: str, raw: str | None) -> int | float | None:
    """The answer value for a posted option, None for a skipped optional item; ValidationError else."""
    item = instrument.item(item_id)
    if raw in (None, ""):
        if item.required:
            raise ValidationError(ANSWER_REQUIRED)
        return None
    for option in item.options:
        if str(option.value) == raw:
            return option.value
    raise ValidationError(NOT_AN_OPTION)


def draft_save(
    *,
    assignment: Assignment,
    instrument: Instrument,
    item_id: str,
    value: int | float | None,
    actor: User | None = None,
    now: dt.datetime | None = None,
) -> Draft:
    """Keep one answer of an unsubmitted assignment (the caller checked the value with `parse_answer`).

    The answers saved so far, this one included, go through the risk rules first
    (`safety.risk.screen`): a risk answer raises its flag now, not when (or if) the client sends the
    questionnaire. `assignment` must carry its episode, client and therapist."""
    when = now or clock.now()
    answers = {**draft_answers(assignment), item_id: value}
    risk.screen(
        assignment=assignment,
        instrument=instrument,
        answers=answers,
        source=FlagSource.DRAFT,
        now=when,
        actor=actor,
    )
    with transaction.atomic():
        draft, _ = Draft.objects.select_for_update().get_or_create(
            assignment=assignment, defaults={"updated_at": when}
        )
        draft.answers = {**draft.answers, item_id: value}
        draft.updated_at = when
        draft.save(update_fields=["answers", "updated_at"])
    return draft


def draft_discard(*, assignment: Assignment) -> None:
    """After submission: the answers now live in the Response; no second copy is kept."""
    Draft.objects.filter(assignment=assignment).delete()


def instrument_for(assignment: Assignment) -> Instrument | None:
    return measures.assignment_instrument(assignment, assignment.episode.client.practice)
