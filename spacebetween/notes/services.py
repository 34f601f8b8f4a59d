"""Writes: the treating therapist drafts, signs and adds to a session's notes; shares a process note
for supervision; the practice admin edits the practice's note templates.

Every write validates first and changes nothing when refused (ValidationError with a message for the
page, PermissionDenied audited as denied), then writes the change and its audit row in one durable
transaction. A process note's text is encrypted before it reaches the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from spacebetween import clock, crypto
from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record, record_denied
from spacebetween.clients.access import sessions_for
from spacebetween.clients.models import Session
from spacebetween.notes.models import (
    PROCESS_ADDENDUM_CONTEXT,
    PROCESS_NOTE_CONTEXT,
    NoteKind,
    NoteTemplate,
    ProcessAddendum,
    ProcessNote,
    ProgressAddendum,
    ProgressNote,
)

MAX_NOTE_LENGTH = 20_000
MAX_HEADINGS = 20
MAX_HEADING_LENGTH = 200

NOT_ALLOWED = "Only the session's treating therapist can write its notes."
NOT_YET = "This session has not taken place yet; write its notes afterwards."
TOO_LONG = f"Keep the note under {MAX_NOTE_LENGTH:,} characters."
EMPTY_SIGN = "Write the note before signing it."
LOCKED = "This note is signed and can no longer be changed; add an addendum instead."
NO_NOTE = "There is no note on this session yet."
NOT_SIGNED = "Sign the note first; until then, change it directly."
NOT_AUTHOR = "Only the note's author can add to it."
EMPTY_ADDENDUM = "Write the addendum before adding it."
ONLY_PROCESS = "Only a process note is shared for supervision, one note at a time."
NO_SUPERVISOR = "You have no supervisor to share this note with."
UNKNOWN_ACTION = "Choose what to do with the note."
TEMPLATE_ADMIN_ONLY = "Only the practice admin can change the note templates."
NAME_REQUIRED = "Give the template a name (up to 100 characters)."
HEADINGS_REQUIRED = (
    f"Give between 1 and {MAX_HEADINGS} headings, one a line, each under {MAX_HEADING_LENGTH} characters."
)

MODELS: dict[
    str, tuple[type[ProgressNote] | type[ProcessNote], type[ProgressAddendum] | type[ProcessAddendum]]
] = {
    NoteKind.PROGRESS: (ProgressNote, ProgressAddendum),
    NoteKind.PROCESS: (ProcessNote, ProcessAddendum),
}


def note_context(session_id: int) -> str:
    return PROCESS_NOTE_CONTEXT.format(session_id=session_id)


def addendum_context(note_id: int, number: int) -> str:
    return PROCESS_ADDENDUM_CONTEXT.format(note_id=note_id, number=number)


def _kind(kind: str) -> tuple[Any, Any]:
    if kind not in MODELS:
        raise ValidationError(UNKNOWN_ACTION)
    return MODELS[kind]


def _treating(actor: User, session: Session, action: Action) -> Session:
    """The session, fetched afresh, if `actor` treats it; else the refusal, audited."""
    if not sessions_for(actor, write=True).filter(pk=session.pk).exists():
        record_denied(
            actor=actor, entity_type=Entity.SESSION, entity_id=session.pk, detail="notes", action=action
        )
        raise PermissionDenied(NOT_ALLOWED)
    return Session.objects.select_related("episode").get(pk=session.pk)


def _clean_body(body: str) -> str:
    body = body.replace("\r\n", "\n").strip()  # browsers send a textarea's lines with CRLF
    if len(body) > MAX_NOTE_LENGTH:
        raise ValidationError({"body": TOO_LONG})
    return body


def note_save(
    *,
    actor: User,
    session: Session,
    kind: str,
    body: str,
    sign: bool = False,
    now: dt.datetime | None = None,
    request: Any = None,
) -> ProgressNote | ProcessNote:
    """Save the draft of a session's note of `kind` (creating it), and with `sign` sign and lock it.
    Refused, writing nothing: anyone but the treating therapist, a session still to come, a signed
    note (add an addendum), an empty note to sign, a note too long."""
    now = now or clock.now()
    note_model, _ = _kind(kind)
    session = _treating(actor, session, Action.UPDATE)
    if session.starts_at > now:
        raise ValidationError(NOT_YET)
    body = _clean_body(body)
    if sign and not body:
        raise ValidationError({"body": EMPTY_SIGN})
    stored = (
        crypto.encrypt(body, context=note_context(session.pk)) if kind == NoteKind.PROCESS and body else body
    )
    with transaction.atomic(durable=True):
        note = note_model.objects.select_for_update().filter(session=session).first()
        if note is not None and note.signed:
            raise ValidationError(LOCKED)
        created = note is None
        if note is None:
            note = note_model(session=session, author=actor, created_at=now)
        note.body, note.updated_at = stored, now
        if sign:
            note.signed_at = now
        note.save()
        record(
            action=Action.CREATE if created else Action.UPDATE,
            actor=actor,
            entity_type=Entity.PROCESS_NOTE if kind == NoteKind.PROCESS else Entity.PROGRESS_NOTE,
            entity_id=note.pk,
            purpose=Purpose.TREATMENT,
            request=request,
            detail="signed" if sign else "draft",
        )
    return note


def addendum_add(
    *,
    actor: User,
    session: Session,
    kind: str,
    body: str,
    now: dt.datetime | None = None,
    request: Any = None,
) -> ProgressAddendum | ProcessAddendum:
    """Add a timestamped addendum, signed by its author, to a signed note. Only the note's author."""
    now = now or clock.now()
    note_model, addendum_model = _kind(kind)
    session = _treating(actor, session, Action.UPDATE)
    body = _clean_body(body)
    if not body:
        raise ValidationError({"body": EMPTY_ADDENDUM})
    with transaction.atomic(durable=True):
        note = note_model.objects.select_for_update().filter(session=session).first()
        if note is None:
            raise ValidationError(NO_NOTE)
        if not note.signed:
            raise ValidationError(NOT_SIGNED)
        if note.author_id != actor.pk:
            raise ValidationError(NOT_AUTHOR)
        number = note.addenda.count() + 1
        if kind == NoteKind.PROCESS:
            body = crypto.encrypt(body, context=addendum_context(note.pk, number))
        addendum = addendum_model.objects.create(
            note=note, author=actor, number=number, body=body, signed_at=now
        )
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type=Entity.PROCESS_NOTE if kind == NoteKind.PROCESS else Entity.PROGRESS_NOTE,
            entity_id=note.pk,
            purpose=Purpose.TREATMENT,
            request=request,
            detail="addendum",
        )
    return addendum


