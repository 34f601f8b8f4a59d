"""Writes: the treating therapist assigns an exercise or shares a page; the client records an entry
or reads a page. Each validates first and writes nothing when refused; the change and its audit row
(ids only, never content) go in one durable transaction."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from spacebetween import clock, crypto
from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record, record_denied
from spacebetween.clients.access import episodes_for
from spacebetween.clients.models import Episode
from spacebetween.exercises import catalogue, own, own_pages
from spacebetween.exercises.models import (
    ENTRY_CONTEXT,
    ExerciseAssignment,
    ExerciseEntry,
    Frequency,
    ReadingShare,
)

NOT_ALLOWED = "Only the episode's treating therapist can do this."
EPISODE_ENDED = "This episode has ended: open a new one to set exercises or share pages."
UNKNOWN_EXERCISE = "Choose one of the exercises."
UNKNOWN_FREQUENCY = "Choose how often: once, every day or once a week."
WINDOW_ORDER = "The last day must be on or after the first day."
WINDOW_PAST = "The last day has already passed; choose a date from today on."
WINDOW_LONG = "Keep the window to a year at most; set the exercise again after that."
UNKNOWN_PAGE = "Choose one of the pages."
ALREADY_SHARED = "This page is already shared with the client in this episode."
NOT_OPEN = "This exercise is not open at the moment, so nothing was saved."
REQUIRED = "Please fill this in."
TOO_LONG = f"Please keep this under {catalogue.MAX_TEXT} characters."
NOT_A_FEELING = "Choose one of the feelings in the list."
NOT_AN_INTENSITY = "Give a number from 0 to 100."
NOT_ON_THE_SCALE = "Give a number from 0 to 10."
NOT_AN_OPTION = "Choose one of the options in the list."
NOT_MINUTES = f"Give a number of minutes from 1 to {catalogue.MAX_MINUTES}."
ALREADY_WITHDRAWN = "This exercise was already stopped."
MAX_WINDOW_DAYS = 366


def practice_today(episode: Episode, now: dt.datetime) -> dt.date:
    return now.astimezone(zoneinfo.ZoneInfo(episode.client.practice.time_zone)).date()


def entry_context(assignment_id: int) -> str:
    return ENTRY_CONTEXT.format(assignment_id=assignment_id)


def is_open(assignment: ExerciseAssignment, today: dt.date) -> bool:
    return (
        assignment.withdrawn_at is None
        and assignment.episode.ended_on is None
        and assignment.starts_on <= today <= assignment.ends_on
    )


def _treating(actor: User, episode: Episode, detail: str) -> Episode:
    """The episode, reloaded through the actor's write scope; refused and audited otherwise."""
    found = episodes_for(actor, write=True).select_related("client__practice").filter(pk=episode.pk).first()
    if found is None:
        record_denied(
            actor=actor, entity_type=Entity.EPISODE, entity_id=episode.pk, detail=detail, action=Action.UPDATE
        )
        raise PermissionDenied(NOT_ALLOWED)
    if found.ended_on is not None:
        raise ValidationError(EPISODE_ENDED)
    return found


