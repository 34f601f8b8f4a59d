"""Writes of the instrument catalogue: accepting each licensed instrument's terms and importing a
practice's own instrument definitions. Asking for answers and taking them is
`spacebetween.answering`; measurement plans are `spacebetween.plans`."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from spacebetween import clock
from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record
from spacebetween.core import instruments as catalogue
from spacebetween.core.instruments import Instrument, InstrumentDefinitionError
from spacebetween.measures.models import (
    ImportedInstrument,
    InstrumentAcceptance,
)
from spacebetween.measures.selectors import (
    accepted_instruments,
    instrument_accepted,
    instrument_terms_digest,
    licensed_pack,
    pack_terms_digest,
)

logger = logging.getLogger(__name__)

ADMIN_ONLY = "Only the practice admin can change which instruments the practice uses."
TERMS_CHANGED = (
    "The licence terms changed while you were reading them; read the terms below and accept again."
)
NOT_ACCEPTED = "Tick the box to confirm that the practice accepts these terms."
PERMISSION_NOT_CONFIRMED = (
    "These terms ask for the authors' permission: tick the box to confirm that the practice holds it."
)
NOT_LICENSED = "{id!r} is not an instrument of the licensed pack."
ALREADY_ENABLED = "{title} is already switched on."
NOT_ENABLED = "{title} is not switched on."
NOT_JSON = "The file is not a JSON instrument definition: {problem}"
SHIPPED_ID = (
    "{id!r} is the id of an instrument that ships with Space Between; give your definition its own id."
)
VERSION_EXISTS = "Version {version} of {id!r} has already been imported; give the new file a new version."
TOO_LARGE = "The file is larger than 1 MB; an instrument definition is much smaller."
MAX_DEFINITION_BYTES = 1_000_000
# A definition is a few levels deep (instrument, items, options); far deeper JSON is not one, and
# Python's parser and anything that walks it would run out of stack on it.
MAX_DEFINITION_DEPTH = 32
TOO_DEEP = (
    "The file is not an instrument definition: its JSON is nested more than "
    f"{MAX_DEFINITION_DEPTH} levels deep."
)


def _audit_settings(
    actor: User,
    action: Action,
    obj: InstrumentAcceptance | ImportedInstrument,
    request: Any,
    detail: str = "",
) -> None:
    """A practice-settings change, audited as healthcare operations in the caller's transaction."""
    record(
        action=action,
        actor=actor,
        entity_type=Entity(type(obj).__name__),
        entity_id=obj.pk,
        purpose=Purpose.OPERATIONS,
        request=request,
        detail=detail,
    )


def _require_admin(actor: User, practice_id: int) -> None:
    if actor.role != Role.ADMIN or actor.practice_id != practice_id:
        raise ValidationError(ADMIN_ONLY)


def _licensed(instrument_id: str) -> Instrument:
    found = {i.id: i for i in licensed_pack()}.get(instrument_id)
    if found is None:
        raise ValidationError(NOT_LICENSED.format(id=instrument_id))
    return found


def instrument_terms_accept(
    *,
    actor: User,
    instrument_id: str,
    terms_digest: str,
    accepted: bool,
    permission_held: bool = False,
    request: Any = None,
) -> InstrumentAcceptance:
    """Switch one licensed instrument on for the actor's practice. `terms_digest` is the digest of
    the terms the admin was shown; if they changed since, nothing is switched on. Terms that ask for
    the authors' permission also need `permission_held`: the admin confirms the practice has it."""
    _require_admin(actor, actor.practice_id)
    instrument = _licensed(instrument_id)
    if not accepted:
        raise ValidationError({"accepted": NOT_ACCEPTED})
    if instrument.licence.needs_permission and not permission_held:
        raise ValidationError({"permission_held": PERMISSION_NOT_CONFIRMED})
    if terms_digest != instrument_terms_digest(instrument):
        raise ValidationError(TERMS_CHANGED)
    if instrument_accepted(actor.practice_id, instrument_id):
        raise ValidationError(ALREADY_ENABLED.format(title=instrument.title))
    with transaction.atomic(durable=True):
        acceptance = InstrumentAcceptance.objects.create(
            practice_id=actor.practice_id,
            instrument_id=instrument_id,
            terms_digest=terms_digest,
            permission_held=instrument.licence.needs_permission and permission_held,
            accepted_by=actor,
            accepted_at=clock.now(),
        )
        _audit_settings(actor, Action.CREATE, acceptance, request, detail=instrument_id)
    return acceptance


