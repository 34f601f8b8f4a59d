"""Writes: the treating therapist records their side of a session."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from spacebetween import clock, crypto
from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record, record_denied
from spacebetween.clients.access import sessions_for
from spacebetween.clients.models import Attendance, Session
from spacebetween.core.instruments import Instrument
from spacebetween.core.scoring import ScoringError, score_response
from spacebetween.measures.events import answers_stored
from spacebetween.relationship.measures import (
    MAX_NOTE_LENGTH,
    SESSION_RATING,
    Feeling,
    Intensity,
    therapist_alliance_instrument,
)
from spacebetween.relationship.models import (
    NOTE_CONTEXT,
    RUPTURE_CONTEXT,
    RUPTURE_TEXT_FIELDS,
    MeasureKind,
    Repaired,
    RuptureKind,
    RuptureNote,
    SessionReflection,
    SessionTheme,
    ThemeKind,
    ThemeLabel,
)

NOT_ALLOWED = "Only the session's treating therapist can record a reflection on it."
NOT_YET = "This session has not taken place yet; reflect on it afterwards."
NO_SESSION = "The client did not attend this session, so there is no session to reflect on."
ANSWER_REQUIRED = "Give a rating from {minimum} to {maximum}."
NOT_AN_OPTION = "Choose one of the answers."
UNKNOWN_FEELING = "{value!r} is not one of the listed feelings."
INTENSITY_REQUIRED = "Say how strong the feelings were."
UNKNOWN_INTENSITY = "Choose an intensity from 1 (slight) to 5 (very strong)."
INTENSITY_WITHOUT_FEELING = "Choose at least one feeling, or leave the intensity empty."
NOTE_TOO_LONG = f"Keep the note under {MAX_NOTE_LENGTH} characters."


def note_context(session_id: int) -> str:
    return NOTE_CONTEXT.format(session_id=session_id)


def rupture_context(field: str, session_id: int) -> str:
    """Where a rupture note's text lives: each field bound to its own session and field."""
    return RUPTURE_CONTEXT.format(field=field, session_id=session_id)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _rating_answers(answers: Mapping[str, object]) -> dict[str, int]:
    errors: dict[str, str] = {}
    clean: dict[str, int] = {}
    for item in SESSION_RATING.items:
        value = answers.get(item.id)
        if not _is_int(value) or not SESSION_RATING.minimum <= value <= SESSION_RATING.maximum:  # type: ignore[operator]
            errors[item.id] = ANSWER_REQUIRED.format(
                minimum=SESSION_RATING.minimum, maximum=SESSION_RATING.maximum
            )
        else:
            clean[item.id] = value  # type: ignore[assignment]
    if errors:
        raise ValidationError(errors)
    return clean


def _instrument_answers(instrument: Instrument, answers: Mapping[str, object]) -> dict[str, float]:
    errors: dict[str, str] = {}
    clean: dict[str, float] = {}
    for item in instrument.items:
        value = answers.get(item.id)
        if isinstance(value, bool) or not isinstance(value, int | float) or value not in item.values:
            if item.required or value is not None:
                errors[item.id] = NOT_AN_OPTION
            continue
        clean[item.id] = value
    if errors:
        raise ValidationError(errors)
    return clean


def _check_feelings(feelings: Sequence[str], intensity: int | None, note: str) -> list[str]:
    unknown = [f for f in feelings if f not in Feeling.values]
    if unknown:
        raise ValidationError({"feelings": UNKNOWN_FEELING.format(value=unknown[0])})
    if intensity is not None and intensity not in Intensity.values:
        raise ValidationError({"intensity": UNKNOWN_INTENSITY})
    if feelings and intensity is None:
        raise ValidationError({"intensity": INTENSITY_REQUIRED})
    if intensity is not None and not feelings:
        raise ValidationError({"intensity": INTENSITY_WITHOUT_FEELING})
    if len(note) > MAX_NOTE_LENGTH:
        raise ValidationError({"note": NOTE_TOO_LONG})
    return [f for f in Feeling.values if f in set(feelings)]


