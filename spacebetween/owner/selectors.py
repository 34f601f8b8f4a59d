"""Reads for the owner's pages: the practice's audit events filtered and named, its outbox with what
waits and why, and its settings gathered from where each lives. Ids and names only: an audit row holds
no content, and the outbox rows shown carry no body."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from spacebetween import clock
from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Action, AuditEvent, Entity, Outcome, Purpose
from spacebetween.clients.models import Client, Episode, Session
from spacebetween.core.schedule import QUIET_FROM, QUIET_UNTIL
from spacebetween.measures.models import Assignment, Response
from spacebetween.measures.selectors import accepted_instruments, licensed_pack, practice_plan
from spacebetween.notifications.models import OutboxMessage, Status
from spacebetween.practice.models import Practice
from spacebetween.rights.selectors import retention_years
from spacebetween.safety.models import RiskFlag, SafetyPlan
from spacebetween.safety.selectors import risk_settings

# ------------------------------------------------------------------------------ the audit log


@dataclass(frozen=True)
class AuditFilter:
    """What the admin asked for; every part optional. Dates are the practice's local days."""

    person: int | None = None  # a user's id: the events they caused
    client: int | None = None  # a client's id: the events about their record
    action: str = ""
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive


def _local_midnight(day: dt.date, time_zone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=zoneinfo.ZoneInfo(time_zone)).astimezone(dt.UTC)


def _about_client(client_id: int) -> Q:
    """Events about a client's record: the client, their episodes, sessions, questionnaires, answers,
    risk flags and safety plans (by the ids the rows carry)."""
    episodes = list(Episode.objects.filter(client_id=client_id).values_list("pk", flat=True))
    assignments = list(Assignment.objects.filter(episode_id__in=episodes).values_list("pk", flat=True))
    related: list[tuple[Entity, list[int]]] = [
        (Entity.CLIENT, [client_id]),
        (Entity.EPISODE, episodes),
        (Entity.SESSION, list(Session.objects.filter(episode_id__in=episodes).values_list("pk", flat=True))),
        (Entity.ASSIGNMENT, assignments),
        (
            Entity.RESPONSE,
            list(Response.objects.filter(assignment_id__in=assignments).values_list("pk", flat=True)),
        ),
        (
            Entity.RISK_FLAG,
            list(RiskFlag.objects.filter(episode_id__in=episodes).values_list("pk", flat=True)),
        ),
        (
            Entity.SAFETY_PLAN,
            list(SafetyPlan.objects.filter(client_id=client_id).values_list("pk", flat=True)),
        ),
    ]
    about = Q(pk__in=[])
    for entity, ids in related:
        if ids:
            about |= Q(entity_type__exact=str(entity), entity_id__in=[str(i) for i in ids])
    return about


def audit_events(practice: Practice, wanted: AuditFilter) -> QuerySet[AuditEvent]:
    """The practice's audit events matching `wanted`, newest first. A client of another practice
    matches nothing (the caller checks the client belongs to the practice)."""
    events = AuditEvent.objects.filter(practice_id=practice.pk)
    if wanted.person is not None:
        events = events.filter(actor_id=wanted.person)
    if wanted.client is not None:
        events = events.filter(_about_client(wanted.client))
    if wanted.action:
        events = events.filter(action=wanted.action)
    if wanted.since is not None:
        events = events.filter(recorded_at__gte=_local_midnight(wanted.since, practice.time_zone))
    if wanted.until is not None:
        next_day = wanted.until + dt.timedelta(days=1)
        events = events.filter(recorded_at__lt=_local_midnight(next_day, practice.time_zone))
    return events.order_by("-seq")


def practice_people(practice: Practice) -> list[User]:
    """Everyone with a login in the practice, for the person filter: staff first, then clients."""
    order: dict[str, int] = {Role.ADMIN: 0, Role.SUPERVISOR: 1, Role.THERAPIST: 2, Role.CLIENT: 3}
    people = list(User.objects.filter(practice=practice).only("pk", "full_name", "role"))
    return sorted(people, key=lambda u: (order.get(u.role, 9), u.full_name.lower(), u.pk))


def practice_client(practice: Practice, client_id: int) -> Client | None:
    fields = ("pk", "given_name", "preferred_name", "family_name")
    return Client.objects.filter(practice=practice, pk=client_id).only(*fields).first()


@dataclass(frozen=True)
class AuditRow:
    seq: int
    recorded_at: dt.datetime
    event_type: str
    action: str
    outcome: str
    actor: str  # "Name (role)", "system", or "" for no one
    actor_id: int | None
    entity: str  # the entity type (audit.models.Entity value)
    entity_id: str
    purpose: str
    detail: str
    source_address: str


_ACTIONS = dict(Action.choices)
_OUTCOMES = dict(Outcome.choices)
_PURPOSES = dict(Purpose.choices)


