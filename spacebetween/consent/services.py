"""Writes: recording a consent decision (a new row; nothing is ever overwritten)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from spacebetween import clock
from spacebetween.accounts.models import User
from spacebetween.audit.models import Action, Entity
from spacebetween.audit.models import Purpose as AuditPurpose
from spacebetween.audit.services import record
from spacebetween.clients.access import clients_for
from spacebetween.clients.models import Client
from spacebetween.consent.models import CURRENT, ConsentRecord, Purpose

NOT_TREATING = "Only the client's treating therapist can record their consent."
UNKNOWN_PURPOSE = "Choose what the consent is for: measurement or e-mail."
UNCHANGED = "Nothing changed: that is already the client's recorded decision."


def consent_record(
    *,
    actor: User,
    client: Client,
    purpose: str,
    given: bool,
    now: dt.datetime | None = None,
    request: Any = None,
) -> ConsentRecord:
    """Record that the client gave (or withdrew) consent for `purpose`, on the current wording. Refused,
    changing nothing, for anyone but the treating therapist, an unknown purpose, or no change."""
    if purpose not in Purpose.values:
        raise ValidationError(UNKNOWN_PURPOSE)
    if not clients_for(actor, write=True).filter(pk=client.pk).exists():
        raise PermissionDenied(NOT_TREATING)
    when = now or clock.now()
    with transaction.atomic(durable=True):
        latest = (
            ConsentRecord.objects.filter(client=client, purpose=purpose)
            .order_by("-recorded_at", "-id")
            .first()
        )
        if latest is not None and latest.given == given and latest.wording_version == CURRENT[purpose]:
            raise ValidationError(UNCHANGED)
        row = ConsentRecord.objects.create(
            client=client,
            purpose=purpose,
            given=given,
            wording_version=CURRENT[purpose],
            recorded_at=when,
            recorded_by=actor,
        )
        record(
            action=Action.CREATE,
            actor=actor,
            entity_type=Entity.CONSENT_RECORD,
            entity_id=row.pk,
            purpose=AuditPurpose.PATIENT_REQUEST,
            request=request,
            detail=f"{purpose} {'given' if given else 'withdrawn'}",
        )
    return row
