"""Writes: issuing and sending one-time questionnaire links, exchanging a link for an answering
session, the per-IP limit on link attempts, and draft answers. (The practice's own crisis resources
are written by `safety.crisis`.)

A link is a capability for one or more assignments (a session's questionnaires, answered in turn),
not a login (docs/measurement-loop.md, One-time links): a 256-bit token (`secrets.token_urlsafe(32)`)
of which only the SHA-256 is stored; opening it (GET) consumes nothing; the POST from its start page
marks it used and puts the assignment ids in a fresh session, so the token never appears in a later
URL, Referer or browser history entry. Sending again issues a new link that replaces the old one.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.auth import logout as auth_logout
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from spacebetween import clock
from spacebetween.accounts.models import User
from spacebetween.audit.models import Action, Entity, Outcome, Purpose
from spacebetween.audit.services import client_address, record
from spacebetween.clients.access import episodes_for
from spacebetween.consent.selectors import email_allowed
from spacebetween.core.instruments import Instrument
from spacebetween.core.schedule import reminder_at
from spacebetween.crypto import one_time_token
from spacebetween.delivery.models import Draft, LinkFailure, LinkStep, QuestionnaireLink
from spacebetween.delivery.selectors import draft_answers, link_assignments, link_for_token
from spacebetween.measures import selectors as measures
from spacebetween.measures.models import Assignment, AssignmentStatus
from spacebetween.notifications.models import OutboxMessage
from spacebetween.notifications.services import outbox_enqueue
from spacebetween.safety import risk
from spacebetween.safety.models import FlagSource, RiskFlag

# Per IP address: 10 tokens that do not work within 15 minutes, then 429 until the window has passed
# (security.md §1.8 point 6; 256-bit tokens make guessing hopeless anyway, this keeps it noisy and slow).
MAX_LINK_FAILURES = 10
LINK_FAILURE_WINDOW = dt.timedelta(minutes=15)

# Session keys of an answering session. It carries no user: it reaches only the answering pages.
SESSION_ASSIGNMENT = "sb_answer_assignment"
SESSION_STARTED_AT = "sb_answer_started_at"
SESSION_SEEN_AT = "sb_answer_seen_at"
SESSION_QUEUE = "sb_answer_queue"  # the link's further assignments, in turn

LINK_NOT_ALLOWED = "Only the episode's therapist can send this questionnaire."
LINK_CLOSED = "This questionnaire can no longer be answered, so no link was sent."
NO_EMAIL = "The client has no email address on record."
NO_EMAIL_CONSENT = "The client has withdrawn consent to e-mail, so no link was sent."
NOT_AN_OPTION = "Choose one of the answers shown."
ANSWER_REQUIRED = "Choose an answer to go on."

# Minimal PHI (docs/notifications.md): no instrument name, score or health content.
EMAIL_SUBJECT = "A questionnaire from your therapist"
EMAIL_SUBJECT_MANY = "Questionnaires from your therapist"
EMAIL_BODY = """Hello,

Your therapist has asked you to answer {what}.

Open this link to start:
{url}

The link works once and stops working on {expires}. Please do not forward this email.
If it has stopped working, or a newer email from your therapist has replaced it, your therapist
can send you a new link from Space Between: let them know.

