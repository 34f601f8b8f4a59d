"""Reads. A session's transcript: whoever may read the session (`clients.access`): the treating
therapist, and a supervisor on an episode shared for supervision; no admin, no client, no export,
report or API (nothing outside this package reads `Turn`). Every read of a transcript's words (or of
its figures, on the episode's chart) is audited here, in the function that decrypts or shows it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from spacebetween import crypto
from spacebetween.accounts.models import CLINICAL_ROLES, User
from spacebetween.audit.models import Entity, Purpose
from spacebetween.audit.services import record_reads
from spacebetween.clients.access import sessions_for
from spacebetween.clients.models import Attendance, Episode, Session
from spacebetween.clients.selectors import attended_sessions
from spacebetween.core.transcripts.rules import flags
from spacebetween.transcripts.models import Role, Transcript
from spacebetween.transcripts.presenters import CODE_LABELS, Figure, figures
from spacebetween.transcripts.services import speaker_names, turn_context


@dataclass(frozen=True)
class TurnView:
    number: int
    speaker: str  # the name in the file
    role: str  # therapist / client / ignore / "" (not yet mapped)
    text: str
    start_ms: int | None
    code: str
    code_label: str
    emotion_words: tuple[str, ...]
    rule_flags: tuple[tuple[str, str], ...]  # (what the rule found, the words it matched)


@dataclass(frozen=True)
class SpeakerRow:
    index: int
    name: str
    turns: int
    example: str  # the start of their first turn, to tell who is who
    role: str


@dataclass(frozen=True)
class TranscriptView:
    transcript: Transcript
    session: Session
    turns: list[TurnView]
    speakers: list[SpeakerRow]
    figures: list[Figure]
    emotion_words: dict[str, list[tuple[str, int]]]  # role → (word, times), most frequent first
    lsm_windows: list[float | None]
    can_write: bool


def _rule_flags(text: str, role: str) -> tuple[tuple[str, str], ...]:
    found = flags(text, role)
    named = (
        ("Names a feeling", found.names_feeling),
        ("Here and now", found.here_and_now),
        ("Socratic question", found.socratic_question),
    )
    return tuple((label, words) for label, words in named if words)


def _audit(request: HttpRequest | None, user: User, entities: list[tuple[Entity, object]]) -> None:
    with transaction.atomic():
        record_reads(actor=user, entities=entities, purpose=Purpose.TREATMENT, request=request)


def transcript_read(request: HttpRequest | None, user: User, session: Session) -> TranscriptView | None:
    """The session's transcript for `user`, who may already read `session` (clients.access), its read
    audited; None when the session has none."""
    transcript = Transcript.objects.filter(session=session).first()
    if transcript is None:
        return None
    names = speaker_names(transcript)
    turns = list(transcript.turns.order_by("number"))
    roles: dict[str, str] = transcript.roles or {}
    views: list[TurnView] = []
    for t in turns:
        text = crypto.decrypt(t.text, context=turn_context(transcript.pk, t.number))
        role = roles.get(str(t.speaker), "")
        coded = role in (Role.THERAPIST, Role.CLIENT)
        views.append(
            TurnView(
                t.number,
                names[t.speaker],
                role,
                text,
                t.start_ms,
                t.code,
                CODE_LABELS.get(t.code, t.code.replace("_", " ")),
                flags(text, role).emotion_words if coded else (),
                _rule_flags(text, role) if coded else (),
            )
        )
    _audit(request, user, [(Entity.TRANSCRIPT, transcript.pk)])
    return TranscriptView(
        transcript,
        session,
        views,
        _speakers(names, views, roles),
        figures(transcript.summary) if transcript.coded_at else [],
        _emotion_words(views),
        list(transcript.summary.get("lsm_windows", [])),
        sessions_for(user, write=True).filter(pk=session.pk).exists(),
    )


def _speakers(names: list[str], views: list[TurnView], roles: dict[str, str]) -> list[SpeakerRow]:
    rows = []
    for i, name in enumerate(names):
        own = [v for v in views if v.speaker == name]
        example = own[0].text if own else ""
        rows.append(
            SpeakerRow(
                i, name, len(own), example[:80] + ("…" if len(example) > 80 else ""), roles.get(str(i), "")
            )
        )
    return rows


def _emotion_words(views: list[TurnView]) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, dict[str, int]] = {Role.THERAPIST: {}, Role.CLIENT: {}}
    for v in views:
        for word in v.emotion_words:
            out[v.role][word] = out[v.role].get(word, 0) + 1
    return {role: sorted(words.items(), key=lambda kv: (-kv[1], kv[0])) for role, words in out.items()}


@dataclass(frozen=True)
class SessionPoint:
    session: Session
    summary: dict[str, Any]
    number: int | None  # the episode's session number, as on its outcome charts; None if not attended


def episode_points(request: HttpRequest | None, user: User, episode: Episode) -> list[SessionPoint]:
    """The coded transcripts of the episode's sessions that `user` may read, oldest first: their stored
    figures only (no words decrypted), each with its session's number on the episode's other charts;
    the read of each is audited."""
    coded = (
        Transcript.objects.filter(
            session__in=sessions_for(user), session__episode=episode, coded_at__isnull=False
        )
        .select_related("session")
        .order_by("session__starts_at", "session_id")
    )
    numbers = {sid: n for n, (sid, _) in enumerate(attended_sessions([episode.pk])[episode.pk], start=1)}
    points = [SessionPoint(t.session, t.summary, numbers.get(t.session_id)) for t in coded]
    _audit(request, user, [(Entity.TRANSCRIPT, t.pk) for t in coded])
    return points


@dataclass(frozen=True)
class SessionTranscript:
    session: Session
    status: str  # "coded", "speakers to map" or "" (none)


def episode_transcripts(user: User, episode: Episode, *, now: dt.datetime) -> list[SessionTranscript]:
    """Per session of the episode shown on the client page that has taken place: whether it has a
    transcript (never its content, so no read to audit). Empty for anyone but a clinician."""
    if user.role not in CLINICAL_ROLES:
        return []
    held = [
        s
        for s in getattr(episode, "shown_sessions", [])
        if s.starts_at <= now and s.attendance != Attendance.CANCELLED
    ]
    ids = set(sessions_for(user).filter(pk__in=[s.pk for s in held]).values_list("pk", flat=True))
    status = dict(Transcript.objects.filter(session_id__in=ids).values_list("session_id", "coded_at"))
    return [
        SessionTranscript(s, ("coded" if status[s.pk] else "speakers to map") if s.pk in status else "")
        for s in held
        if s.pk in ids
    ]