def exercise_assign(
    *,
    actor: User,
    episode: Episode,
    exercise: str,
    frequency: str,
    starts_on: dt.date,
    ends_on: dt.date,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> ExerciseAssignment:
    """Set `exercise` for the client of an open episode, `frequency` within [starts_on, ends_on]."""
    now = now or clock.now()
    episode = _treating(actor, episode, "exercise-assign")
    if exercise not in own.assignable(episode.client.practice_id):
        raise ValidationError({"exercise": UNKNOWN_EXERCISE})
    if frequency not in Frequency.values:
        raise ValidationError({"frequency": UNKNOWN_FREQUENCY})
    if ends_on < starts_on:
        raise ValidationError({"ends_on": WINDOW_ORDER})
    if ends_on < practice_today(episode, now):
        raise ValidationError({"ends_on": WINDOW_PAST})
    if (ends_on - starts_on).days > MAX_WINDOW_DAYS:
        raise ValidationError({"ends_on": WINDOW_LONG})
    with transaction.atomic(durable=True):
        assignment = ExerciseAssignment.objects.create(
            episode=episode,
            exercise=exercise,
            practice_exercise_id=int(exercise.removeprefix(own.PREFIX))
            if exercise.startswith(own.PREFIX)
            else None,
            frequency=frequency,
            starts_on=starts_on,
            ends_on=ends_on,
            assigned_by=actor,
            assigned_at=now,
        )
        record(
            action=Action.CREATE,
            actor=actor,
            entity_type=Entity.EXERCISE_ASSIGNMENT,
            entity_id=assignment.pk,
            purpose=Purpose.TREATMENT,
            request=request,
        )
    return assignment


def exercise_withdraw(
    *,
    actor: User,
    assignment: ExerciseAssignment,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> ExerciseAssignment:
    """Stop asking for an exercise; what the client wrote stays."""
    now = now or clock.now()
    _treating(actor, assignment.episode, "exercise-withdraw")
    with transaction.atomic(durable=True):
        assignment = ExerciseAssignment.objects.select_for_update().get(pk=assignment.pk)
        if assignment.withdrawn_at is not None:
            raise ValidationError(ALREADY_WITHDRAWN)
        assignment.withdrawn_at = now
        assignment.save(update_fields=["withdrawn_at"])
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type=Entity.EXERCISE_ASSIGNMENT,
            entity_id=assignment.pk,
            purpose=Purpose.TREATMENT,
            request=request,
            detail="withdrawn",
        )
    return assignment


def _clean_answer(field: catalogue.Field, value: object) -> str | int | None:
    text = str(value).strip() if value is not None else ""
    if not text:
        if field.required:
            raise ValueError(REQUIRED)
        return None
    if field.kind == "text":
        if len(text) > catalogue.MAX_TEXT:
            raise ValueError(TOO_LONG)
        return text
    if field.kind == "feeling":
        if text not in catalogue.feelings():
            raise ValueError(NOT_A_FEELING)
        return text
    if field.kind == "choice":
        if text not in field.options:
            raise ValueError(NOT_AN_OPTION)
        return text
    low, high, message = {
        "intensity": (0, 100, NOT_AN_INTENSITY),
        "scale10": (0, 10, NOT_ON_THE_SCALE),
    }.get(field.kind, (1, catalogue.MAX_MINUTES, NOT_MINUTES))
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(message)
    return int(text)


def clean_answers(exercise: catalogue.Exercise, answers: Mapping[str, object]) -> dict[str, Any]:
    """The answers an exercise asks for, checked field by field (ValidationError naming each)."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in exercise.fields:
        try:
            value = _clean_answer(field, answers.get(field.name))
        except ValueError as exc:
            errors[field.name] = str(exc)
            continue
        if value is not None:
            clean[field.name] = value
    if errors:
        raise ValidationError(errors)
    return clean


def entry_record(
    *,
    actor: User,
    assignment: ExerciseAssignment,
    answers: Mapping[str, object],
    private: bool = False,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> ExerciseEntry:
    """The client records one go at their exercise; `private` keeps the content from the therapist,
    who then sees only that it was done. Only the client's own, open exercise."""
    now = now or clock.now()
    assignment = ExerciseAssignment.objects.select_related(
        "episode__client__practice", "practice_exercise"
    ).get(pk=assignment.pk)
    if actor.role != Role.CLIENT or assignment.episode.client.portal_user_id != actor.pk:
        record_denied(
            actor=actor,
            entity_type=Entity.EXERCISE_ASSIGNMENT,
            entity_id=assignment.pk,
            detail="entry",
            action=Action.CREATE,
        )
        raise PermissionDenied(NOT_ALLOWED)
    if not is_open(assignment, practice_today(assignment.episode, now)):
        raise ValidationError(NOT_OPEN)
    clean = clean_answers(own.exercise_of(assignment), answers)
    content = crypto.encrypt(json.dumps(clean, ensure_ascii=False), context=entry_context(assignment.pk))
    with transaction.atomic(durable=True):
        entry = ExerciseEntry.objects.create(
            assignment=assignment, recorded_at=now, private=bool(private), content=content
        )
        record(
            action=Action.CREATE,
            actor=actor,
            entity_type=Entity.EXERCISE_ENTRY,
            entity_id=entry.pk,
            purpose=Purpose.PATIENT_REQUEST,
            request=request,
        )
    return entry


def page_share(
    *,
    actor: User,
    episode: Episode,
    page: str,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> ReadingShare:
    """Share a psychoeducation page (built-in or the practice's own) with the client of an open
    episode (once per episode)."""
    now = now or clock.now()
    episode = _treating(actor, episode, "page-share")
    if page not in own_pages.shareable(episode.client.practice_id):
        raise ValidationError({"page": UNKNOWN_PAGE})
    if ReadingShare.objects.filter(episode=episode, page=page).exists():
        raise ValidationError({"page": ALREADY_SHARED})
    try:
        with transaction.atomic(durable=True):
            share = ReadingShare.objects.create(
                episode=episode,
                page=page,
                practice_page_id=int(page.removeprefix(own_pages.PREFIX))
                if page.startswith(own_pages.PREFIX)
                else None,
                shared_by=actor,
                shared_at=now,
            )
            record(
                action=Action.CREATE,
                actor=actor,
                entity_type=Entity.READING_SHARE,
                entity_id=share.pk,
                purpose=Purpose.TREATMENT,
                request=request,
            )
    except IntegrityError as exc:
        raise ValidationError({"page": ALREADY_SHARED}) from exc
    return share


def page_read(
    *, actor: User, share: ReadingShare, now: dt.datetime | None = None, request: HttpRequest | None = None
) -> ReadingShare:
    """The client opened a shared page: when first and last, and how often (shown to the therapist)."""
    now = now or clock.now()
    if actor.role != Role.CLIENT or not episodes_for(actor).filter(pk=share.episode_id).exists():
        record_denied(actor=actor, entity_type=Entity.READING_SHARE, entity_id=share.pk, detail="read")
        raise PermissionDenied(NOT_ALLOWED)
    with transaction.atomic(durable=True):
        share = ReadingShare.objects.select_for_update().get(pk=share.pk)
        share.first_read_at = share.first_read_at or now
        share.last_read_at = now
        share.times_read += 1
        share.save(update_fields=["first_read_at", "last_read_at", "times_read"])
        record(
            action=Action.READ,
            actor=actor,
            entity_type=Entity.READING_SHARE,
            entity_id=share.pk,
            purpose=Purpose.PATIENT_REQUEST,
            request=request,
        )
    return share
