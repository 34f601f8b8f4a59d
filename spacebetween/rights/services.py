"""Writes: the practice's retention rule. (Erasure: `rights.erasure`; the archive: `rights.export`.)"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from spacebetween import clock
from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record
from spacebetween.rights.models import MAX_RETENTION_YEARS, MIN_RETENTION_YEARS, RetentionPolicy

ADMIN_ONLY = "Only the practice admin can set the retention rule."
BAD_YEARS = f"Choose a whole number of years from {MIN_RETENTION_YEARS} to {MAX_RETENTION_YEARS}."


def retention_set(
    *, actor: User, years_after_last_episode: int, now: dt.datetime | None = None, request: Any = None
) -> RetentionPolicy:
    if actor.role != Role.ADMIN:
        raise PermissionDenied(ADMIN_ONLY)
    years = years_after_last_episode
    if (
        isinstance(years, bool)
        or not isinstance(years, int)
        or not MIN_RETENTION_YEARS <= years <= MAX_RETENTION_YEARS
    ):
        raise ValidationError(BAD_YEARS)
    when = now or clock.now()
    with transaction.atomic(durable=True):
        policy, _ = RetentionPolicy.objects.update_or_create(
            practice_id=actor.practice_id,
            defaults={"years_after_last_episode": years, "updated_at": when, "updated_by": actor},
        )
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type=Entity.RETENTION_POLICY,
            entity_id=policy.pk,
            purpose=Purpose.OPERATIONS,
            request=request,
            detail=f"{years} years",
        )
    return policy
