"""The owner's writes: the practice's own details (name, country, time zone)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record
from spacebetween.practice.countries import is_country_code
from spacebetween.practice.models import Practice

ADMIN_ONLY = "Only the practice admin can change the practice's details."
NOT_A_COUNTRY = "{value!r} is not an ISO 3166 country code (e.g. GB)."


def practice_details_save(
    *, actor: User, name: str, country: str, time_zone: str, request: Any = None
) -> Practice:
    """Change the actor's practice's name, country and time zone, checked like at setup; audited.
    Nothing changes on bad input."""
    if actor.role != Role.ADMIN:
        raise PermissionDenied(ADMIN_ONLY)
    if not is_country_code(country):
        raise ValidationError({"country": NOT_A_COUNTRY.format(value=country)})
    with transaction.atomic(durable=True):
        practice = Practice.objects.select_for_update().get(pk=actor.practice_id)
        practice.name, practice.country, practice.time_zone = name.strip(), country, time_zone
        practice.full_clean()
        practice.save(update_fields=["name", "country", "time_zone"])
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type=Entity.PRACTICE,
            entity_id=practice.pk,
            purpose=Purpose.OPERATIONS,
            request=request,
            detail="details",
        )
    return practice
