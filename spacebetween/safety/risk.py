"""The one place that reads risk answers and raises risk flags: a risk answer is never dropped
silently (docs/safety.md; Joint Commission National Patient Safety Goal NPSG.15.01.01 on suicide risk).

Every path that carries a client's answers calls `screen` *first*, before anything can refuse them:
a saved draft answer (portal or link, at save time), a submission that is stored, one that cannot be
scored, one that arrives after the questionnaire was withdrawn, expired or answered, and an API
submission whatever its rate limit says. `screen` evaluates the instrument's risk rules on the raw
answers (unknown items and non-numbers left out, so one bad answer elsewhere cannot hide a risk
answer) and raises one flag per assignment and rule, or updates the one already raised. Flags raised
outside a stored response commit in their own transaction, before the caller goes on; a stored
response's flags commit with it. tests/safety/test_entry_points.py walks each path with a risk
answer, and fails when a new way of writing answers does not come through here.

A flag is raised for the treating therapist (escalation step 0) with its severity
(`safety.severity`); `safety.escalation` tells the next people until someone acknowledges it."""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Action, Entity, Outcome, Purpose
from spacebetween.audit.services import record, record_system
from spacebetween.core.instruments import Instrument, RiskRule
from spacebetween.core.scoring import ResponseScore, ScoringError, score_response
from spacebetween.measures.models import Assignment, Response
from spacebetween.safety import escalation
from spacebetween.safety.models import RiskFlag
from spacebetween.safety.severity import severity_for

ACTION_REQUIRED = "Say what was done about this risk answer."
ALREADY_ACKNOWLEDGED = "This risk flag has already been acknowledged."
ACKNOWLEDGE_NOT_ALLOWED = (
    "Only the treating therapist, their supervisor or a practice admin can acknowledge this risk flag."
)

AuditLater = list[Callable[[], object]]


@dataclass(frozen=True)
class Met:
    """A risk rule the answers meet, and the answer that met it."""

    rule: RiskRule
    value: float


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def rules_met(
    instrument: Instrument, answers: Mapping[str, object], score: ResponseScore | None = None
) -> list[Met]:
    """The risk rules the raw answers meet, read by core.scoring apart from whether the rest can be
    scored: unknown items and non-numbers are left out, and too many missing answers do not matter."""
    if score is None:
        known = {k: v for k, v in answers.items() if k in instrument.item_ids and is_number(v)}
        try:
            score = score_response(instrument, known, incomplete="nan")  # type: ignore[arg-type]
            fired = {rule_id for rule_id, met in score.risk.items() if met}
        except ScoringError as exc:  # an answer outside its item's options; flags still computed
            fired = {rule.id for rule in instrument.risk_rules if rule.label in exc.risk_flags}
    else:
        fired = {rule_id for rule_id, met in score.risk.items() if met}
    return [Met(rule, float(answers[rule.item])) for rule in instrument.risk_rules if rule.id in fired]  # type: ignore[arg-type]


def _save(
    flag: RiskFlag,
    fields: list[str],
    detail: str,
    practice_id: int,
    actor: User | None,
    audit_later: AuditLater,
) -> None:
    """Save what changed on a flag, with its audit row for the caller to write last."""
    if not fields:
        return
    flag.save(update_fields=fields)
    audit_later.append(
        functools.partial(
            record_system,
            action=Action.UPDATE,
            entity_type=Entity.RISK_FLAG,
            entity_id=flag.pk,
            practice_id=practice_id,
            detail=detail,
            actor=actor,
        )
    )


