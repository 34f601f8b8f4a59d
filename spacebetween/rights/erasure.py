"""Erasing or anonymising a client on request, under the practice's retention rule.

Both modes remove every piece of the client's identifying text: the client's names, e-mail, phone,
date of birth, country and emergency contact; the free text written about them (referral reasons,
safety plans, actions taken on risk flags, the therapist's encrypted reflection notes and rupture
notes, session transcripts, the encrypted formulation, goals and reconsolidation work); their portal
login (scrubbed, deactivated, signed out everywhere); their questionnaire links and drafts; the
addresses and bodies of e-mails queued or sent to them. Then a generic pass walks every table that
hangs off the client and overwrites any text column that still contains one of their identifiers.

`erase` (only once the retention period is over) then deletes the whole clinical record, the client
row included. `anonymise` (allowed at any time once no episode is open) keeps the de-identified
clinical record (answers, scores, sessions) for the practice's outcome statistics and its duty to
keep records. The audit log keeps that it happened, ids only (docs/data-rights.md).

On SQLite, deleted and overwritten text can survive in free pages and in the write-ahead log: the
erasure runs with `PRAGMA secure_delete=ON`, then checkpoints the log and VACUUMs the file.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, models, transaction

from spacebetween import clock
from spacebetween.accounts.models import Role, User
from spacebetween.accounts.signin import sessions_end
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record
from spacebetween.clients.access import clients_for
from spacebetween.clients.models import Client, Episode
from spacebetween.delivery.models import Draft, QuestionnaireLink
from spacebetween.formulation.erasure import blank_free_text as formulation_blank
from spacebetween.notifications.models import OutboxMessage, Status
from spacebetween.relationship.models import RuptureNote, SessionReflection
from spacebetween.rights.models import Erasure, ErasureMode
from spacebetween.rights.selectors import anonymised, retention_for
from spacebetween.safety.models import RiskFlag, SafetyPlan
from spacebetween.transcripts.models import Transcript

logger = logging.getLogger(__name__)

ERASED = "[erased]"
ERASED_ADDRESS = "erased@erased.invalid"  # RFC 2606: .invalid never resolves

NOT_ALLOWED = "Only the client's treating therapist or the practice admin can erase a record."
UNKNOWN_MODE = "Choose erasure or anonymisation."
CONFIRM_MISMATCH = "Type the record number ({pk}) to confirm; nothing was changed."
OPEN_EPISODE = "The client has an open episode of care: end it first; nothing was changed."
ALREADY_ANONYMISED = "This record is already anonymised; nothing was changed."
RETENTION = (
    "The clinical record must be kept until {until:%-d %B %Y} ({years} years after the last episode "
    "ended, the practice's retention setting), so it cannot be erased yet; nothing was changed. "
    "Choose anonymisation to remove the client's identity now and keep the de-identified record."
)


class ErasureRefused(Exception):
    """Refused with a reason for the person asking; nothing was changed."""


@dataclass(frozen=True)
class ErasureResult:
    client_id: int
    mode: str
    vacuumed: bool  # SQLite: free pages and the write-ahead log were cleared


def _may_erase(actor: User, client: Client) -> bool:
    if actor.role == Role.ADMIN:
        return actor.practice_id == client.practice_id
    return clients_for(actor, write=True).filter(pk=client.pk).exists()


def _check(*, actor: User, client: Client, mode: str, confirm: str, when: dt.datetime) -> None:
    if mode not in ErasureMode.values:
        raise ErasureRefused(UNKNOWN_MODE)
    if not _may_erase(actor, client):
        raise PermissionDenied(NOT_ALLOWED)
    if confirm.strip() != str(client.pk):
        raise ErasureRefused(CONFIRM_MISMATCH.format(pk=client.pk))
    retention = retention_for(client, now=when)
    if retention.open_episodes:
        raise ErasureRefused(OPEN_EPISODE)
    if mode == ErasureMode.ANONYMISE and anonymised(client):
        raise ErasureRefused(ALREADY_ANONYMISED)
    if mode == ErasureMode.ERASE and not retention.may_erase:
        raise ErasureRefused(RETENTION.format(until=retention.kept_until, years=retention.years))


def identifiers(client: Client) -> list[str]:
    """The client's identifying strings, for the generic pass (three characters or more)."""
    values = [
        client.given_name,
        client.family_name,
        client.preferred_name,
        client.email,
        client.phone,
        client.emergency_contact_name,
        client.emergency_contact_phone,
    ]
    if client.portal_user is not None:
        values += [client.portal_user.email, client.portal_user.full_name]
    return sorted({v.strip() for v in values if v and len(v.strip()) >= 3}, key=len, reverse=True)


def _pattern(values: Iterable[str]) -> re.Pattern[str] | None:
    parts = [re.escape(v) for v in values]
    return re.compile(r"(?<!\w)(" + "|".join(parts) + r")(?!\w)", re.IGNORECASE) if parts else None


def _text_fields(model: type[models.Model]) -> list[str]:
    return [
        f.attname
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField) and not f.choices and not f.primary_key
    ]


def _tree(
    model: type[models.Model], pks: list[Any], seen: set[tuple[str, Any]]
) -> Iterable[tuple[type[models.Model], list[Any]]]:
    """Every (model, pks) reachable from `pks` of `model` through reverse foreign keys, children first."""
    for rel in model._meta.related_objects:
        if rel.many_to_many:
            continue
        child = rel.related_model
        child_pks = list(
            child._base_manager.filter(**{f"{rel.field.name}__in": pks}).values_list("pk", flat=True)
        )
        fresh = [pk for pk in child_pks if (child._meta.label, pk) not in seen]
        seen.update((child._meta.label, pk) for pk in fresh)
        if fresh:
            yield from _tree(child, fresh, seen)
    yield model, pks


