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
from spacebetween.clients.access import episodes_for, sessions_for
from spacebetween.clients.models import Episode, Session
from spacebetween.notes.library import library
from spacebetween.notes.models import (
    PROCESS_ADDENDUM_CONTEXT,
    PROCESS_NOTE_CONTEXT,
    SUPERVISION_NOTE_CONTEXT,
    NoteKind,
    NoteTemplate,
    ProcessAddendum,
    ProcessNote,
    ProgressAddendum,
    ProgressNote,
    QuestionPurpose,
    SessionQuestion,
    SocraticQuestion,
    SupervisionNote,
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


NOT_SUPERVISOR = (
    "Only the therapist's supervisor writes supervision notes, on an episode shared for supervision."
)
EMPTY_SUPERVISION = "Write the supervision note before saving it."
MAX_QUESTIONS = 12
MAX_QUESTION_LENGTH = 300
MAX_OPENED_LENGTH = 1_000
LIBRARY_ADMIN_ONLY = "Only the practice admin can change the Socratic questions."
QUESTIONS_REQUIRED = (
    f"Give between 1 and {MAX_QUESTIONS} questions, one a line, each under {MAX_QUESTION_LENGTH} characters."
)
UNKNOWN_PURPOSE = "Choose which group of questions to save."
PICK_QUESTIONS = "Choose at least one question from the library to pin."
OPENED_TOO_LONG = f"Keep what it opened under {MAX_OPENED_LENGTH:,} characters."


def note_context(session_id: int) -> str:
    return PROCESS_NOTE_CONTEXT.format(session_id=session_id)


def addendum_context(note_id: int, number: int) -> str:
    return PROCESS_ADDENDUM_CONTEXT.format(note_id=note_id, number=number)


def supervision_context(episode_id: int, number: int) -> str:
    return SUPERVISION_NOTE_CONTEXT.format(episode_id=episode_id, number=number)


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


def supervision_note_add(
    *,
    actor: User,
    episode: Episode,
    body: str,
    now: dt.datetime | None = None,
    request: Any = None,
) -> SupervisionNote:
    """A dated, signed supervision note on an episode, by the supervisor of its therapist, while the
    episode is shared for supervision; encrypted like a process note. Anyone else: refused, audited."""
    now = now or clock.now()
    supervised = episodes_for(actor).filter(
        pk=episode.pk, shared_for_supervision=True, therapist__supervisor_id=actor.pk
    )
    if actor.role not in (Role.THERAPIST, Role.SUPERVISOR) or not supervised.exists():
        record_denied(
            actor=actor,
            entity_type=Entity.EPISODE,
            entity_id=episode.pk,
            detail="supervision-note",
            action=Action.CREATE,
            request=request,
        )
        raise PermissionDenied(NOT_SUPERVISOR)
    body = _clean_body(body)
    if not body:
        raise ValidationError({"body": EMPTY_SUPERVISION})
    with transaction.atomic(durable=True):
        Episode.objects.select_for_update().filter(pk=episode.pk).first()  # numbers one at a time
        number = SupervisionNote.objects.filter(episode_id=episode.pk).count() + 1
        note = SupervisionNote.objects.create(
            episode_id=episode.pk,
            number=number,
            author=actor,
            body=crypto.encrypt(body, context=supervision_context(episode.pk, number)),
            written_at=now,
        )
        record(
            action=Action.CREATE,
            actor=actor,
            entity_type=Entity.SUPERVISION_NOTE,
            entity_id=note.pk,
            purpose=Purpose.TREATMENT,
            request=request,
        )
    return note


def socratic_questions_save(
    *, actor: User, purpose: str, questions: Sequence[str], request: Any = None
) -> list[SocraticQuestion]:
    """The practice's own questions for one purpose, in order, replacing the ones it had (or the
    built-in ones). Questions already pinned to a session keep their wording."""
    if actor.role != Role.ADMIN:
        record_denied(actor=actor, entity_type=Entity.SOCRATIC_QUESTION, detail="role", action=Action.UPDATE)
        raise PermissionDenied(LIBRARY_ADMIN_ONLY)
    if purpose not in QuestionPurpose.values:
        raise ValidationError(UNKNOWN_PURPOSE)
    clean = list(dict.fromkeys(q.strip() for q in questions if q.strip()))
    if not clean or len(clean) > MAX_QUESTIONS or any(len(q) > MAX_QUESTION_LENGTH for q in clean):
        raise ValidationError({"questions": QUESTIONS_REQUIRED})
    with transaction.atomic(durable=True):
        SocraticQuestion.objects.filter(practice_id=actor.practice_id, purpose=purpose).delete()
        rows = SocraticQuestion.objects.bulk_create(
            SocraticQuestion(practice_id=actor.practice_id, purpose=purpose, position=i, text=text)
            for i, text in enumerate(clean, start=1)
        )
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type=Entity.SOCRATIC_QUESTION,
            entity_id=purpose,
            purpose=Purpose.OPERATIONS,
            request=request,
        )
    return rows


