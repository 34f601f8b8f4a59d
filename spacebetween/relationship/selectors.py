"""Reads: who may see a therapist's reflection. Counter-transference is the therapist's private
clinical material: the treating therapist sees it; their supervisor only the check-ins the therapist
chose to share (`SessionReflection.shared_with_supervisor`: feelings and intensity, in the supervision
copy of the progress report) on an episode shared for supervision, and never the note; a practice
admin and the client never (not even through `clients.access`, which lets a client read their own
episode)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from spacebetween import clock, crypto
from spacebetween.accounts.models import CLINICAL_ROLES, User
from spacebetween.clients.access import sessions_for
from spacebetween.clients.models import Attendance, Episode, Session
from spacebetween.relationship.models import SessionReflection
from spacebetween.relationship.services import note_context


def reflections_for(user: User) -> QuerySet[SessionReflection]:
    if user.role not in CLINICAL_ROLES:
        return SessionReflection.objects.none()
    return SessionReflection.objects.filter(session__in=sessions_for(user))


@dataclass(frozen=True)
class ReflectionView:
    reflection: SessionReflection
    note: str  # decrypted


def reflection_for(user: User, session_id: int) -> ReflectionView | None:
    """The reflection on a session with its note decrypted, for the treating therapist only: the note
    is theirs, and no one else reads it (a supervisor gets the shared check-ins through the
    supervision copy of the progress report, never the note)."""
    if user.role not in CLINICAL_ROLES:
        return None
    reflection = (
        SessionReflection.objects.filter(session__in=sessions_for(user, write=True))
        .filter(session_id=session_id)
        .first()
    )
    if reflection is None:
        return None
    note = reflection.feelings_note
    return ReflectionView(reflection, crypto.decrypt(note, context=note_context(session_id)) if note else "")


@dataclass(frozen=True)
class ReflectionStatus:
    session: Session
    recorded: bool


@dataclass(frozen=True)
class EpisodeReflections:
    episode_id: int
    sessions: list[ReflectionStatus]


def reflection_status(
    user: User, episodes: Iterable[Episode], *, now: dt.datetime | None = None
) -> list[EpisodeReflections]:
    """Per episode, its sessions that have taken place (sessions prefetched) and whether the therapist
    recorded a reflection on each: one query whatever the number of sessions; never the content."""
    now = now or clock.now()
    held = {
        e.pk: [
            s
            for s in e.shown_sessions  # type: ignore[attr-defined]
            if s.starts_at <= now and s.attendance not in (Attendance.CANCELLED, Attendance.DID_NOT_ATTEND)
        ]
        for e in episodes
    }
    ids = [s.pk for sessions in held.values() for s in sessions]
    if not ids:
        return []
    recorded = set(reflections_for(user).filter(session_id__in=ids).values_list("session_id", flat=True))
    return [
        EpisodeReflections(pk, [ReflectionStatus(s, s.pk in recorded) for s in sessions])
        for pk, sessions in held.items()
        if sessions
    ]
