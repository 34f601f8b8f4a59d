"""The practice's own exercises, written from building blocks: a title, a reason, steps, and questions
of five kinds (free text, a 0-10 or 0-100 scale, a pick from a list, minutes practised). Any
therapist of the practice writes one and every therapist of the practice can then set it, as the
built-in ones (docs/between-sessions.md says why therapists, not the practice admin, write them).

Once written an exercise is never edited: the client's entries are answers to its questions.
Its author retires it (it is no longer offered; what was set and written stays) and writes anew.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest

from spacebetween import clock
from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record, record_denied
from spacebetween.exercises import catalogue
from spacebetween.exercises.models import ExerciseAssignment, PracticeExercise

PREFIX = "practice-"
# The building blocks, in the order the form offers them.
BLOCKS = {
    "text": "Free text",
    "scale10": "A scale from 0 to 10",
    "intensity": "A scale from 0 to 100",
    "choice": "Pick one from a list",
    "minutes": "A timer: minutes practised",
}
MAX_BLOCKS = 8
MAX_STEPS = 10
MAX_OPTIONS = 12
MAX_TITLE = 120
MAX_WHY = 1500
MAX_STEP = 300
MAX_LABEL = 200
MAX_OPTION = 60

WRITERS_ONLY = "Only the practice's therapists can write or retire its exercises."
AUTHOR_ONLY = "Only the therapist who wrote this exercise can retire it."
ALREADY_RETIRED = "This exercise was already retired."
TITLE_NEEDED = f"Give the exercise a title of at most {MAX_TITLE} characters."
TITLE_TAKEN = "The practice already has an exercise with this title; choose another."
WHY_NEEDED = f"Say in plain words why this can help, in at most {MAX_WHY} characters."
STEPS_NEEDED = f"Write from 1 to {MAX_STEPS} steps, one per line, each at most {MAX_STEP} characters."
BLOCKS_NEEDED = "Add at least one question for the client to answer."
LABEL_NEEDED = f"Write the question, at most {MAX_LABEL} characters."
KIND_NEEDED = "Choose what kind of answer this question takes."
OPTIONS_NEEDED = (
    f"A list needs 2 to {MAX_OPTIONS} different options, one per line, each at most {MAX_OPTION} characters."
)
OPTIONS_ONLY_FOR_LISTS = "Options are only for a question that picks from a list; leave this empty."
MINUTES_RANGE = f"Give a suggested length from 1 to {catalogue.MAX_MINUTES} minutes, or leave it empty."


def as_exercise(written: PracticeExercise) -> catalogue.Exercise:
    """The stored exercise as the pages and the entry checks see every exercise."""
    fields = tuple(
        catalogue.Field(f["name"], f["label"], f["kind"], bool(f["required"]), tuple(f.get("options", ())))
        for f in written.fields
    )
    return catalogue.Exercise(
        f"{PREFIX}{written.pk}",
        written.title,
        written.why,
        tuple(written.steps),
        fields,
        written.minutes,
        practice_written=True,
    )


def exercise_of(assignment: ExerciseAssignment) -> catalogue.Exercise:
    """The exercise an assignment asks for: a built-in one, or the practice's own."""
    if assignment.practice_exercise_id is not None:
        return as_exercise(assignment.practice_exercise)  # type: ignore[arg-type]
    return catalogue.exercises()[assignment.exercise]


def written_for(practice_id: int) -> list[PracticeExercise]:
    """The practice's own exercises still offered."""
    return list(
        PracticeExercise.objects.filter(practice_id=practice_id, retired_at__isnull=True).select_related(
            "written_by"
        )
    )


def assignable(practice_id: int) -> dict[str, catalogue.Exercise]:
    """What a therapist of the practice can set: the built-in exercises, then the practice's own."""
    return {**catalogue.exercises(), **{e.id: e for e in map(as_exercise, written_for(practice_id))}}


def _lines(value: object) -> list[str]:
    if isinstance(value, str):
        value = value.splitlines()
    return [str(line).strip() for line in value or () if str(line).strip()]  # type: ignore[attr-defined]


def _block(number: int, raw: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any] | None:
    label = str(raw.get("label") or "").strip()
    kind = str(raw.get("kind") or "").strip()
    options = _lines(raw.get("options"))
    if not (label or kind or options):
        return None  # an unused row
    key = f"block_{number}_"
    if not label or len(label) > MAX_LABEL:
        errors[key + "label"] = LABEL_NEEDED
    if kind not in BLOCKS:
        errors[key + "kind"] = KIND_NEEDED
    if kind == "choice" and (
        not 2 <= len(options) <= MAX_OPTIONS
        or len(set(options)) != len(options)
        or any(len(o) > MAX_OPTION for o in options)
    ):
        errors[key + "options"] = OPTIONS_NEEDED
    elif kind != "choice" and options:
        errors[key + "options"] = OPTIONS_ONLY_FOR_LISTS
    return {
        "name": f"q{number}",
        "label": label,
        "kind": kind,
        "required": bool(raw.get("required")),
        "options": options if kind == "choice" else [],
    }