def session_questions_pin(
    *, actor: User, session: Session, picks: Sequence[str], request: Any = None
) -> list[SessionQuestion]:
    """Pin questions of the practice's library to a session's plan. `picks` are "purpose:index"
    (index from 0 in that purpose's list as the page showed it); one already pinned stays as it is."""
    session = _treating(actor, session, Action.UPDATE)
    questions = {
        f"{group.purpose}:{i}": (group.purpose, text)
        for group in library(session.episode.client.practice_id)
        for i, text in enumerate(group.questions)
    }
    chosen = [questions[p] for p in dict.fromkeys(picks) if p in questions]
    if not chosen or len(chosen) != len(set(picks)):
        raise ValidationError({"picks": PICK_QUESTIONS})
    with transaction.atomic(durable=True):
        pinned = set(SessionQuestion.objects.filter(session=session).values_list("text", flat=True))
        position = SessionQuestion.objects.filter(session=session).count()
        created = []
        for purpose, text in chosen:
            if text in pinned:
                continue
            position += 1
            created.append(
                SessionQuestion.objects.create(session=session, purpose=purpose, text=text, position=position)
            )
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type=Entity.SESSION,
            entity_id=session.pk,
            purpose=Purpose.TREATMENT,
            request=request,
            detail=f"{len(created)} question(s) pinned",
        )
    return created


def session_questions_tick(
    *,
    actor: User,
    session: Session,
    asked: Sequence[int],
    opened: dict[int, str],
    request: Any = None,
) -> list[SessionQuestion]:
    """Mark which pinned questions were asked (the rest not), each with what it opened."""
    session = _treating(actor, session, Action.UPDATE)
    clean = {pk: text.replace("\r\n", "\n").strip() for pk, text in opened.items()}
    if any(len(text) > MAX_OPENED_LENGTH for text in clean.values()):
        raise ValidationError({"opened": OPENED_TOO_LONG})
    if ProgressNote.objects.filter(session=session, signed_at__isnull=False).exists():
        raise ValidationError(LOCKED)
    with transaction.atomic(durable=True):
        rows = list(SessionQuestion.objects.select_for_update().filter(session=session))
        for row in rows:
            row.asked = row.pk in set(asked)
            row.opened = clean.get(row.pk, "") if row.asked else ""
            row.save(update_fields=["asked", "opened"])
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type=Entity.SESSION,
            entity_id=session.pk,
            purpose=Purpose.TREATMENT,
            request=request,
            detail="questions ticked",
        )
    return rows


def session_question_unpin(*, actor: User, session: Session, question_id: int, request: Any = None) -> None:
    """Take a question off the session's plan."""
    session = _treating(actor, session, Action.UPDATE)
    with transaction.atomic(durable=True):
        deleted, _ = SessionQuestion.objects.filter(session=session, pk=question_id).delete()
        if not deleted:
            raise ValidationError({"picks": PICK_QUESTIONS})
        record(
            action=Action.DELETE,
            actor=actor,
            entity_type=Entity.SESSION_QUESTION,
            entity_id=question_id,
            purpose=Purpose.TREATMENT,
            request=request,
        )
