"""Writing the audit log. Call `record` inside the transaction of the change it describes."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction

from spacebetween import clock, statements
from spacebetween.audit.chain import GENESIS_HASH, row_hash
from spacebetween.audit.models import Action, AuditChainHead, AuditEvent, Entity, Outcome, Purpose

if TYPE_CHECKING:
    from django.http import HttpRequest

    from spacebetween.accounts.models import User


def client_address(request: HttpRequest | None) -> str | None:
    """The peer address. Behind a reverse proxy REMOTE_ADDR is set by the WSGI server from the
    proxy protocol; we do not trust X-Forwarded-For from clients."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


@functools.cache
def _head_sql() -> tuple[str, str]:
    """Read the chain's head, locking it until the commit, so that appends queue in one line; and
    move it on. (SQLite has no row locks: its writers already take turns for the whole transaction.)"""
    head = statements.columns(AuditChainHead, "id", "seq", "hash")
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    return (
        f"SELECT {head['seq']}, {head['hash']} FROM {head['table']} WHERE {head['id']} = 1{lock}",  # noqa: S608
        f"UPDATE {head['table']} SET {head['seq']} = %s, {head['hash']} = %s WHERE {head['id']} = 1",  # noqa: S608
    )


def _fields(
    *,
    action: Action,
    event_type: str,
    actor: User | None,
    entity_type: Entity | None,
    entity_id: object,
    outcome: Outcome,
    practice_id: int | None,
    request: HttpRequest | None,
    purpose: Purpose | str,
    detail: str,
    actor_role: str,
) -> dict[str, Any]:
    """One event's columns but its place in the chain (seq, prev_hash, hash)."""
    if practice_id is None and actor is not None:
        practice_id = actor.practice_id
    return {
        "recorded_at": clock.now(),
        "event_type": event_type,
        "action": str(action),
        "outcome": int(outcome),
        "practice_id": practice_id,
        "actor_id": actor.pk if actor is not None else None,
        "actor_role": actor_role or (actor.role if actor is not None else ""),
        "entity_type": str(entity_type) if entity_type is not None else "",
        "entity_id": str(entity_id) if entity_id not in (None, "") else "",
        "source_address": client_address(request),
        "purpose": str(purpose),
        "detail": detail[:120],
    }


def _append(events: list[dict[str, Any]]) -> list[AuditEvent]:
    """Append `events` to the chain in order: the head read (and locked) once, one row each, the head
    moved once. In the caller's transaction when there is one, with no savepoint: an event that fails
    to append must fail the change it describes, never be rolled back alone while the change goes on.
    Hand-written statements (spacebetween.statements): every write in the product appends here."""
    with transaction.atomic(savepoint=False):
        read_head, advance_head = _head_sql()
        _, rows = statements.execute(read_head, ())
        if not rows:  # a new database's first event
            AuditChainHead.objects.get_or_create(id=1, defaults={"hash": GENESIS_HASH})
            _, rows = statements.execute(read_head, ())
        [(head_seq, head_hash)] = rows
        seq = int(head_seq)
        appended = []
        for values in events:
            seq += 1
            fields = {"seq": seq, **values}
            digest = row_hash(head_hash, fields)
            statements.insert(
                AuditEvent, {**fields, "prev_hash": head_hash, "hash": digest}, returning_pk=False
            )
            event = AuditEvent(prev_hash=head_hash, hash=digest, **fields)
            event._state.adding, event._state.db = False, connection.alias
            appended.append(event)
            head_hash = digest
        statements.execute(advance_head, (seq, head_hash))
    return appended


def record(
    *,
    action: Action,
    event_type: str = "rest",
    actor: User | None = None,
    entity_type: Entity | None = None,
    entity_id: object = "",
    outcome: Outcome = Outcome.SUCCESS,
    practice_id: int | None = None,
    request: HttpRequest | None = None,
    purpose: Purpose | str = "",
    detail: str = "",
    actor_role: str = "",
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction when there is one. `entity_type`
    comes from the one vocabulary, `Entity`; None (an event about no one thing) is stored as ""."""
    values = _fields(
        action=action,
        event_type=event_type,
        actor=actor,
        entity_type=entity_type,
        entity_id=entity_id,
        outcome=outcome,
        practice_id=practice_id,
        request=request,
        purpose=purpose,
        detail=detail,
        actor_role=actor_role,
    )
    [event] = _append([values])
    return event


def record_reads(
    *,
    actor: User,
    entities: Sequence[tuple[Entity, object]],
    purpose: Purpose | str,
    request: HttpRequest | None = None,
) -> list[AuditEvent]:
    """One read event per (entity type, id) a page showed, in one pass over the chain: a client page
    with its episodes moves the head once, not once per record."""
    if not entities:
        return []
    return _append(
        [
            _fields(
                action=Action.READ,
                event_type="rest",
                actor=actor,
                entity_type=Entity(entity_type),
                entity_id=entity_id,
                outcome=Outcome.SUCCESS,
                practice_id=None,
                request=request,
                purpose=purpose,
                detail="",
                actor_role="",
            )
            for entity_type, entity_id in entities
        ]
    )


def record_denied(
    *,
    actor: User | None,
    entity_type: Entity,
    entity_id: object = "",
    detail: str,
    request: HttpRequest | None = None,
    action: Action = Action.READ,
    practice_id: int | None = None,
) -> AuditEvent:
    """An access-denied event (ONC 170.315(d)(2): failed access attempts are auditable)."""
    return record(
        action=action,
        event_type="access-denied",
        actor=actor,
        entity_type=entity_type,
        entity_id=entity_id,
        outcome=Outcome.MINOR_FAILURE,
        request=request,
        detail=detail,
        practice_id=practice_id,
    )


def record_system(
    *,
    action: Action,
    entity_type: Entity,
    entity_id: object,
    practice_id: int,
    detail: str,
    actor: User | None = None,
) -> AuditEvent:
    """A change the system makes in the course of care (a job's, or a screen of answers'), for
    treatment: recorded under the role "system", or, when a person's action set it off, under theirs."""
    return record(
        action=action,
        actor=actor,
        entity_type=entity_type,
        entity_id=entity_id,
        practice_id=practice_id,
        purpose=Purpose.TREATMENT,
        detail=detail,
        actor_role="" if actor is not None else "system",
    )
