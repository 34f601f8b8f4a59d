"""Telling people about a risk flag until someone acts on it.

Step 0 is the treating therapist, told when the flag is raised (in the flag's own transaction). While
nobody has acknowledged the flag, every `interval` (the practice's `EscalationPolicy` for the flag's
severity, else DEFAULT_MINUTES) the next person of the chain is told: the therapist's supervisor, then
each active admin of the practice, then the practice's on-call address. When the chain has nobody
left, the flag is marked unreachable (`RiskFlag.unreachable_at`) and shown loudly on the caseload and
the admin's pages; the worker keeps looking, so a supervisor or admin added later is told at the next
interval. Each step tells the first person of the chain *as it is now* who has not been told yet
(not the chain's n-th place): a supervisor who left, or an admin added in the middle, neither skips
nor repeats anyone. Every step is audited and claimed by a conditional UPDATE on the flag's step and
time, so two workers never send the same step twice, nor mark the same flag unreachable twice."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Action, Entity
from spacebetween.audit.services import record_system
from spacebetween.notifications.services import outbox_enqueue
from spacebetween.safety.models import (
    EscalationPolicy,
    RiskFlag,
    RiskNotification,
    RiskNotificationKind,
    Severity,
)

logger = logging.getLogger(__name__)

# Until a practice sets its own (Practice -> Risk settings). Urgent: an hour, so that a flag raised in
# a working day reaches a second person the same day; review: four hours, the strictest response time
# that the project's security research quotes for a positive item (docs/safety.md), and the one
# escalation there was until now.
DEFAULT_MINUTES: dict[str, int] = {Severity.URGENT: 60, Severity.REVIEW: 240}

# Minimal PHI (docs/notifications.md): no name, instrument, score or answer; the urgency only.
SUBJECTS: dict[str, str] = {
    Severity.URGENT: "Urgent: a client response needs review today",
    Severity.REVIEW: "A client response needs review within one working day",
}
ESCALATED_PREFIX = "Not yet acknowledged - "
BODY = (
    "A client response in Space Between needs review ({urgency}). Sign in to see it and to record what "
    "was done; until then it is passed on to the next person in the practice's chain."
)


@dataclass(frozen=True)
class Recipient:
    user: User | None  # None: the practice's on-call address
    address: str


def chain_for(flag: RiskFlag) -> list[Recipient]:
    """Who is told, in order: the treating therapist (step 0), their supervisor, the practice's active
    admins, the on-call address; each person once, inactive accounts left out."""
    therapist = flag.episode.therapist
    practice_id = flag.episode.client.practice_id
    people: list[User] = [therapist]
    supervisor = therapist.supervisor
    if (
        supervisor is not None
        and supervisor.is_active
        and supervisor.practice_id == practice_id
        and supervisor.role in (Role.THERAPIST, Role.SUPERVISOR)
    ):
        people.append(supervisor)
    people += list(
        User.objects.filter(practice_id=practice_id, role=Role.ADMIN, is_active=True).order_by("pk")
    )
    seen: set[int] = set()
    chain = []
    for person in people:
        if person.pk not in seen:
            seen.add(person.pk)
            chain.append(Recipient(person, person.email))
    policy = EscalationPolicy.objects.filter(practice_id=practice_id).first()
    if policy is not None and policy.on_call_email:
        chain.append(Recipient(None, policy.on_call_email))
    return chain


def interval_for(practice_id: int, severity: str) -> dt.timedelta:
    policy = EscalationPolicy.objects.filter(practice_id=practice_id).first()
    if policy is None:
        minutes = DEFAULT_MINUTES[severity]
    else:
        minutes = policy.urgent_minutes if severity == Severity.URGENT else policy.review_minutes
    return dt.timedelta(minutes=minutes)


def _audit(flag: RiskFlag, entity_type: Entity, pk: object, detail: str, actor: User | None = None) -> None:
    record_system(
        action=Action.CREATE if entity_type == Entity.RISK_NOTIFICATION else Action.UPDATE,
        entity_type=entity_type,
        entity_id=pk,
        practice_id=flag.episode.client.practice_id,
        detail=detail,
        actor=actor,
    )


def notify(
    *,
    flag: RiskFlag,
    to: Recipient,
    step: int,
    now: dt.datetime,
    audit_later: list[Callable[[], object]] | None = None,
) -> RiskNotification:
    """The in-app notice and its e-mail, both committed with the caller's transaction (transactional
    outbox). Its audit row is written now, or appended to `audit_later` for the caller to write last."""
    kind = RiskNotificationKind.RAISED if step == 0 else RiskNotificationKind.ESCALATED
    notice = RiskNotification.objects.create(
        flag=flag,
        recipient=to.user,
        to_address="" if to.user else to.address,
        kind=kind,
        step=step,
        created_at=now,
    )
    subject = SUBJECTS[flag.severity]
    outbox_enqueue(
        practice_id=flag.episode.client.practice_id,
        to_address=to.address,
        subject=subject if step == 0 else ESCALATED_PREFIX + subject[0].lower() + subject[1:],
        body_text=BODY.format(urgency=Severity(flag.severity).label.lower()),
        kind=f"risk-{kind}",
    )
    audit = functools.partial(_audit, flag, Entity.RISK_NOTIFICATION, notice.pk, f"{kind} step:{step}")
    if audit_later is None:
        audit()
    else:
        audit_later.append(audit)
    return notice


def _told(flag: RiskFlag) -> tuple[set[int], set[str]]:
    """Who has already been told about this flag: user ids, and the on-call addresses told."""
    users: set[int] = set()
    addresses: set[str] = set()
    for user_id, address in flag.notifications.values_list("recipient_id", "to_address"):
        if user_id is not None:
            users.add(user_id)
        elif address:
            addresses.add(address.lower())
    return users, addresses


def next_recipient(flag: RiskFlag) -> Recipient | None:
    """The first person of the chain as it is now who has not been told about the flag; None when
    everyone has been."""
    users, addresses = _told(flag)
    for to in chain_for(flag):
        if to.user is not None and to.user.pk not in users:
            return to
        if to.user is None and to.address.lower() not in addresses:
            return to
    return None


def escalate_due(*, now: dt.datetime) -> list[RiskFlag]:
    """Tell the next person of the chain about every open flag whose time has come. Idempotent: each
    step is claimed by a conditional UPDATE on the flag's step and next time, as read."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must carry its time zone")
    due = RiskFlag.objects.filter(acknowledged_at__isnull=True, next_escalation_at__lte=now).select_related(
        "episode__therapist__supervisor", "episode__client"
    )
    moved: list[RiskFlag] = []
    for flag in due:
        to = next_recipient(flag)
        step = flag.escalation_step + 1
        interval = interval_for(flag.episode.client.practice_id, flag.severity)
        # The claim: still open, and nobody has moved it since it was read (another worker).
        as_read = RiskFlag.objects.filter(
            pk=flag.pk,
            acknowledged_at__isnull=True,
            escalation_step=flag.escalation_step,
            next_escalation_at=flag.next_escalation_at,
        )
        with transaction.atomic(durable=True):
            if to is None:
                # Nobody left: said loudly once, and looked at again after the interval, in case the
                # practice has added someone to the chain since.
                claimed = as_read.update(
                    next_escalation_at=now + interval, unreachable_at=flag.unreachable_at or now
                )
                if claimed and flag.unreachable_at is None:
                    _audit(
                        flag, Entity.RISK_FLAG, flag.pk, f"nobody-left-to-tell step:{flag.escalation_step}"
                    )
                    logger.warning("risk flag %s is open and its practice has nobody left to tell", flag.pk)
                continue
            claimed = as_read.update(
                escalation_step=step,
                escalated_at=now,
                escalated_to=to.user,
                next_escalation_at=now + interval,
                unreachable_at=None,
            )
            if not claimed:
                continue
            whom = f"user:{to.user.pk}" if to.user is not None else "on-call"
            _audit(flag, Entity.RISK_FLAG, flag.pk, f"escalated step:{step} to:{whom}")
            notify(flag=flag, to=to, step=step, now=now)
        flag.escalation_step, flag.escalated_at, flag.escalated_to = step, now, to.user
        flag.next_escalation_at, flag.unreachable_at = now + interval, None
        moved.append(flag)
    return moved