def reflection_record(
    *,
    actor: User,
    session: Session,
    answers: Mapping[str, object],
    feelings: Sequence[str] = (),
    intensity: int | None = None,
    note: str = "",
    share_with_supervisor: bool = False,
    now: dt.datetime | None = None,
    request: Any = None,
) -> SessionReflection:
    """Record (or correct) the treating therapist's view of the relationship in `session` and their
    counter-transference check-in. The note is encrypted before it reaches the database.
    `share_with_supervisor` is the therapist's choice to put this check-in's feelings and intensity
    (never the note) in the supervision copy of the progress report. Refused,
    writing nothing: anyone but the treating therapist (PermissionDenied, audited), a session that has
    not happened, and any answer out of range (ValidationError naming the field)."""
    now = now or clock.now()
    session = Session.objects.select_related("episode__client__practice").get(pk=session.pk)
    if not sessions_for(actor, write=True).filter(pk=session.pk).exists():
        record_denied(
            actor=actor,
            entity_type=Entity.SESSION,
            entity_id=session.pk,
            detail="reflection",
            action=Action.UPDATE,
        )
        raise PermissionDenied(NOT_ALLOWED)
    if session.starts_at > now:
        raise ValidationError(NOT_YET)
    if session.attendance in (Attendance.CANCELLED, Attendance.DID_NOT_ATTEND):
        raise ValidationError(NO_SESSION)
    note = note.strip()
    feelings = _check_feelings(feelings, intensity, note)
    instrument = therapist_alliance_instrument(session.episode.client.practice)
    if instrument is None:
        measure = {
            "measure_kind": MeasureKind.SESSION_RATING,
            "measure_id": SESSION_RATING.id,
            "measure_version": SESSION_RATING.version,
            "validated": False,
            "answers": _rating_answers(answers),
            "scores": {},
        }
    else:
        clean = _instrument_answers(instrument, answers)
        try:
            score = score_response(instrument, clean, respondent_id=f"session {session.pk}")
        except ScoringError as exc:
            raise ValidationError({exc.item or "__all__": NOT_AN_OPTION}) from exc
        measure = {
            "measure_kind": MeasureKind.INSTRUMENT,
            "measure_id": instrument.id,
            "measure_version": instrument.version,
            "validated": True,
            "answers": clean,
            "scores": {k: s.score for k, s in score.scales.items()},
        }
    fields = {
        **measure,
        "feelings": feelings,
        "intensity": intensity,
        "feelings_note": crypto.encrypt(note, context=note_context(session.pk)) if note else "",
        "shared_with_supervisor": bool(share_with_supervisor),
        "therapist": actor,
        "updated_at": now,
    }
    with transaction.atomic(durable=True):
        reflection, created = SessionReflection.objects.select_for_update().update_or_create(
            session=session, defaults=fields, create_defaults={**fields, "recorded_at": now}
        )
        record(
            action=Action.CREATE if created else Action.UPDATE,
            actor=actor,
            entity_type=Entity.SESSION_REFLECTION,
            entity_id=reflection.pk,
            purpose=Purpose.TREATMENT,
            request=request,
        )
        # The therapist's view feeds the alliance gap: insights marks the episode stale.
        answers_stored.send(__name__, episode_id=session.episode_id)
    return reflection


# Rupture notes and transference themes (docs/insights.md, "Ruptures and themes").
RUPTURE_NOT_ALLOWED = "Only the session's treating therapist can write a rupture note on it."
THEME_NOT_ALLOWED = "Only the session's treating therapist can tag its themes."
MAX_RUPTURE_TEXT = 4000
MAX_THEME_LABEL = 60
RUPTURE_WHAT_REQUIRED = "Say briefly what happened."
RUPTURE_TOO_LONG = f"Keep this under {MAX_RUPTURE_TEXT} characters."
RUPTURE_KIND_REQUIRED = "Choose withdrawal, confrontation or both."
REPAIRED_REQUIRED = "Say whether the rupture was repaired: yes, partly or not yet."
THEME_KIND_REQUIRED = "Choose transference or counter-transference."
THEME_LABEL_REQUIRED = "Give the theme a short label, e.g. “wish to rescue”."
THEME_LABEL_TOO_LONG = f"Keep the label under {MAX_THEME_LABEL} characters."
THEME_ALREADY = "This session already has that theme."
NO_SUCH_THEME = "Choose one of this session's themes to remove; nothing was changed."


def _session_for_writing(
    actor: User, session: Session, *, detail: str, refusal: str, now: dt.datetime
) -> Session:
    """The session, if `actor` treats it and it took place; else refused (PermissionDenied, audited,
    or ValidationError), before anything is written."""
    session = Session.objects.select_related("episode__client__practice").get(pk=session.pk)
    if not sessions_for(actor, write=True).filter(pk=session.pk).exists():
        record_denied(
            actor=actor, entity_type=Entity.SESSION, entity_id=session.pk, detail=detail, action=Action.UPDATE
        )
        raise PermissionDenied(refusal)
    if session.starts_at > now:
        raise ValidationError(NOT_YET)
    if session.attendance in (Attendance.CANCELLED, Attendance.DID_NOT_ATTEND):
        raise ValidationError(NO_SESSION)
    return session


def _rupture_texts(what_happened: str, therapist_part: str, repair: str) -> dict[str, str]:
    texts = {"what_happened": what_happened, "therapist_part": therapist_part, "repair": repair}
    texts = {name: (value or "").strip() for name, value in texts.items()}
    errors = {name: RUPTURE_TOO_LONG for name, value in texts.items() if len(value) > MAX_RUPTURE_TEXT}
    if not texts["what_happened"]:
        errors["what_happened"] = RUPTURE_WHAT_REQUIRED
    if errors:
        raise ValidationError(errors)
    return texts


