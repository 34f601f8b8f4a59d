"""Reads. A progress note: whoever may read the session (the treating therapist; a supervisor on an
episode shared for supervision). A process note: the treating therapist; their supervisor only the
very notes the therapist shared, on an episode shared for supervision; no one else, ever: not an
admin, not the client, not an export, report or the API (nothing outside this package reads
`ProcessNote`, and tests/notes checks that).

Every read of a note's text is audited here, in the function that decrypts it; a supervisor's attempt
to open an unshared process note is a 404 audited as denied."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.http import Http404, HttpRequest

from spacebetween import clock, crypto
from spacebetween.accounts.models import CLINICAL_ROLES, User
from spacebetween.audit.models import Entity, Purpose
from spacebetween.audit.services import record_denied, record_reads
from spacebetween.clients.access import NOT_FOUND, episodes_for, sessions_for
from spacebetween.clients.models import Attendance, Client, Episode, Session
from spacebetween.notes.defaults import DEFAULT_HEADINGS, DEFAULT_NAMES, prefill
from spacebetween.notes.library import PurposeQuestions, library
from spacebetween.notes.models import (
    NoteKind,
    NoteTemplate,
    ProcessNote,
    ProgressNote,
    SessionQuestion,
    SupervisionNote,
)
from spacebetween.notes.services import MODELS, addendum_context, note_context, supervision_context


@dataclass(frozen=True)
class TemplateView:
    kind: str
    name: str
    headings: list[str]
    custom: bool  # the practice's own, not the built-in default


def template_for(practice_id: int, kind: str) -> TemplateView:
    stored = NoteTemplate.objects.filter(practice_id=practice_id, kind=kind).first()
    if stored is not None:
        return TemplateView(kind, stored.name, list(stored.headings), True)
    return TemplateView(kind, DEFAULT_NAMES[NoteKind(kind)], list(DEFAULT_HEADINGS[kind]), False)


@dataclass(frozen=True)
class AddendumView:
    number: int
    author: str
    signed_at: dt.datetime
    body: str


@dataclass(frozen=True)
class NoteView:
    kind: str
    session: Session
    note: ProgressNote | ProcessNote | None
    body: str  # decrypted; for a note not yet written, the template's headings
    addenda: list[AddendumView]
    can_write: bool
    template: TemplateView


def _text(note: ProgressNote | ProcessNote) -> tuple[str, list[AddendumView]]:
    addenda = list(note.addenda.select_related("author").order_by("number"))
    if isinstance(note, ProcessNote):
        body = crypto.decrypt(note.body, context=note_context(note.session_id)) if note.body else ""
        texts = [crypto.decrypt(a.body, context=addendum_context(note.pk, a.number)) for a in addenda]
    else:
        body, texts = note.body, [a.body for a in addenda]
    return body, [
        AddendumView(a.number, a.author.full_name, a.signed_at, t)
        for a, t in zip(addenda, texts, strict=True)
    ]


def note_read(request: HttpRequest | None, user: User, session: Session, kind: str) -> NoteView:
    """A session's note of `kind` for `user`, who may already read `session` (clients.access), its
    read audited. A process note to anyone but the treating therapist: 404 unless shared with them."""
    note_model, _ = MODELS[kind]
    entity = Entity.PROCESS_NOTE if kind == NoteKind.PROCESS else Entity.PROGRESS_NOTE
    treating = sessions_for(user, write=True).filter(pk=session.pk).exists()
    note = note_model.objects.select_related("author").filter(session=session).first()
    visible = treating or (
        user.role in CLINICAL_ROLES
        and note is not None
        and (
            kind == NoteKind.PROGRESS
            or (
                isinstance(note, ProcessNote)
                and note.shared_for_supervision
                and note.author.supervisor_id == user.pk
            )
        )
        and sessions_for(user).filter(pk=session.pk).exists()
    )
    if not visible:
        with transaction.atomic():
            record_denied(
                actor=user,
                entity_type=(Entity.PROCESS_NOTE if kind == NoteKind.PROCESS else Entity.PROGRESS_NOTE)
                if note
                else Entity.SESSION,
                entity_id=note.pk if note else session.pk,
                request=request,
                detail=f"{kind}-note-not-shared",
            )
        raise Http404(NOT_FOUND)
    template = template_for(session.episode.client.practice_id, kind)
    body, addenda = _text(note) if note else (prefill(template.headings), [])
    with transaction.atomic():
        record_reads(
            actor=user,
            entities=[(entity, note.pk) if note else (Entity.SESSION, session.pk)],
            purpose=Purpose.TREATMENT,
            request=request,
        )
    return NoteView(kind, session, note, body, addenda, treating and not (note and note.signed), template)


@dataclass(frozen=True)
class SessionNotes:
    session: Session
    progress: str | None  # "draft", "signed" or None (no note)
    process: str | None  # likewise; for a supervisor only a shared note counts
    can_write: bool


def _status(signed_at: dt.datetime | None) -> str:
    return "signed" if signed_at else "draft"


def session_notes(user: User, episode: Episode, *, now: dt.datetime | None = None) -> list[SessionNotes]:
    """Per session of the episode shown on the client page (`shown_sessions`) that has taken place:
    which notes exist and which the user may open; never their content (so no read to audit)."""
    now = now or clock.now()
    if user.role not in CLINICAL_ROLES:
        return []
    held = [
        s
        for s in getattr(episode, "shown_sessions", [])
        if s.starts_at <= now and s.attendance != Attendance.CANCELLED
    ]
    ids = set(sessions_for(user).filter(pk__in=[s.pk for s in held]).values_list("pk", flat=True))
    if not ids:
        return []
    treating = episode.therapist_id == user.pk
    progress = dict(ProgressNote.objects.filter(session_id__in=ids).values_list("session_id", "signed_at"))
    process_notes = ProcessNote.objects.filter(session_id__in=ids)
    if not treating:
        process_notes = process_notes.filter(shared_for_supervision=True, author__supervisor_id=user.pk)
    process = dict(process_notes.values_list("session_id", "signed_at"))
    return [
        SessionNotes(
            s,
            _status(progress[s.pk]) if s.pk in progress else None,
            _status(process[s.pk]) if s.pk in process else None,
            treating,
        )
        for s in held
        if s.pk in ids
    ]


def asked_questions_for_export(client: Client) -> dict[int, list[SessionQuestion]]:
    """Per session, the Socratic questions ticked as asked in its progress note, with what they opened:
    part of the progress note, so exported with it."""
    asked: dict[int, list[SessionQuestion]] = {}
    rows = SessionQuestion.objects.filter(session__episode__client=client, asked=True).order_by("position")
    for row in rows:
        asked.setdefault(row.session_id, []).append(row)
    return asked


def progress_notes_for_export(client: Client) -> list[tuple[ProgressNote, list[AddendumView]]]:
    """The client's signed progress notes with their addenda, for the subject access archive. Process
    notes are never exported: this reads `ProgressNote` only."""
    notes = ProgressNote.objects.filter(session__episode__client=client, signed_at__isnull=False)
    return [
        (n, _text(n)[1]) for n in notes.select_related("session", "author").order_by("session__starts_at")
    ]


@dataclass(frozen=True)
class SupervisionNoteView:
    number: int
    author: str
    written_at: dt.datetime
    body: str


def supervises(user: User, episode: Episode) -> bool:
    """Whether `user` is the supervisor of this episode's therapist and the episode is shared."""
    return (
        user.role in CLINICAL_ROLES
        and episode.therapist_id != user.pk
        and episodes_for(user)
        .filter(pk=episode.pk, shared_for_supervision=True, therapist__supervisor_id=user.pk)
        .exists()
    )