def audit_rows(events: list[AuditEvent] | Iterator[AuditEvent], names: dict[int, str]) -> Iterator[AuditRow]:
    for event in events:
        if event.actor_id is not None:
            actor = f"{names.get(event.actor_id, f'user #{event.actor_id}')} ({event.actor_role})"
        else:
            actor = event.actor_role
        yield AuditRow(
            seq=event.seq,
            recorded_at=event.recorded_at,
            event_type=event.event_type,
            action=_ACTIONS.get(event.action, event.action),
            outcome=_OUTCOMES.get(event.outcome, str(event.outcome)),
            actor=actor,
            actor_id=event.actor_id,
            entity=event.entity_type,
            entity_id=event.entity_id,
            purpose=_PURPOSES.get(event.purpose, event.purpose),
            detail=event.detail,
            source_address=event.source_address or "",
        )


def people_names(practice: Practice) -> dict[int, str]:
    return dict(User.objects.filter(practice=practice).values_list("pk", "full_name"))


# ------------------------------------------------------------------------------ the outbox


@dataclass(frozen=True)
class OutboxRow:
    """One e-mail as the admin sees it: who it goes to, its subject and state; never its body."""

    pk: int
    created_at: dt.datetime
    kind: str
    to_address: str
    subject: str
    status: str
    state: str  # "Sent", "Waiting", "Held", "Failed", ...
    note: str  # e.g. "held until 08:00 (quiet hours)", "retry at 14:05 (SMTPServerDisconnected)"
    when: dt.datetime | None  # sent at, or due at


QUIET = {"quiet_from": QUIET_FROM, "quiet_until": QUIET_UNTIL}
OUTBOX_VIEWS = {
    "": "All",
    "waiting": "Waiting",
    "sent": "Sent",
    "failed": "Failed",
}


def outbox_messages(practice: Practice, view: str = "") -> QuerySet[OutboxMessage]:
    """The practice's outbox, newest first; `view` one of OUTBOX_VIEWS."""
    messages = OutboxMessage.objects.filter(practice=practice).defer("body_text")
    if view == "waiting":
        messages = messages.filter(status__in=(Status.PENDING, Status.SENDING))
    elif view in ("sent", "failed"):
        messages = messages.filter(status=view)
    return messages.order_by("-created_at", "-id")


def outbox_rows(
    messages: list[OutboxMessage], time_zone: str, now: dt.datetime | None = None
) -> list[OutboxRow]:
    now = now or clock.now()
    tz = zoneinfo.ZoneInfo(time_zone)
    rows = []
    for message in messages:
        state, note, when = _outbox_state(message, now, tz)
        rows.append(
            OutboxRow(
                pk=message.pk,
                created_at=message.created_at,
                kind=message.kind,
                to_address=message.to_address,
                subject=message.subject,
                status=message.status,
                state=state,
                note=note,
                when=when,
            )
        )
    return rows


def _outbox_state(
    message: OutboxMessage, now: dt.datetime, tz: zoneinfo.ZoneInfo
) -> tuple[str, str, dt.datetime | None]:
    if message.status == Status.SENT:
        return "Sent", "", message.sent_at
    if message.status == Status.FAILED:
        return (
            "Failed",
            f"gave up after {message.attempts} attempts ({message.last_error or 'no reply'})",
            None,
        )
    if message.status == Status.SENDING:
        return "Sending", "a worker is sending it now", None
    local = message.not_before.astimezone(tz)
    if message.not_before <= now:
        note = "due now; the worker sends it within a minute" if not message.attempts else ""
        if message.attempts:
            note = f"retrying after {message.attempts} failed attempts ({message.last_error})"
        return "Waiting", note, message.not_before
    at = f"{local:%H:%M}" if local.date() == now.astimezone(tz).date() else f"{local:%-d %b %H:%M}"
    if message.attempts:
        return (
            "Waiting",
            f"retry at {at} after {message.attempts} failed attempts ({message.last_error})",
            None,
        )
    if local.time().replace(second=0, microsecond=0) == QUIET_UNTIL:
        return "Held", f"held until {at} (quiet hours)", message.not_before
    return "Held", f"held until {at}", message.not_before


# ------------------------------------------------------------------------------ the settings


@dataclass(frozen=True)
class PracticeSettings:
    practice: Practice
    urgent_minutes: int
    review_minutes: int
    on_call_email: str
    escalation_own: bool  # False: the defaults
    quiet_from: dt.time
    quiet_until: dt.time
    retention_years: int
    licensed_on: list[str]  # titles of the licensed instruments switched on
    licensed_total: int
    own_plan: bool  # False: the built-in default plan


def practice_settings(practice: Practice) -> PracticeSettings:
    risk = risk_settings(practice)
    on = accepted_instruments(practice)
    pack = licensed_pack()
    return PracticeSettings(
        practice=practice,
        urgent_minutes=risk.urgent_minutes,
        review_minutes=risk.review_minutes,
        on_call_email=risk.on_call_email,
        escalation_own=risk.own_policy,
        quiet_from=QUIET_FROM,
        quiet_until=QUIET_UNTIL,
        retention_years=retention_years(practice),
        licensed_on=[i.title for i in pack if i.id in on],
        licensed_total=len(pack),
        own_plan=practice_plan(practice) is not None,
    )
