"""Writes: the treating therapist revises the case formulation (a new version each time) and records
the client's goals and their ratings. Each service checks write access through `clients.access`,
validates, and writes the change and its audit row in one durable transaction; a refusal writes
nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from spacebetween import clock
from spacebetween.accounts.models import User
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record, record_denied
from spacebetween.clients.access import episodes_for
from spacebetween.clients.models import Attendance, Episode, Session
from spacebetween.core.formulation import FIELD_IDS, MAX_FIELD_LENGTH
from spacebetween.core.goals import MAX_ACTIVE_GOALS, GoalRatingError, check_rating
from spacebetween.formulation.models import FormulationVersion, Goal, GoalRating
from spacebetween.measures.selectors import instruments_for

NOT_ALLOWED = "Only the episode's treating therapist can change its formulation and goals."
EMPTY = "Write at least one part of the formulation."
TOO_LONG = f"Keep each part under {MAX_FIELD_LENGTH} characters."
UNKNOWN_FIELD = "{field!r} is not a part of the formulation."
UNKNOWN_MEASURE = "{measure!r} is not one of the practice's instruments."
UNCHANGED = "Nothing changed since the latest version, so no new version was saved."
GOAL_EMPTY = "Write the goal in the client's own words."
GOAL_TOO_LONG = "Keep a goal under 300 characters."
TOO_MANY_GOALS = f"A client works on up to {MAX_ACTIVE_GOALS} goals at a time: close one first."
GOAL_CLOSED = "This goal is closed; it can no longer be rated."
NOT_THIS_EPISODE = "Choose a session of this episode."
NOT_HELD = "Rate goals at a session that has taken place."
MAX_GOAL_LENGTH = 300


def _check_write(actor: User, episode: Episode, detail: str) -> Episode:
    found = episodes_for(actor, write=True).select_related("client__practice").filter(pk=episode.pk).first()
    if found is None:
        record_denied(
            actor=actor, entity_type=Entity.EPISODE, entity_id=episode.pk, detail=detail, action=Action.UPDATE
        )
        raise PermissionDenied(NOT_ALLOWED)
    return found


def _clean_content(fields: Mapping[str, str]) -> dict[str, str]:
    unknown = [f for f in fields if f not in FIELD_IDS]
    if unknown:
        raise ValidationError(UNKNOWN_FIELD.format(field=unknown[0]))
    content = {f: str(fields.get(f) or "").strip() for f in FIELD_IDS}
    long = {f: TOO_LONG for f, text in content.items() if len(text) > MAX_FIELD_LENGTH}
    if long:
        raise ValidationError(long)
    if not any(content.values()):
        raise ValidationError(EMPTY)
    return content


def formulation_revise(
    *,
    actor: User,
    episode: Episode,
    fields: Mapping[str, str],
    measures: Sequence[str] = (),
    now: dt.datetime | None = None,
    request: Any = None,
) -> FormulationVersion:
    """Save the formulation as a new version (the first, or the next after the latest); earlier versions
    stay as they were. Refused, writing nothing: anyone but the treating therapist (PermissionDenied,
    audited), an unknown field or measure, a part over the length limit, an empty formulation, and a
    revision identical to the latest version (ValidationError)."""
    now = now or clock.now()
    episode = _check_write(actor, episode, "formulation")
    content = _clean_content(fields)
    available = instruments_for(episode.client.practice)
    unknown = [m for m in measures if m not in available]
    if unknown:
        raise ValidationError({"measures": UNKNOWN_MEASURE.format(measure=unknown[0])})
    chosen = sorted(set(measures))
    with transaction.atomic(durable=True):
        Episode.objects.select_for_update().filter(pk=episode.pk).first()
        latest = FormulationVersion.objects.filter(episode=episode).order_by("-number").first()
        if latest is not None and latest.content == content and sorted(latest.measures) == chosen:
            raise ValidationError(UNCHANGED)
        version = FormulationVersion.objects.create(
            episode=episode,
            number=(latest.number + 1) if latest else 1,
            author=actor,
            recorded_at=now,
            content=content,
            measures=chosen,
        )
        record(
            action=Action.CREATE,
            actor=actor,
            entity_type=Entity.FORMULATION_VERSION,
            entity_id=version.pk,
            purpose=Purpose.TREATMENT,
            request=request,
        )
    return version


def goal_add(
    *, actor: User, episode: Episode, text: str, now: dt.datetime | None = None, request: Any = None
) -> Goal:
    """Add a goal in the client's own words. Refused: anyone but the treating therapist, an empty or
    over-long goal, and a fourth active goal."""
    now = now or clock.now()
    episode = _check_write(actor, episode, "goal")
    text = text.strip()
    if not text:
        raise ValidationError({"text": GOAL_EMPTY})
    if len(text) > MAX_GOAL_LENGTH:
        raise ValidationError({"text": GOAL_TOO_LONG})
    with transaction.atomic(durable=True):
        Episode.objects.select_for_update().filter(pk=episode.pk).first()
        if Goal.objects.filter(episode=episode, closed_at__isnull=True).count() >= MAX_ACTIVE_GOALS:
            raise ValidationError({"text": TOO_MANY_GOALS})
        goal = Goal.objects.create(episode=episode, text=text, created_by=actor, created_at=now)
        record(
            action=Action.CREATE,
            actor=actor,
            entity_type=Entity.GOAL,
            entity_id=goal.pk,
            purpose=Purpose.TREATMENT,
            request=request,
        )
    return goal


def goal_close(*, actor: User, goal: Goal, now: dt.datetime | None = None, request: Any = None) -> Goal:
    """Close a goal (reached, or set aside): it stays with its ratings, and no longer counts among the
    three active ones. Closing a closed goal changes nothing."""
    now = now or clock.now()
    _check_write(actor, goal.episode, "goal")
    with transaction.atomic(durable=True):
        updated = Goal.objects.filter(pk=goal.pk, closed_at__isnull=True).update(closed_at=now)
        if updated:
            record(
                action=Action.UPDATE,
                actor=actor,
                entity_type=Entity.GOAL,
                entity_id=goal.pk,
                purpose=Purpose.TREATMENT,
                request=request,
            )
    goal.refresh_from_db()
    return goal


def goal_rate(
    *,
    actor: User,
    goal: Goal,
    session: Session,
    score: object,
    now: dt.datetime | None = None,
    request: Any = None,
) -> GoalRating:
    """Record the client's 0-10 rating of an active goal at a session of its episode that has taken
    place (a second rating at the same session corrects the first). Refused, writing nothing: anyone but
    the treating therapist, a closed goal, another episode's session, a session not held, a rating
    outside 0-10."""
    now = now or clock.now()
    _check_write(actor, goal.episode, "goal-rating")
    try:
        clean = check_rating(score)
    except GoalRatingError as exc:
        raise ValidationError({"score": str(exc)}) from exc
    if goal.closed_at is not None:
        raise ValidationError(GOAL_CLOSED)
    if session.episode_id != goal.episode_id:
        raise ValidationError({"session": NOT_THIS_EPISODE})
    if session.starts_at > now or session.attendance in (Attendance.CANCELLED, Attendance.DID_NOT_ATTEND):
        raise ValidationError({"session": NOT_HELD})
    with transaction.atomic(durable=True):
        rating, created = GoalRating.objects.update_or_create(
            goal=goal,
            session=session,
            defaults={"score": clean, "recorded_by": actor, "recorded_at": now},
        )
        record(
            action=Action.CREATE if created else Action.UPDATE,
            actor=actor,
            entity_type=Entity.GOAL_RATING,
            entity_id=rating.pk,
            purpose=Purpose.TREATMENT,
            request=request,
        )
    return rating