def instrument_terms_withdraw(*, actor: User, instrument_id: str, request: Any = None) -> None:
    """Switch one licensed instrument off. Questionnaires already answered stay; new ones cannot use it."""
    _require_admin(actor, actor.practice_id)
    instrument = _licensed(instrument_id)
    acceptance = accepted_instruments(actor.practice_id).get(instrument_id)
    if acceptance is None:
        raise ValidationError(NOT_ENABLED.format(title=instrument.title))
    with transaction.atomic(durable=True):
        acceptance.withdrawn_at = clock.now()
        acceptance.save(update_fields=["withdrawn_at"])
        _audit_settings(actor, Action.UPDATE, acceptance, request, detail=f"withdrawn {instrument_id}")


def licensed_pack_accept(
    *, actor: User, terms_digest: str, accepted: bool, request: Any = None
) -> list[InstrumentAcceptance]:
    """Accept, from the whole pack's terms (`selectors.pack_terms_digest`), each instrument whose
    terms need no separate permission (the WAI-SR) and is not on yet; never one whose terms ask for
    the authors' permission. What the demo's admin does, and what migration 0006 did for a practice
    that had accepted the whole pack."""
    _require_admin(actor, actor.practice_id)
    if not accepted:
        raise ValidationError({"accepted": NOT_ACCEPTED})
    if terms_digest != pack_terms_digest(licensed_pack()):
        raise ValidationError(TERMS_CHANGED)
    on = accepted_instruments(actor.practice_id)
    return [
        instrument_terms_accept(
            actor=actor,
            instrument_id=i.id,
            terms_digest=instrument_terms_digest(i),
            accepted=True,
            request=request,
        )
        for i in licensed_pack()
        if not i.licence.needs_permission and i.id not in on
    ]


def _nesting_exceeds(doc: object, limit: int) -> bool:
    """Whether arrays and objects in `doc` nest deeper than `limit`; without recursion."""
    stack: list[tuple[object, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def instrument_import(
    *, actor: User, filename: str, content: bytes, request: Any = None
) -> ImportedInstrument:
    """Validate a practice's own definition file exactly as the shipped ones are, then store it."""
    _require_admin(actor, actor.practice_id)
    if len(content) > MAX_DEFINITION_BYTES:
        raise ValidationError({"definition": TOO_LARGE})
    try:
        doc = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError({"definition": NOT_JSON.format(problem=exc)}) from exc
    except RecursionError as exc:
        raise ValidationError({"definition": TOO_DEEP}) from exc
    if _nesting_exceeds(doc, MAX_DEFINITION_DEPTH):
        raise ValidationError({"definition": TOO_DEEP})
    try:
        instrument = catalogue.build_instrument(doc, filename)
    except InstrumentDefinitionError as exc:
        raise ValidationError({"definition": str(exc)}) from exc
    if instrument.id in catalogue.registry(include_licensed=True):
        raise ValidationError({"definition": SHIPPED_ID.format(id=instrument.id)})
    if ImportedInstrument.objects.filter(
        practice_id=actor.practice_id, instrument_id=instrument.id, version=instrument.version
    ).exists():
        raise ValidationError(
            {"definition": VERSION_EXISTS.format(id=instrument.id, version=instrument.version)}
        )
    with transaction.atomic(durable=True):
        imported = ImportedInstrument.objects.create(
            practice_id=actor.practice_id,
            instrument_id=instrument.id,
            version=instrument.version,
            title=instrument.title,
            definition=doc,
            imported_by=actor,
            imported_at=clock.now(),
        )
        _audit_settings(actor, Action.CREATE, imported, request)
    return imported