def rupture_note_save(
    *,
    actor: User,
    session: Session,
    kind: str,
    repaired: str,
    what_happened: str,
    therapist_part: str = "",
    repair: str = "",
    now: dt.datetime | None = None,
    request: Any = None,
) -> RuptureNote:
    """Write (or correct) the rupture note on `session`: what happened, the therapist's own part, how it
    was repaired, the kind (Safran & Muran: withdrawal, confrontation or both) and whether it is
    repaired. Each text is encrypted before it reaches the database. Refused, writing nothing: anyone
    but the treating therapist (PermissionDenied, audited), a session that has not taken place, and a
    missing or unknown field (ValidationError naming it)."""
    now = now or clock.now()
    session = _session_for_writing(
        actor, session, detail="rupture-note", refusal=RUPTURE_NOT_ALLOWED, now=now
    )
    errors = {}
    if kind not in RuptureKind.values:
        errors["kind"] = RUPTURE_KIND_REQUIRED
    if repaired not in Repaired.values:
        errors["repaired"] = REPAIRED_REQUIRED
    try:
        texts = _rupture_texts(what_happened, therapist_part, repair)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    fields: dict[str, object] = {
        name: crypto.encrypt(texts[name], context=rupture_context(name, session.pk)) if texts[name] else ""
        for name in RUPTURE_TEXT_FIELDS
    }
    fields.update(kind=kind, repaired=repaired, therapist=actor, updated_at=now)
    with transaction.atomic(durable=True):
        note, created = RuptureNote.objects.select_for_update().update_or_create(
            session=session, defaults=fields, create_defaults={**fields, "created_at": now}
        )
        record(
            action=Action.CREATE if created else Action.UPDATE,
            actor=actor,
            entity_type=Entity.RUPTURE_NOTE,
            entity_id=note.pk,
            purpose=Purpose.TREATMENT,
            request=request,
        )
    return note


def clean_theme_label(label: str) -> str:
    """A label as stored: spaces collapsed, at most MAX_THEME_LABEL characters."""
    cleaned = " ".join((label or "").split())
    if not cleaned:
        raise ValidationError({"label": THEME_LABEL_REQUIRED})
    if len(cleaned) > MAX_THEME_LABEL:
        raise ValidationError({"label": THEME_LABEL_TOO_LONG})
    return cleaned


def theme_tag(
    *,
    actor: User,
    session: Session,
    kind: str,
    label: str,
    now: dt.datetime | None = None,
    request: Any = None,
) -> SessionTheme:
    """Tag `session` with a transference or counter-transference theme. The label is taken from the
    practice's list (matched without regard to case) or added to it. Refused, writing nothing: anyone
    but the treating therapist (PermissionDenied, audited), a session that has not taken place, an
    unknown kind, an empty or long label, and a theme the session already has (ValidationError)."""
    now = now or clock.now()
    session = _session_for_writing(actor, session, detail="theme", refusal=THEME_NOT_ALLOWED, now=now)
    errors = {}
    if kind not in ThemeKind.values:
        errors["kind"] = THEME_KIND_REQUIRED
    try:
        label = clean_theme_label(label)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    practice = session.episode.client.practice
    known = ThemeLabel.objects.filter(practice=practice, label__iexact=label).first()
    if known is not None and SessionTheme.objects.filter(session=session, label=known, kind=kind).exists():
        raise ValidationError({"label": THEME_ALREADY})
    with transaction.atomic(durable=True):
        if known is None:
            known = ThemeLabel.objects.create(practice=practice, label=label, created_at=now)
            record(
                action=Action.CREATE,
                actor=actor,
                entity_type=Entity.THEME_LABEL,
                entity_id=known.pk,
                purpose=Purpose.TREATMENT,
                request=request,
            )
        tag = SessionTheme.objects.create(
            session=session, label=known, kind=kind, tagged_by=actor, tagged_at=now
        )
        record(
            action=Action.CREATE,
            actor=actor,
            entity_type=Entity.SESSION_THEME,
            entity_id=tag.pk,
            purpose=Purpose.TREATMENT,
            request=request,
        )
    return tag


def theme_untag(*, actor: User, session: Session, tag_id: int | None, request: Any = None) -> None:
    """Remove one of the session's themes (the label stays in the practice's list)."""
    session = _session_for_writing(actor, session, detail="theme", refusal=THEME_NOT_ALLOWED, now=clock.now())
    if tag_id is None or not SessionTheme.objects.filter(session=session, pk=tag_id).exists():
        raise ValidationError({"tag": NO_SUCH_THEME})
    with transaction.atomic(durable=True):
        SessionTheme.objects.filter(session=session, pk=tag_id).delete()
        record(
            action=Action.DELETE,
            actor=actor,
            entity_type=Entity.SESSION_THEME,
            entity_id=tag_id,
            purpose=Purpose.TREATMENT,
            request=request,
        )