Space Between
"""
EMAIL_ONE = "a short questionnaire"
EMAIL_MANY = "{count} short questionnaires, one after the other, with the one link below"


class LinkRefused(Exception):
    """The token does not work. `gone` when it once did (used, revoked, expired), else unknown;
    `replaced` when a newer link took its questionnaires over, `used` when it was spent."""

    def __init__(self, *, gone: bool, replaced: bool = False, used: bool = False) -> None:
        super().__init__("link refused")
        self.gone = gone
        self.replaced = replaced
        self.used = used


class TooManyAttempts(Exception):
    pass


def _may_send(actor: User, assignment: Assignment) -> bool:
    return episodes_for(actor, write=True).filter(pk=assignment.episode_id).exists()


OPEN_STATUSES = (AssignmentStatus.DUE, AssignmentStatus.SENT, AssignmentStatus.OPENED)


def _open(assignment: Assignment, when: dt.datetime) -> bool:
    return assignment.status in OPEN_STATUSES and when < assignment.expires_at


def _covering(assignments: list[Assignment]) -> QuerySet[QuestionnaireLink]:
    """The usable (unspent, unrevoked) links that cover any of `assignments`."""
    ids = [a.pk for a in assignments]
    return QuestionnaireLink.objects.filter(
        Q(assignment_id__in=ids) | Q(steps__assignment_id__in=ids),
        used_at__isnull=True,
        revoked_at__isnull=True,
    ).distinct()


def _issue(
    *, actor: User | None, assignments: list[Assignment], now: dt.datetime, request: Any
) -> tuple[str, list[Assignment]]:
    """Store a new link that walks the client through `assignments` in turn, in the caller's
    transaction; returns the raw token and the link's assignments in turn. The usable links that
    cover any of them are revoked as replaced (their pages say so), and the new link takes over
    their questionnaires that are still open: a client never holds two working links to one
    questionnaire, nor loses one by a resend of another."""
    replaced = list(_covering(assignments).values_list("pk", flat=True))
    taken_over = [
        a
        for a in Assignment.objects.filter(Q(links__pk__in=replaced) | Q(link_steps__link_id__in=replaced))
        .select_related("episode__client")
        .distinct()
        if _open(a, now)
    ]
    QuestionnaireLink.objects.filter(pk__in=replaced).update(revoked_at=now, replaced_at=now)
    steps = sorted({a.pk: a for a in [*assignments, *taken_over]}.values(), key=lambda a: (a.due_at, a.pk))
    token, digest = one_time_token()
    link = QuestionnaireLink.objects.create(
        assignment=steps[0],
        token_hash=digest,
        created_by=actor,
        created_at=now,
        expires_at=max(a.expires_at for a in steps),
    )
    LinkStep.objects.bulk_create(LinkStep(link=link, assignment=a, position=n) for n, a in enumerate(steps))
    record(
        action=Action.CREATE,
        actor=actor,
        entity_type=Entity.QUESTIONNAIRE_LINK,
        entity_id=link.pk,
        practice_id=steps[0].episode.client.practice_id,
        purpose=Purpose.TREATMENT,
        request=request,
        detail=f"{len(steps)} questionnaire(s), replacing {len(replaced)} link(s)",
    )
    return token, steps


def _check_issuer(actor: User | None, assignment: Assignment, when: dt.datetime) -> None:
    if actor is not None and not _may_send(actor, assignment):
        raise PermissionDenied(LINK_NOT_ALLOWED)
    if not _open(assignment, when):
        raise ValidationError(LINK_CLOSED)


def link_issue(
    *, actor: User | None, assignment: Assignment, now: dt.datetime | None = None, request: Any = None
) -> str:
    """A new link for `assignment`, replacing any earlier one; returns the raw token, the only time it
    exists outside the client's email. `actor` None is the system (a scheduled send)."""
    when = now or clock.now()
    assignment = Assignment.objects.select_related("episode__client").get(pk=assignment.pk)
    _check_issuer(actor, assignment, when)
    with transaction.atomic(durable=True):
        return _issue(actor=actor, assignments=[assignment], now=when, request=request)[0]


