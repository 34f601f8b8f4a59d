"""Writes: the treating therapist shows or hides the client's own progress view in the portal.
Validated first, refused (and audited) for anyone who may not change the client's record; the change
and its audit row (ids only) go in one durable transaction."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest

from spacebetween import clock
from spacebetween.accounts.models import User
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record, record_denied
from spacebetween.clients.access import clients_for
from spacebetween.clients.models import Client
from spacebetween.progress.models import ProgressViewSetting

NOT_ALLOWED = "Only the client's treating therapist can change this."
CHOOSE = "Choose whether the client sees their progress in the portal."


def progress_view_set(
    *,
    actor: User,
    client: Client,
    shown: object,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> ProgressViewSetting:
    """Show (`shown=True`) or hide the client's own progress view in the portal. Refused, writing
    nothing: `shown` that is not True or False (ValidationError on `shown`), and anyone but a treating
    therapist of the client: a colleague, a supervisor, the admin, the client (PermissionDenied)."""
    now = now or clock.now()
    if not isinstance(shown, bool):
        raise ValidationError({"shown": CHOOSE})
    if not clients_for(actor, write=True).filter(pk=client.pk).exists():
        record_denied(
            actor=actor,
            entity_type=Entity.CLIENT,
            entity_id=client.pk,
            detail="progress-view",
            action=Action.UPDATE,
        )
        raise PermissionDenied(NOT_ALLOWED)
    with transaction.atomic(durable=True):
        setting, created = ProgressViewSetting.objects.update_or_create(
            client=client, defaults={"shown": shown, "changed_by": actor, "changed_at": now}
        )
        record(
            action=Action.CREATE if created else Action.UPDATE,
            actor=actor,
            entity_type=Entity.PROGRESS_VIEW_SETTING,
            entity_id=setting.pk,
            purpose=Purpose.TREATMENT,
            request=request,
        )
    return setting