def _scrub_generic(client: Client, pattern: re.Pattern[str] | None) -> int:
    """Overwrite any text column under the client that still names them; returns how many."""
    if pattern is None:
        return 0
    changed = 0
    for model, pks in _tree(Client, [client.pk], set()):
        fields = _text_fields(model)
        if not fields:
            continue
        for row in model._base_manager.filter(pk__in=pks).values("pk", *fields):
            dirty = {f: ERASED for f in fields if isinstance(row[f], str) and pattern.search(row[f])}
            if dirty:
                model._base_manager.filter(pk=row["pk"]).update(**dirty)
                changed += len(dirty)
    return changed


def _delete_tree(client: Client) -> None:
    """Delete the client and everything that hangs off them, children before parents."""
    for rel in Client._meta.related_objects:
        if isinstance(rel, models.ManyToManyRel):  # the client as a participant of someone's session
            m2m = rel.field
            through = rel.through
            assert isinstance(m2m, models.ManyToManyField) and through is not None
            through._base_manager.filter(**{m2m.m2m_reverse_field_name(): client.pk}).delete()
    for model, pks in _tree(Client, [client.pk], set()):
        model._base_manager.filter(pk__in=pks).delete()


def _scrub_portal_user(user: User) -> None:
    sessions_end(user=user)
    user.email = f"erased-{user.pk}@erased.invalid"
    user.full_name = ERASED
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["email", "full_name", "is_active", "password"])


def _scrub_known(client: Client) -> None:
    """The fields known to hold the client's identity or free text about them."""
    addresses = [a for a in (client.email, client.portal_user.email if client.portal_user else "") if a]
    OutboxMessage.objects.filter(to_address__in=addresses).exclude(status=Status.SENT).update(
        status=Status.FAILED, lease_until=None, last_error="erased"
    )
    OutboxMessage.objects.filter(to_address__in=addresses).update(to_address=ERASED_ADDRESS, body_text="")
    Draft.objects.filter(assignment__episode__client=client).delete()
    QuestionnaireLink.objects.filter(assignment__episode__client=client).delete()
    Episode.objects.filter(client=client).update(referral_reason=ERASED)
    RiskFlag.objects.filter(episode__client=client).exclude(action_taken="").update(action_taken=ERASED)
    SessionReflection.objects.filter(session__episode__client=client).update(feelings_note="")
    formulation_blank(client)  # encrypted, so out of the generic pass's sight
    RuptureNote.objects.filter(session__episode__client=client).update(
        what_happened="", therapist_part="", repair=""
    )
    # A transcript is the session's words: nothing of it is kept de-identified (docs/transcripts.md).
    Transcript.objects.filter(session__episode__client=client).delete()
    SafetyPlan.objects.filter(client=client).update(
        warning_signs="",
        coping_strategies="",
        distractions="",
        people_to_ask="",
        professionals="",
        safer_environment="",
        reasons_for_living="",
    )
    if client.portal_user is not None:
        _scrub_portal_user(client.portal_user)
    Client.objects.filter(pk=client.pk).update(
        given_name="Anonymised",
        family_name=f"client {client.pk}",
        preferred_name="",
        date_of_birth=None,
        email="",
        phone="",
        country="",
        emergency_contact_name="",
        emergency_contact_relationship="",
        emergency_contact_phone="",
        portal_user=None,
    )


# Overwrite deleted content with zeros (https://sqlite.org/pragma.html#pragma_secure_delete), then
# copy the log into the file, rebuild the file without free pages, and empty the log.
SECURE_DELETE = "PRAGMA secure_delete = ON"
SQLITE_PURGE = ("PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)")


def _secure_delete_on() -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(SECURE_DELETE)


def sqlite_purge() -> bool:
    """Clear what SQLite keeps of deleted text: checkpoint the write-ahead log into the file, VACUUM
    (rebuilds the file without free pages), and truncate the log. Only outside a transaction; returns
    False when it could not run (PostgreSQL: not needed; its VACUUM is the operator's, docs)."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        for statement in SQLITE_PURGE:
            cursor.execute(statement)
    return True


def client_erase(
    *,
    actor: User,
    client: Client,
    mode: str,
    confirm: str,
    now: dt.datetime | None = None,
    request: Any = None,
) -> ErasureResult:
    """Erase (after the retention period) or anonymise (any time without an open episode) `client`.
    `confirm` must be the record's number. Refused with `ErasureRefused`, changing nothing."""
    when = now or clock.now()
    client = Client.objects.select_related("portal_user").get(pk=client.pk)
    _check(actor=actor, client=client, mode=mode, confirm=confirm, when=when)
    client_id, practice_id = client.pk, client.practice_id
    pattern = _pattern(identifiers(client))
    _secure_delete_on()
    with transaction.atomic(durable=True):
        _scrub_known(client)
        _scrub_generic(client, pattern)
        if mode == ErasureMode.ERASE:
            _delete_tree(client)
        Erasure.objects.create(
            practice_id=practice_id, client_id=client_id, mode=mode, performed_at=when, performed_by=actor
        )
        record(
            action=Action.DELETE if mode == ErasureMode.ERASE else Action.UPDATE,
            event_type="erasure",
            actor=actor,
            entity_type=Entity.CLIENT,
            entity_id=client_id,
            practice_id=practice_id,
            purpose=Purpose.PATIENT_REQUEST,
            request=request,
            detail="erased" if mode == ErasureMode.ERASE else "anonymised",
        )
    vacuumed = sqlite_purge()
    logger.info("client %s %s; sqlite purge %s", client_id, mode, "done" if vacuumed else "not run")
    return ErasureResult(client_id=client_id, mode=mode, vacuumed=vacuumed)