def link_url(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("link_start_page", kwargs={"token": token})


def _with_its_session(assignments: list[Assignment], when: dt.datetime) -> list[Assignment]:
    """`assignments` and the other open questionnaires of their sessions: one e-mail per session."""
    sessions = {a.session_id for a in assignments if a.session_id is not None}
    if not sessions:
        return assignments
    more = Assignment.objects.filter(
        episode_id=assignments[0].episode_id, session_id__in=sessions, status__in=OPEN_STATUSES
    ).select_related("episode__client__practice")
    return list({a.pk: a for a in [*assignments, *(m for m in more if _open(m, when))]}.values())


def link_send(
    *,
    actor: User | None,
    assignment: Assignment | None = None,
    assignments: list[Assignment] | None = None,
    now: dt.datetime | None = None,
    not_before: dt.datetime | None = None,
    request: Any = None,
) -> OutboxMessage:
    """Issue one new link for `assignment` (or for `assignments`, all one episode's) and the other
    open questionnaires of their session, replacing the links they had, and queue the one email that
    carries it, in one transaction; the assignments are marked sent. The email names no instrument
    and carries no health content. `not_before` holds the email back (the client's quiet hours)."""
    when = now or clock.now()
    wanted = [a.pk for a in (assignments or [])] + ([assignment.pk] if assignment is not None else [])
    found = list(
        Assignment.objects.filter(pk__in=wanted).select_related("episode__client__practice").order_by("pk")
    )
    if not found or len({a.episode_id for a in found}) != 1:
        raise ValidationError(LINK_CLOSED)
    for one in found:
        _check_issuer(actor, one, when)
    client = found[0].episode.client
    if not client.email:
        raise ValidationError(NO_EMAIL)
    if not email_allowed(client):
        raise ValidationError(NO_EMAIL_CONSENT)
    group = _with_its_session(found, when)
    with transaction.atomic(durable=True):
        token, steps = _issue(actor=actor, assignments=group, now=when, request=request)
        zone = zoneinfo.ZoneInfo(client.practice.time_zone)
        expires = timezone.localtime(max(a.expires_at for a in steps), timezone=zone)
        many = len(steps) > 1
        message = outbox_enqueue(
            practice_id=client.practice_id,
            to_address=client.email,
            subject=EMAIL_SUBJECT_MANY if many else EMAIL_SUBJECT,
            body_text=EMAIL_BODY.format(
                what=EMAIL_MANY.format(count=len(steps)) if many else EMAIL_ONE,
                url=link_url(token),
                expires=f"{expires:%-d %B %Y at %H:%M}",
            ),
            kind="questionnaire-link",
            not_before=not_before,
        )
        Assignment.objects.filter(pk__in=[a.pk for a in steps], status=AssignmentStatus.DUE).update(
            status=AssignmentStatus.SENT, sent_at=when
        )
    return message


def links_send_due(*, now: dt.datetime) -> int:
    """The scheduled send: each client without a portal login gets a one-time link by email for the
    questionnaires that have become due, one email and one link per session (and one for those of
    an episode that belong to no session); clients with a login get a sign-in reminder from
    plans.services.plan_apply instead. Sent outside the client's quiet hours; each assignment once,
    because a sent assignment is no longer `due`. Returns the number of emails queued."""
    due = (
        Assignment.objects.filter(
            status=AssignmentStatus.DUE,
            due_at__lte=now,
            expires_at__gt=now,
            episode__client__portal_user__isnull=True,
        )
        .exclude(episode__client__email="")
        .select_related("episode__client__practice")
        .order_by("due_at", "pk")
    )
    groups: dict[tuple[int, int | None], list[Assignment]] = {}
    for assignment in due:
        send_at = reminder_at(now, assignment.episode.client.practice.time_zone)
        if send_at < assignment.expires_at:
            groups.setdefault((assignment.episode_id, assignment.session_id), []).append(assignment)
    sent = 0
    for group in groups.values():
        send_at = reminder_at(now, group[0].episode.client.practice.time_zone)
        try:
            link_send(actor=None, assignments=group, now=now, not_before=send_at)
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
    raise LinkRefused(
        gone=link is not None,
        replaced=link is not None and link.replaced_at is not None,
        used=link is not None and link.used_at is not None,
    )


def _usable(link: QuestionnaireLink, when: dt.datetime) -> bool:
    return (
        link.used_at is None
        and link.revoked_at is None
        and when < link.expires_at
        and any(_open(a, when) for a in link_assignments(link))
    )


def link_check(*, request: HttpRequest, token: str, now: dt.datetime | None = None) -> list[Assignment]:
    """The open assignments of a usable link, in turn, consuming nothing (the start page). Counts a
    failure per IP address; `TooManyAttempts` once the limit is reached, `LinkRefused` for a token
    that does not work."""
    when = now or clock.now()
    key = _check_attempts(request, when)
    link = link_for_token(token)
    if link is None or not _usable(link, when):
        _refuse(request, key, when, link)
    assert link is not None
    return [a for a in link_assignments(link) if _open(a, when)]


def _mark_opened(assignment_id: int, when: dt.datetime) -> None:
    Assignment.objects.filter(
        pk=assignment_id, status__in=[AssignmentStatus.DUE, AssignmentStatus.SENT]
    ).update(status=AssignmentStatus.OPENED, opened_at=when)


def link_exchange(*, request: HttpRequest, token: str, now: dt.datetime | None = None) -> Assignment:
    """Spend the link (a conditional UPDATE: once only, across processes) and turn this browser's
    session into a fresh answering session for its first open assignment, the others queued after it
    (`answering_next`). Anyone signed in here is signed out."""
    when = now or clock.now()
    key = _check_attempts(request, when)
    link = link_for_token(token)
    if link is None or not _usable(link, when):
        _refuse(request, key, when, link)
    assert link is not None
    first, *queue = [a for a in link_assignments(link) if _open(a, when)]
    with transaction.atomic(durable=True):
        spent = QuestionnaireLink.objects.filter(
            pk=link.pk, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=when
        ).update(used_at=when)
        if spent:
            _mark_opened(first.pk, when)
            record(
                action=Action.EXECUTE,
                event_type="questionnaire-link",
                entity_type=Entity.QUESTIONNAIRE_LINK,
                entity_id=link.pk,
                practice_id=first.episode.client.practice_id,
                purpose=Purpose.PATIENT_REQUEST,
                request=request,
                detail="exchanged for an answering session",
                actor_role="client",
            )
    if not spent:  # a concurrent request spent it first
        _refuse(request, key, when, link)
    auth_logout(request)  # flushes the old session: a new key, nothing of anyone else's in it
    stamp = when.timestamp()
    request.session[SESSION_ASSIGNMENT] = first.pk
    request.session[SESSION_QUEUE] = [a.pk for a in queue]
    request.session[SESSION_STARTED_AT] = stamp
    request.session[SESSION_SEEN_AT] = stamp
    return first


def _queued_open(request: HttpRequest, when: dt.datetime) -> list[Assignment]:
    ids = [int(pk) for pk in request.session.get(SESSION_QUEUE, [])]
    found = {a.pk: a for a in Assignment.objects.filter(pk__in=ids)}
    return [found[pk] for pk in ids if pk in found and _open(found[pk], when)]


def answering_left(request: HttpRequest, now: dt.datetime | None = None) -> int:
    """How many questionnaires of this answering session's link are still to come (and open)."""
    return len(_queued_open(request, now or clock.now()))


def answering_next(request: HttpRequest, now: dt.datetime | None = None) -> int | None:
    """Move this answering session on to its link's next open questionnaire and return its id; None
    when there is none (or no session). Only once the current one is finished with: answered or
    otherwise closed, or its answers raised a risk flag (the crisis page lets the client go on)."""
    when = now or clock.now()
    current = answering_assignment_id(request, when)
    if current is None:
        return None
    assignment = Assignment.objects.filter(pk=current).first()
    flagged = RiskFlag.objects.filter(assignment_id=current).exists()
    if assignment is not None and _open(assignment, when) and not flagged:
        return current
    queue = _queued_open(request, when)
    if not queue:
        return None
    following, *rest = queue
    _mark_opened(following.pk, when)
    request.session[SESSION_ASSIGNMENT] = following.pk
    request.session[SESSION_QUEUE] = [a.pk for a in rest]
    return following.pk


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