# ------------------------------------------------------------------------------ the practice's labels

LABELS_ADMIN_ONLY = "Only the practice admin can edit the practice's theme labels."
NO_SUCH_LABEL = "Choose one of the practice's theme labels."
LABEL_TAKEN = "Another label already reads like this: merge the two instead."
MERGE_SAME = "Choose two different labels: merge one into another."


def _label_admin(actor: User, detail: str) -> None:
    """The practice's label list is the admin's, as its note templates and Socratic questions are
    (docs/notes.md); a therapist adds labels by tagging, and anyone else is refused, audited."""
    if actor.role != Role.ADMIN:
        record_denied(actor=actor, entity_type=Entity.THEME_LABEL, detail=detail, action=Action.UPDATE)
        raise PermissionDenied(LABELS_ADMIN_ONLY)


def _practice_label(actor: User, label_id: object, field: str) -> ThemeLabel:
    found = (
        ThemeLabel.objects.filter(practice_id=actor.practice_id, pk=label_id).first()
        if isinstance(label_id, int) and not isinstance(label_id, bool)
        else None
    )
    if found is None:
        raise ValidationError({field: NO_SUCH_LABEL})
    return found


def _label_audit(
    actor: User, action: Action, entity_type: Entity, pk: object, detail: str, request: Any
) -> None:
    """One audit row of a label edit: ids and a fixed detail, never the label's words."""
    record(
        action=action,
        actor=actor,
        entity_type=entity_type,
        entity_id=pk,
        purpose=Purpose.OPERATIONS,
        request=request,
        detail=detail,
    )


def theme_label_rename(*, actor: User, label_id: object, label: str, request: Any = None) -> ThemeLabel:
    """Rename one of the practice's theme labels (a mistyped one, say): every session tagged with it
    reads the new name. Refused, writing nothing: anyone but the practice admin (PermissionDenied,
    audited), a label of another practice or none, an empty or long name, and a name another label
    already has, matched without regard to case (merge them instead) (ValidationError)."""
    _label_admin(actor, "theme label rename")
    found = _practice_label(actor, label_id, "label_id")
    cleaned = clean_theme_label(label)
    taken = ThemeLabel.objects.filter(practice_id=actor.practice_id, label__iexact=cleaned).exclude(
        pk=found.pk
    )
    if taken.exists():
        raise ValidationError({"label": LABEL_TAKEN})
    with transaction.atomic(durable=True):
        found.label = cleaned
        found.save(update_fields=["label"])
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type=Entity.THEME_LABEL,
            entity_id=found.pk,
            purpose=Purpose.OPERATIONS,
            request=request,
        )
    return found


def theme_label_merge(
    *, actor: User, source_id: object, target_id: object, request: Any = None
) -> ThemeLabel:
    """Merge the label `source_id` into `target_id`: its tags move to the target (a session already
    tagged with the target, of the same kind, keeps that one tag) and the source leaves the list.
    Refused, writing nothing: anyone but the practice admin (PermissionDenied, audited), a label of
    another practice or none, and the same label twice (ValidationError). Audited by ids: the source
    deleted (its detail names the target's id), the target updated, each tag moved updated and each
    double deleted."""
    _label_admin(actor, "theme label merge")
    source = _practice_label(actor, source_id, "source_id")
    target = _practice_label(actor, target_id, "target_id")
    if source.pk == target.pk:
        raise ValidationError({"target_id": MERGE_SAME})
    with transaction.atomic(durable=True):
        tags = list(SessionTheme.objects.select_for_update().filter(label=source))
        kept = set(
            SessionTheme.objects.filter(
                label=target, session_id__in=[t.session_id for t in tags]
            ).values_list("session_id", "kind")
        )
        doubles = [t.pk for t in tags if (t.session_id, t.kind) in kept]
        moved = [t.pk for t in tags if t.pk not in doubles]
        SessionTheme.objects.filter(pk__in=doubles).delete()
        SessionTheme.objects.filter(pk__in=moved).update(label=target)
        source_pk = source.pk
        source.delete()
        merged = f"merged into label {target.pk}"
        _label_audit(actor, Action.DELETE, Entity.THEME_LABEL, source_pk, merged, request)
        _label_audit(actor, Action.UPDATE, Entity.THEME_LABEL, target.pk, merged, request)
        for pk in moved:
            _label_audit(actor, Action.UPDATE, Entity.SESSION_THEME, pk, "label merge", request)
        for pk in doubles:
            _label_audit(actor, Action.DELETE, Entity.SESSION_THEME, pk, "label merge", request)
    return target