def supervision_notes(request: HttpRequest | None, user: User, episode: Episode) -> list[SupervisionNoteView]:
    """An episode's supervision notes, decrypted, for its treating therapist or the supervisor of an
    episode shared for supervision (anyone else gets none); the read is audited."""
    if user.role not in CLINICAL_ROLES or not (episode.therapist_id == user.pk or supervises(user, episode)):
        return []
    notes = list(
        SupervisionNote.objects.filter(episode_id=episode.pk).select_related("author").order_by("number")
    )
    if notes:
        with transaction.atomic():
            record_reads(
                actor=user,
                entities=[(Entity.SUPERVISION_NOTE, n.pk) for n in notes],
                purpose=Purpose.TREATMENT,
                request=request,
            )
    return [
        SupervisionNoteView(
            n.number,
            n.author.full_name,
            n.written_at,
            crypto.decrypt(n.body, context=supervision_context(episode.pk, n.number)),
        )
        for n in notes
    ]


def episode_session_notes(
    user: User, episode: Episode, *, now: dt.datetime | None = None
) -> list[SessionNotes]:
    """`session_notes` over all of an episode's sessions (the supervision page lists them all)."""
    episode.shown_sessions = list(Session.objects.filter(episode=episode).order_by("starts_at"))  # type: ignore[attr-defined]
    return session_notes(user, episode, now=now)


def questions_library(practice_id: int) -> list[PurposeQuestions]:
    return library(practice_id)


def session_questions(session: Session) -> list[SessionQuestion]:
    """The questions pinned to a session's plan, in order. The caller already read the session
    through `clients.access`; the questions are part of its progress note and read with it."""
    return list(SessionQuestion.objects.filter(session=session).order_by("position"))


@dataclass(frozen=True)
class NoteHit:
    kind: str  # "progress" or "process"
    entity: Entity
    entity_id: int
    session: Session
    text: str  # the note's text (and its addenda), decrypted in memory only


def notes_matching(user: User, query: str) -> list[NoteHit]:
    """The notes in `user`'s own reach whose text holds `query` (case-insensitive), for the caseload
    search (spacebetween.search, which audits what it shows). Progress notes: on sessions the user may
    read (clients.access). Process notes: only the user's own, as their author, on a session they still
    treat; a shared one is never found by the supervisor. Ciphertext is decrypted here, in memory, one
    note at a time; nothing is indexed. Nothing matches an empty query."""
    needle = query.casefold()
    if not needle or user.role not in CLINICAL_ROLES:
        return []
    hits: list[NoteHit] = []
    progress = ProgressNote.objects.filter(session__in=sessions_for(user)).select_related(
        "session", "session__episode", "session__episode__client"
    )
    for note in progress.prefetch_related("addenda"):
        text = "\n".join([note.body, *(a.body for a in note.addenda.all())])
        if needle in text.casefold():
            hits.append(NoteHit(NoteKind.PROGRESS, Entity.PROGRESS_NOTE, note.pk, note.session, text))
    own = ProcessNote.objects.filter(author=user, session__in=sessions_for(user, write=True)).select_related(
        "session", "session__episode", "session__episode__client"
    )
    for process in own:
        body, addenda = _text(process)
        text = "\n".join([body, *(a.body for a in addenda)])
        if needle in text.casefold():
            hits.append(NoteHit(NoteKind.PROCESS, Entity.PROCESS_NOTE, process.pk, process.session, text))
    return hits
