"""Reads: who may see a therapist's reflection. Counter-transference is the therapist's private
clinical material: the treating therapist sees it; their supervisor only the check-ins the therapist
chose to share (`SessionReflection.shared_with_supervisor`: feelings and intensity, in the supervision
copy of the progress report) on an episode shared for supervision, and never the note; a practice
admin and the client never (not even through `clients.access`, which lets a client read their own
episode)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from spacebetween import clock, crypto
from spacebetween.accounts.models import CLINICAL_ROLES, User
from spacebetween.audit.models import Entity, Purpose
from spacebetween.audit.services import record_reads
from spacebetween.clients.access import sessions_for
from spacebetween.clients.models import Attendance, Episode, Session
from spacebetween.core.ruptures import ThemePattern, theme_patterns
from spacebetween.practice.models import Practice
from spacebetween.relationship.models import (
    RUPTURE_TEXT_FIELDS,
    Repaired,
    RuptureKind,
    RuptureNote,
    SessionReflection,
    SessionTheme,
    ThemeKind,
    ThemeLabel,
)
from spacebetween.relationship.services import note_context, rupture_context


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


def reflection_read(request: HttpRequest | None, user: User, session: Session) -> dict[str, object]:
    """The reflection form's starting values for `user`, who may change `session` (clients.access):
    their reflection on it if they wrote one (its read audited), else nothing (the session's read
    audited)."""
    with transaction.atomic():
        existing = reflection_for(user, session.pk)
        shown = (
            (Entity.SESSION_REFLECTION, existing.reflection.pk) if existing else (Entity.SESSION, session.pk)
        )
        record_reads(actor=user, entities=[shown], purpose=Purpose.TREATMENT, request=request)
    if existing is None:
        return {}
    r = existing.reflection
    initial = {**r.answers, "feelings": r.feelings, "intensity": r.intensity, "note": existing.note}
    initial["share_with_supervisor"] = r.shared_with_supervisor
    return initial


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


# Rupture notes and themes (docs/insights.md, "Ruptures and themes"). Who sees them: the treating
# therapist, and a supervisor only on an episode shared for supervision (`sessions_for`, read scope);
# never a practice admin or the client, and no export, report or API reads these tables.


def _visible_sessions(user: User) -> QuerySet[Session]:
    if user.role not in CLINICAL_ROLES:
        return Session.objects.none()
    return sessions_for(user)


@dataclass(frozen=True)
class RuptureNoteView:
    note: RuptureNote
    texts: dict[str, str]  # decrypted, by field name

    def initial(self) -> dict[str, str]:
        """The note as the form's initial values."""
        return {**self.texts, "kind": self.note.kind, "repaired": self.note.repaired}

    @property
    def kind_label(self) -> str:
        return RuptureKind(self.note.kind).label

    @property
    def repaired_label(self) -> str:
        return Repaired(self.note.repaired).label


def rupture_note_for(user: User, session_id: int) -> RuptureNoteView | None:
    """The rupture note on a session, its texts decrypted, for whoever may read it; the caller audits
    the read."""
    note = RuptureNote.objects.filter(session__in=_visible_sessions(user), session_id=session_id).first()
    if note is None:
        return None
    texts = {}
    for name in RUPTURE_TEXT_FIELDS:
        value = getattr(note, name)
        texts[name] = crypto.decrypt(value, context=rupture_context(name, session_id)) if value else ""
    return RuptureNoteView(note, texts)


def session_themes(user: User, session_id: int) -> list[SessionTheme]:
    return list(
        SessionTheme.objects.filter(session__in=_visible_sessions(user), session_id=session_id)
        .select_related("label")
        .order_by("kind", "label__label", "pk")
    )


def theme_labels(practice: Practice) -> list[str]:
    """The practice's own list of theme labels, for the tagging form's suggestions."""
    return list(
        ThemeLabel.objects.filter(practice=practice).order_by("label").values_list("label", flat=True)
    )


@dataclass(frozen=True)
class LabelUse:
    label: ThemeLabel
    uses: int  # sessions' tags with it, across the practice (a count, never which sessions)


def label_list(practice_id: int) -> list[LabelUse]:
    """The practice's theme labels with how often each is used, for the admin's page: two queries."""
    uses = dict(
        SessionTheme.objects.filter(label__practice_id=practice_id)
        .values("label")
        .annotate(n=Count("pk"))
        .values_list("label", "n")
    )
    rows = ThemeLabel.objects.filter(practice_id=practice_id).order_by("label", "pk")
    return [LabelUse(row, uses.get(row.pk, 0)) for row in rows]