def process_note_share(*, actor: User, session: Session, shared: bool, request: Any = None) -> ProcessNote:
    """Share (or stop sharing) this one process note with the author's supervisor."""
    session = _treating(actor, session, Action.UPDATE)
    if shared and actor.supervisor_id is None:
        raise ValidationError(NO_SUPERVISOR)
    with transaction.atomic(durable=True):
        note = ProcessNote.objects.select_for_update().filter(session=session).first()
        if note is None:
            raise ValidationError(NO_NOTE)
        note.shared_for_supervision = shared
        note.save(update_fields=["shared_for_supervision"])
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type=Entity.PROCESS_NOTE,
            entity_id=note.pk,
            purpose=Purpose.TREATMENT,
            request=request,
            detail="shared for supervision" if shared else "no longer shared",
        )
    return note


def note_action(
    *, actor: User, session: Session, kind: str, action: str, body: str = "", request: Any = None
) -> object:
    """One of the note page's buttons: save, sign, addendum, share, unshare."""
    if action in ("save", "sign"):
        return note_save(
            actor=actor, session=session, kind=kind, body=body, sign=action == "sign", request=request
        )
    if action == "addendum":
        return addendum_add(actor=actor, session=session, kind=kind, body=body, request=request)
    if action in ("share", "unshare"):
        if kind != NoteKind.PROCESS:
            raise ValidationError(ONLY_PROCESS)
        return process_note_share(actor=actor, session=session, shared=action == "share", request=request)
    raise ValidationError(UNKNOWN_ACTION)


def note_template_save(
    *,
    actor: User,
    kind: str,
    name: str,
    headings: Sequence[str],
    now: dt.datetime | None = None,
    request: Any = None,
) -> NoteTemplate:
    """The practice's template for one kind of note: a name and its headings, in order."""
    now = now or clock.now()
    if actor.role != Role.ADMIN:
        record_denied(actor=actor, entity_type=Entity.NOTE_TEMPLATE, detail="role", action=Action.UPDATE)
        raise PermissionDenied(TEMPLATE_ADMIN_ONLY)
    _kind(kind)
    name = name.strip()
    clean = [h.strip() for h in headings if h.strip()]
    errors = {}
    if not name or len(name) > 100:
        errors["name"] = NAME_REQUIRED
    if not clean or len(clean) > MAX_HEADINGS or any(len(h) > MAX_HEADING_LENGTH for h in clean):
        errors["headings"] = HEADINGS_REQUIRED
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(durable=True):
        template, created = NoteTemplate.objects.update_or_create(
            practice_id=actor.practice_id,
            kind=kind,
            defaults={"name": name, "headings": clean, "updated_at": now},
        )
        record(
            action=Action.CREATE if created else Action.UPDATE,
            actor=actor,
            entity_type=Entity.NOTE_TEMPLATE,
            entity_id=template.pk,
            purpose=Purpose.OPERATIONS,
            request=request,
        )
    return template
