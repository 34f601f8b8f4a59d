"""Reads: the instruments a practice may use, and the licensed pack's terms."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from spacebetween.accounts.models import User
from spacebetween.clients.models import Episode
from spacebetween.core import instruments as catalogue
from spacebetween.core.instruments import Instrument
from spacebetween.measures.models import Assignment, ImportedInstrument, PackAcceptance, RiskFlag
from spacebetween.practice.models import Practice

LICENSED_PACK = "licensed"


def licensed_pack() -> list[Instrument]:
    """The licensed (class C) instruments shipped as an opt-in pack, in id order."""
    everything = catalogue.registry(include_licensed=True)
    return sorted((i for i in everything.values() if i.pack == LICENSED_PACK), key=lambda i: i.id)


def pack_terms_digest(instruments: list[Instrument]) -> str:
    """SHA-256 of exactly what the admin is shown: each instrument's id, version, licence and terms."""
    shown = [
        [i.id, i.version, i.licence.licence_class, i.licence.name, i.licence.statement, i.licence.terms or ""]
        for i in instruments
    ]
    return hashlib.sha256(json.dumps(shown, ensure_ascii=False).encode("utf-8")).hexdigest()


def current_acceptance(practice: Practice) -> PackAcceptance | None:
    """The acceptance in force: not withdrawn, and for the terms as they are now."""
    digest = pack_terms_digest(licensed_pack())
    return (
        PackAcceptance.objects.filter(practice=practice, pack=LICENSED_PACK, withdrawn_at__isnull=True)
        .filter(terms_digest=digest)
        .select_related("accepted_by")
        .first()
    )


def licensed_pack_enabled(practice: Practice) -> bool:
    return current_acceptance(practice) is not None


@dataclass(frozen=True)
class PracticeInstruments:
    core: list[Instrument]
    licensed: list[Instrument]
    licensed_enabled: bool
    imported: list[ImportedInstrument]


def practice_instruments(practice: Practice) -> PracticeInstruments:
    core = sorted(catalogue.registry().values(), key=lambda i: i.id)
    return PracticeInstruments(
        core=core,
        licensed=licensed_pack(),
        licensed_enabled=licensed_pack_enabled(practice),
        imported=list(ImportedInstrument.objects.filter(practice=practice)),
    )


def instruments_for(practice: Practice) -> Mapping[str, Instrument]:
    """Every instrument this practice may use, by id: core, licensed if accepted, then its imports
    (the newest imported version of an id wins)."""
    available: dict[str, Instrument] = dict(
        catalogue.registry(include_licensed=licensed_pack_enabled(practice))
    )
    for imported in ImportedInstrument.objects.filter(practice=practice).order_by("imported_at"):
        available[imported.instrument_id] = catalogue.build_instrument(
            imported.definition, f"imported:{imported.instrument_id}@{imported.version}"
        )
    return available


def assignment_instrument(assignment: Assignment, practice: Practice) -> Instrument | None:
    """The exact definition an assignment was made with, if the practice may still use it: the
    current one when its version matches, else the practice's import of that version."""
    current = instruments_for(practice).get(assignment.instrument_id)
    if current is not None and current.version == assignment.instrument_version:
        return current
    if current is None or assignment.instrument_id in catalogue.registry(include_licensed=True):
        return None  # withdrawn, or a shipped definition whose older version no longer ships
    imported = ImportedInstrument.objects.filter(
        practice=practice, instrument_id=assignment.instrument_id, version=assignment.instrument_version
    ).first()
    if imported is None:
        return None
    return catalogue.build_instrument(
        imported.definition, f"imported:{imported.instrument_id}@{imported.version}"
    )


def assignments_for_episode(episode: Episode) -> QuerySet[Assignment]:
    """An episode's questionnaires, earliest due first, each with its response if there is one.
    The caller has fetched the episode through `clients.access` (the user's rights)."""
    return Assignment.objects.filter(episode=episode).select_related("response").order_by("due_at", "id")


def open_risk_flags_for(user: User) -> QuerySet[RiskFlag]:
    """Unacknowledged risk flags this user must act on: those on episodes they treat, and those
    escalated to them (a supervisor or practice admin as backup). Oldest first."""
    return (
        RiskFlag.objects.filter(
            Q(episode__therapist_id=user.pk) | Q(escalated_to_id=user.pk),
            acknowledged_at__isnull=True,
            episode__client__practice_id=user.practice_id,
        )
        .select_related("episode", "assignment")
        .order_by("raised_at", "id")
    )