def raise_flags(
    *,
    assignment: Assignment,
    met: list[Met],
    source: str,
    now: dt.datetime,
    actor: User | None,
    audit_later: AuditLater,
    answers: Mapping[str, object],
    response: Response | None = None,
) -> list[RiskFlag]:
    """Create (or update) one flag per rule met, each new one with the treating therapist's notice.
    A flag the assignment already has keeps track of the answer even when it no longer meets the rule
    (a client who changes a saved "3" to "0": `last_value` says so, and the flag stays), and is
    attached to the stored response. Runs inside the caller's transaction, which writes the audit
    rows appended to `audit_later` last: every transaction takes the audit chain's head after the
    other rows it locks, so that two of them never wait on each other (a submission's API key count)."""
    episode = assignment.episode
    practice_id = episode.client.practice_id
    existing = {flag.rule_id: flag for flag in RiskFlag.objects.filter(assignment=assignment)}
    flags: list[RiskFlag] = []
    for m in met:
        flag = existing.get(m.rule.id)
        if flag is None:
            severity = severity_for(practice_id, m.rule.id, m.value)
            flag = RiskFlag.objects.create(
                assignment=assignment,
                response=response,
                episode=episode,
                rule_id=m.rule.id,
                item_id=m.rule.item,
                answer_value=m.value,
                last_value=m.value,
                severity=severity,
                source=source,
                raised_at=now,
                next_escalation_at=now + escalation.interval_for(practice_id, severity),
            )
            audit_later.append(
                functools.partial(
                    record_system,
                    action=Action.CREATE,
                    entity_type=Entity.RISK_FLAG,
                    entity_id=flag.pk,
                    practice_id=practice_id,
                    detail=f"raised {source}",
                    actor=actor,
                )
            )
            flag.episode = episode
            therapist = episode.therapist
            escalation.notify(
                flag=flag,
                to=escalation.Recipient(therapist, therapist.email),
                step=0,
                now=now,
                audit_later=audit_later,
            )
        else:
            changed: list[str] = []
            if response is not None and flag.response_id is None:
                flag.response, changed = response, [*changed, "response"]
            if m.value > flag.answer_value:
                flag.answer_value = m.value
                changed.append("answer_value")
                # A higher answer may be more urgent; never less urgent than it was.
                severity = severity_for(practice_id, m.rule.id, m.value)
                if severity != flag.severity and severity == "urgent":
                    flag.severity = severity
                    changed.append("severity")
                    # ... and its next step comes no later than an urgent flag's would.
                    sooner = now + escalation.interval_for(practice_id, severity)
                    if flag.next_escalation_at is not None and sooner < flag.next_escalation_at:
                        flag.next_escalation_at = sooner
                        changed.append("next_escalation_at")
            if flag.last_value != m.value:
                flag.last_value = m.value
                changed.append("last_value")
            _save(flag, changed, f"answered-again {source}", practice_id, actor, audit_later)
        flags.append(flag)
    met_rules = {m.rule.id for m in met}
    for rule_id, flag in existing.items():
        if rule_id in met_rules:
            continue
        value = answers.get(flag.item_id)
        updates: list[str] = []
        if response is not None and flag.response_id is None:
            flag.response, updates = response, ["response"]
        if is_number(value) and flag.last_value != float(value):  # type: ignore[arg-type]
            flag.last_value = float(value)  # type: ignore[arg-type]
            updates.append("last_value")
        _save(flag, updates, f"answer-changed {source}", practice_id, actor, audit_later)
    return flags


def screen(
    *,
    assignment: Assignment,
    instrument: Instrument,
    answers: Mapping[str, object],
    source: str,
    now: dt.datetime,
    actor: User | None = None,
) -> list[RiskFlag]:
    """Raise (or update) the flags the answers call for, in their own durable transaction, before the
    caller decides anything else about the answers. `assignment` must carry its episode, client and
    therapist (select_related). Returns every flag of the assignment's rules that the answers meet."""
    met = rules_met(instrument, answers)
    if not met and not RiskFlag.objects.filter(assignment=assignment).exists():
        return []
    for attempt in range(2):  # a concurrent save may create the same flag first
        try:
            with transaction.atomic(durable=True):
                audit_later: AuditLater = []
                flags = raise_flags(
                    answers=answers,
                    assignment=assignment,
                    met=met,
                    source=source,
                    now=now,
                    actor=actor,
                    audit_later=audit_later,
                )
                for audit in audit_later:
                    audit()
                return flags
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


# ------------------------------------------------------------------------------ acting on a flag


def may_acknowledge(actor: User, flag: RiskFlag) -> bool:
    therapist = flag.episode.therapist
    if not actor.is_active or actor.practice_id != flag.episode.client.practice_id:
        return False
    if actor.pk == therapist.pk or flag.notifications.filter(recipient_id=actor.pk).exists():
        return True
    if actor.role in (Role.THERAPIST, Role.SUPERVISOR) and therapist.supervisor_id == actor.pk:
        return True
    return actor.role == Role.ADMIN


def flag_acknowledge(
    *, actor: User, flag: RiskFlag, action_taken: str, now: dt.datetime, request: HttpRequest | None = None
) -> RiskFlag:
    """Record who acknowledged a risk flag, when, and what was done; the chain stops. Once only."""
    flag = RiskFlag.objects.select_related("episode__therapist", "episode__client").get(pk=flag.pk)
    if not may_acknowledge(actor, flag):
        record(
            action=Action.UPDATE,
            event_type="access-denied",
            actor=actor,
            entity_type=Entity.RISK_FLAG,
            entity_id=flag.pk,
            outcome=Outcome.MINOR_FAILURE,
            practice_id=actor.practice_id,
            detail="acknowledge",
        )
        raise PermissionDenied(ACKNOWLEDGE_NOT_ALLOWED)
    action_taken = action_taken.strip()
    if not action_taken:
        raise ValidationError({"action_taken": ACTION_REQUIRED})
    with transaction.atomic(durable=True):
        updated = RiskFlag.objects.filter(pk=flag.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=now, acknowledged_by=actor, action_taken=action_taken, next_escalation_at=None
        )
        if not updated:
            raise ValidationError(ALREADY_ACKNOWLEDGED)
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type=Entity.RISK_FLAG,
            entity_id=flag.pk,
            purpose=Purpose.TREATMENT,
            request=request,
            detail="acknowledged",
        )
    flag.refresh_from_db()
    return flag
