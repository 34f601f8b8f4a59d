"""Writes for the practice's safety settings: what each risk answer means (`RiskSeverityRule`) and how
an open flag escalates (`EscalationPolicy`). The practice admin only, every save and every refusal
audited; on bad input nothing changes and the error names the field. docs/safety.md explains both.

New settings apply to flags raised from then on: a flag keeps the severity it was raised with (only a
higher answer can make it more urgent, `safety.risk.raise_flags`), and a flag already waiting for its
next step keeps that time; its later steps wait the new interval."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction

from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record, record_denied
from spacebetween.core.instruments import Instrument, RiskRule, compare
from spacebetween.measures.selectors import instruments_for
from spacebetween.safety.models import EscalationPolicy, RiskSeverityRule, Severity

ADMIN_ONLY = "Only a practice admin can change the practice's risk settings."
RULE_UNKNOWN = "This risk question is not one your practice uses."
VALUE_UNKNOWN = "Answer {value} does not meet this risk rule: choose only among the answers listed."
VALUE_MISSING = "Choose urgent or review for answer {value}."
SEVERITY_UNKNOWN = "Choose urgent or review for answer {value}."
MINUTES_RANGE = "Enter a whole number of minutes from {low} to {high}."
EMAIL_INVALID = "Enter a valid e-mail address, such as duty@example.org, or leave it empty."

# From five minutes (the model's check constraint: the worker runs every minute, and less than five
# would tell the whole chain within minutes of the therapist) to one week.
MINUTES_MIN = 5
MINUTES_MAX = 7 * 24 * 60


def _require_admin(actor: User, entity_type: Entity, request: Any) -> None:
    if actor.role != Role.ADMIN or not actor.is_active or actor.practice_id is None:
        record_denied(
            actor=actor,
            entity_type=entity_type,
            request=request,
            action=Action.UPDATE,
            detail="risk-settings",
        )
        raise PermissionDenied(ADMIN_ONLY)


def rule_for(
    practice_instruments: Mapping[str, Instrument], rule_id: str
) -> tuple[Instrument, RiskRule] | None:
    for instrument in practice_instruments.values():
        for rule in instrument.risk_rules:
            if rule.id == rule_id:
                return instrument, rule
    return None


def meeting_values(instrument: Instrument, rule: RiskRule) -> list[float]:
    """The item's answers that meet the rule (PHQ-9 item 9 > 0: 1, 2 and 3), ascending."""
    item = instrument.item(rule.item)
    return sorted(float(v) for v in item.values if compare(rule.operator, float(v), float(rule.value)))


def bands(values: Mapping[float, str]) -> list[tuple[float, str]]:
    """Collapse one severity per answer to bands: a row at the lowest answer and at each answer whose
    severity differs from the one below it (`safety.severity.grade` reads them back)."""
    rows: list[tuple[float, str]] = []
    for value in sorted(values):
        if not rows or rows[-1][1] != values[value]:
            rows.append((value, values[value]))
    return rows


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def severity_rules_save(
    *,
    actor: User,
    rule_id: str,
    values: Mapping[float, str],
    now: dt.datetime,
    request: Any = None,
) -> list[RiskSeverityRule]:
    """Set what each answer meeting the risk rule `rule_id` means (urgent or review), for every such
    answer at once; the rule's previous rows are replaced in one transaction."""
    _require_admin(actor, Entity.RISK_SEVERITY_RULE, request)
    found = rule_for(instruments_for(actor.practice), rule_id)
    if found is None:
        raise ValidationError({"rule_id": RULE_UNKNOWN})
    allowed = meeting_values(*found)
    chosen: dict[float, str] = {}
    errors: list[str] = []
    for raw, severity in values.items():
        value = float(raw)
        if value not in allowed:
            errors.append(VALUE_UNKNOWN.format(value=_plain(value)))
        elif severity not in Severity.values:
            errors.append(SEVERITY_UNKNOWN.format(value=_plain(value)))
        else:
            chosen[value] = str(severity)
    errors += [VALUE_MISSING.format(value=_plain(v)) for v in allowed if v not in chosen and v not in values]
    if errors:
        raise ValidationError({rule_id: errors})
    rows = bands(chosen)
    with transaction.atomic(durable=True):
        RiskSeverityRule.objects.filter(practice_id=actor.practice_id, rule_id=rule_id).delete()
        saved = RiskSeverityRule.objects.bulk_create(
            RiskSeverityRule(
                practice_id=actor.practice_id,
                rule_id=rule_id,
                min_value=start,
                severity=severity,
                updated_at=now,
                updated_by=actor,
            )
            for start, severity in rows
        )
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type=Entity.RISK_SEVERITY_RULE,
            entity_id=rule_id,
            purpose=Purpose.OPERATIONS,
            request=request,
            detail=" ".join(f"{_plain(start)}:{severity}" for start, severity in rows),
        )
    return saved


def _minutes(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        return None
    return number if MINUTES_MIN <= number <= MINUTES_MAX else None


def escalation_policy_save(
    *,
    actor: User,
    urgent_minutes: object,
    review_minutes: object,
    on_call_email: str,
    now: dt.datetime,
    request: Any = None,
) -> EscalationPolicy:
    """How long an open flag waits for each next person of the chain, by severity, and the on-call
    address told after everyone else (optional)."""
    _require_admin(actor, Entity.ESCALATION_POLICY, request)
    errors: dict[str, str] = {}
    urgent, review = _minutes(urgent_minutes), _minutes(review_minutes)
    message = MINUTES_RANGE.format(low=MINUTES_MIN, high=MINUTES_MAX)
    if urgent is None:
        errors["urgent_minutes"] = message
    if review is None:
        errors["review_minutes"] = message
    address = (on_call_email or "").strip()
    if address:
        try:
            validate_email(address)
        except ValidationError:
            errors["on_call_email"] = EMAIL_INVALID
    if errors:
        raise ValidationError(errors)
    assert urgent is not None and review is not None
    with transaction.atomic(durable=True):
        policy, created = EscalationPolicy.objects.update_or_create(
            practice_id=actor.practice_id,
            defaults={
                "urgent_minutes": urgent,
                "review_minutes": review,
                "on_call_email": address,
                "updated_at": now,
                "updated_by": actor,
            },
        )
        record(
            action=Action.CREATE if created else Action.UPDATE,
            actor=actor,
            entity_type=Entity.ESCALATION_POLICY,
            entity_id=policy.pk,
            purpose=Purpose.OPERATIONS,
            request=request,
            detail=f"urgent:{urgent} review:{review} on-call:{'set' if address else 'none'}",
        )
    return policy