@dataclass(frozen=True)
class TimelineRow:
    """One session of the timeline with something on it (never a note's text)."""

    session: Session
    number: int | None  # the session's number on the chart (attended sessions), None if not attended
    detected_rupture: bool  # the chart found a possible rupture at this session
    detected_repair: bool
    note_kind: str  # the rupture note's kind label, "" without a note
    note_repaired: str  # "Repaired" / "Partly repaired" / "Not yet repaired", "" without a note
    transference: tuple[str, ...]
    counter_transference: tuple[str, ...]

    @property
    def has_note(self) -> bool:
        return bool(self.note_kind)

    @property
    def rupture(self) -> str:
        """The rupture in words, for the chart's table and tooltip."""
        if self.detected_rupture:
            found = "Possible rupture (detected)"
        elif self.has_note:
            found = "Rupture marked by the therapist"
        else:
            return "Repair (detected)" if self.detected_repair else ""
        note = (
            f"rupture note: {self.note_kind}, {self.note_repaired.lower()}"
            if self.has_note
            else "no note yet"
        )
        return f"{found}; {note}" + ("; repair (detected)" if self.detected_repair else "")

    @property
    def theme_words(self) -> tuple[str, ...]:
        return tuple(f"transference: {label}" for label in self.transference) + tuple(
            f"counter-transference: {label}" for label in self.counter_transference
        )


@dataclass(frozen=True)
class Timeline:
    episode_id: int
    rows: list[TimelineRow]
    patterns: list[ThemePattern]
    may_write: bool  # the user treats this episode: links to write notes and tag themes

    def chart_marks(self) -> list[tuple[int, str, bool, tuple[str, ...]]]:
        """(session number, rupture in words, note written, themes in words) for the rows on the
        chart's session axis (`insights.charts.space_between_chart`'s `timeline`)."""
        return [(r.number, r.rupture, r.has_note, r.theme_words) for r in self.rows if r.number is not None]


def timelines(
    user: User,
    episodes: Sequence[Episode],
    detected: Mapping[int, Sequence[tuple[int, bool]]],
    *,
    now: dt.datetime | None = None,
) -> dict[int, Timeline]:
    """Per episode the user may see: its sessions with a rupture (detected by the chart, or marked with
    a note) or a theme, in order, and the themes' patterns before ruptures (`core.ruptures`).
    `detected`: per episode id, (session number on the chart, True for a rupture / False for a
    repair), from the alliance events. Three queries whatever the number of episodes and sessions."""
    now = now or clock.now()
    visible = _visible_sessions(user).filter(episode_id__in=[e.pk for e in episodes])
    by_episode: dict[int, list[Session]] = defaultdict(list)
    for session in visible.order_by("episode_id", "starts_at", "pk"):
        by_episode[session.episode_id].append(session)
    notes = {
        n.session_id: n
        for n in RuptureNote.objects.filter(session__in=visible).only("session_id", "kind", "repaired")
    }
    tags: dict[int, list[SessionTheme]] = defaultdict(list)
    for tag in (
        SessionTheme.objects.filter(session__in=visible)
        .select_related("label")
        .order_by("label__label", "pk")
    ):
        tags[tag.session_id].append(tag)
    return {
        e.pk: _timeline(e, by_episode.get(e.pk, []), notes, tags, detected.get(e.pk, ()), user, now)
        for e in episodes
        if e.pk in by_episode
    }


def _timeline(
    episode: Episode,
    sessions: list[Session],
    notes: Mapping[int, RuptureNote],
    tags: Mapping[int, list[SessionTheme]],
    detected: Sequence[tuple[int, bool]],
    user: User,
    now: dt.datetime,
) -> Timeline:
    attended = [s for s in sessions if s.attendance == Attendance.ATTENDED]
    number = {s.pk: i for i, s in enumerate(attended, start=1)}
    found: dict[int, set[bool]] = defaultdict(set)  # session id -> {True: rupture, False: repair}
    for session_number, is_rupture in detected:
        if 1 <= session_number <= len(attended):
            found[attended[session_number - 1].pk].add(is_rupture)
    held = [
        s
        for s in sessions
        if s.pk in found
        or (s.starts_at <= now and s.attendance not in (Attendance.CANCELLED, Attendance.DID_NOT_ATTEND))
    ]
    rows, rupture_at, tagged_at = [], [], []
    for position, s in enumerate(held, start=1):
        note, themes = notes.get(s.pk), tags.get(s.pk, [])
        if not (s.pk in found or note or themes):
            continue
        row = TimelineRow(
            session=s,
            number=number.get(s.pk),
            detected_rupture=True in found[s.pk],
            detected_repair=False in found[s.pk],
            note_kind=RuptureKind(note.kind).label if note else "",
            note_repaired=Repaired(note.repaired).label if note else "",
            transference=tuple(t.label.label for t in themes if t.kind == ThemeKind.TRANSFERENCE),
            counter_transference=tuple(
                t.label.label for t in themes if t.kind == ThemeKind.COUNTER_TRANSFERENCE
            ),
        )
        rows.append(row)
        if row.detected_rupture or note:
            rupture_at.append(position)
        tagged_at += [(position, ThemeKind(t.kind).label, t.label.label) for t in themes]
    patterns = theme_patterns(tagged_at, rupture_at) if rupture_at else []
    return Timeline(episode.pk, rows, patterns, may_write=episode.therapist_id == user.pk)


def themes_tagged_count(client_id: int) -> int:
    """How many themes are tagged on the client's sessions: a count, never which or what (the demo
    reads a finished load from it; docs/insights.md, "Ruptures and themes")."""
    return SessionTheme.objects.filter(session__episode__client_id=client_id).count()
