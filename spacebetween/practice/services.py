from __future__ import annotations

from django.db import transaction

from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record
from spacebetween.practice.models import Practice


def practice_create(*, name: str, time_zone: str = "Europe/London", country: str = "GB") -> Practice:
    """Create a practice (operators do this once, from the command line or the demo)."""
    practice = Practice(name=name, time_zone=time_zone, country=country)
    practice.full_clean()
    with transaction.atomic():
        practice.save()
        record(
            action=Action.CREATE,
            entity_type=Entity.PRACTICE,
            entity_id=practice.pk,
            practice_id=practice.pk,
            purpose=Purpose.SYSTEM_ADMIN,
            actor_role="system",
        )
    return practice