def clean_exercise(
    *,
    practice_id: int,
    title: str,
    why: str,
    steps: object,
    blocks: Sequence[Mapping[str, Any]],
    minutes: object,
) -> dict[str, Any]:
    """The exercise as it will be stored, or a ValidationError naming every field that is wrong.
    `blocks` are the form's rows in order; a row left wholly empty is skipped (its number stays)."""
    errors: dict[str, str] = {}
    title = (title or "").strip()
    why = (why or "").strip()
    step_list = _lines(steps)
    if not title or len(title) > MAX_TITLE:
        errors["title"] = TITLE_NEEDED
    elif PracticeExercise.objects.filter(
        practice_id=practice_id, retired_at__isnull=True, title__iexact=title
    ).exists():
        errors["title"] = TITLE_TAKEN
    if not why or len(why) > MAX_WHY:
        errors["why"] = WHY_NEEDED
    if not 1 <= len(step_list) <= MAX_STEPS or any(len(s) > MAX_STEP for s in step_list):
        errors["steps"] = STEPS_NEEDED
    fields = [f for n, raw in enumerate(blocks[:MAX_BLOCKS], 1) if (f := _block(n, raw, errors)) is not None]
    if not fields and not any(k.startswith("block_") for k in errors):
        errors["block_1_label"] = BLOCKS_NEEDED
    text = str(minutes if minutes is not None else "").strip()
    if text and (not text.isdigit() or not 1 <= int(text) <= catalogue.MAX_MINUTES):
        errors["minutes"] = MINUTES_RANGE
    if errors:
        raise ValidationError(errors)
    return {
        "title": title,
        "why": why,
        "steps": step_list,
        "fields": fields,
        "minutes": int(text) if text else None,
    }


def _writer(actor: User, entity_id: object, detail: str) -> None:
    if actor.role != Role.THERAPIST:
        record_denied(
            actor=actor,
            entity_type=Entity.PRACTICE_EXERCISE,
            entity_id=entity_id,
            detail=detail,
            action=Action.CREATE,
        )
        raise PermissionDenied(WRITERS_ONLY)


def practice_exercise_write(
    *,
    actor: User,
    title: str,
    why: str,
    steps: object,
    blocks: Sequence[Mapping[str, Any]],
    minutes: object = None,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> PracticeExercise:
    """A therapist writes an exercise for their practice; checked field by field, nothing written
    when any is wrong."""
    now = now or clock.now()
    _writer(actor, "", "practice-exercise-write")
    clean = clean_exercise(
        practice_id=actor.practice_id, title=title, why=why, steps=steps, blocks=blocks, minutes=minutes
    )
    with transaction.atomic(durable=True):
        written = PracticeExercise.objects.create(
            practice_id=actor.practice_id, written_by=actor, written_at=now, **clean
        )
        record(
            action=Action.CREATE,
            actor=actor,
            entity_type=Entity.PRACTICE_EXERCISE,
            entity_id=written.pk,
            purpose=Purpose.OPERATIONS,
            request=request,
        )
    return written


def practice_exercise_retire(
    *,
    actor: User,
    written: PracticeExercise,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> PracticeExercise:
    """No longer offered; exercises already set with it go on until their window ends or are stopped."""
    now = now or clock.now()
    _writer(actor, written.pk, "practice-exercise-retire")
    if written.written_by_id != actor.pk:
        record_denied(
            actor=actor,
            entity_type=Entity.PRACTICE_EXERCISE,
            entity_id=written.pk,
            detail="practice-exercise-retire",
            action=Action.UPDATE,
        )
        raise PermissionDenied(AUTHOR_ONLY)
    with transaction.atomic(durable=True):
        written = PracticeExercise.objects.select_for_update().get(pk=written.pk)
        if written.retired_at is not None:
            raise ValidationError(ALREADY_RETIRED)
        written.retired_at = now
        written.save(update_fields=["retired_at"])
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type=Entity.PRACTICE_EXERCISE,
            entity_id=written.pk,
            purpose=Purpose.OPERATIONS,
            request=request,
            detail="retired",
        )
    return written
