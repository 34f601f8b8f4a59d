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
from django.utils import timezone

from spacebetween import clock
from spacebetween.accounts.models import User
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record, record_denied
from spacebetween.clients.access import episodes_for
from spacebetween.clients.models import Attendance, Episode, Session
from spacebetween.core.formulation import FIELD_IDS, MAX_FIELD_LENGTH
from spacebetween.core.goals import MAX_ACTIVE_GOALS, GoalRatingError, check_rating
from spacebetween.core.reconsolidation import (
    EARLY_WINDOW,
    JUXTAPOSITION,
    LATER_SESSION,
    MARKER_IDS,
    OCCASION_IDS,
    OCCASIONS,
    RESULT_IDS,
    DateOrderError,
    OrderError,
    check_step,
    follow_up_due,
)
from spacebetween.formulation.models import (
    FormulationVersion,
    Goal,
    GoalRating,
    MarkerCheck,
    ReconsolidationStep,
    ReconsolidationWork,
)
from spacebetween.formulation.selectors import episode_instruments
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
EVIDENCE_NOT_THIS_EPISODE = "Choose sessions of this episode as the evidence in the notes."
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


def _evidence(episode: Episode, evidence: Sequence[int]) -> list[int]:
    """The cited sessions' ids in session order; each must be a session of `episode`."""
    wanted = set()
    for value in evidence:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError({"evidence": EVIDENCE_NOT_THIS_EPISODE})
        wanted.add(value)
    found = list(
        Session.objects.filter(episode=episode, pk__in=wanted)
        .order_by("starts_at", "pk")
        .values_list("pk", flat=True)
    )
    if len(found) != len(wanted):
        raise ValidationError({"evidence": EVIDENCE_NOT_THIS_EPISODE})
    return found


def formulation_revise(
    *,
    actor: User,
    episode: Episode,
    fields: Mapping[str, str],
    measures: Sequence[str] = (),
    evidence: Sequence[int] = (),
    now: dt.datetime | None = None,
    request: Any = None,
) -> FormulationVersion:
    """Save the formulation as a new version (the first, or the next after the latest); earlier versions
    stay as they were. `evidence` names the sessions of the episode whose notes bear on it (stored as
    ids, in session order). Refused, writing nothing: anyone but the treating therapist
    (PermissionDenied, audited), an unknown field or measure, a session of another episode (or none)
    as evidence, a part over the length limit, an empty formulation, and a revision identical to the
    latest version (ValidationError)."""
    now = now or clock.now()
    episode = _check_write(actor, episode, "formulation")
    content = _clean_content(fields)
    available = instruments_for(episode.client.practice)
    unknown = [m for m in measures if m not in available]
    if unknown:
        raise ValidationError({"measures": UNKNOWN_MEASURE.format(measure=unknown[0])})
    chosen = sorted(set(measures))
    cited = _evidence(episode, evidence)
    with transaction.atomic(durable=True):
        Episode.objects.select_for_update().filter(pk=episode.pk).first()
        latest = FormulationVersion.objects.filter(episode=episode).order_by("-number").first()
        if (
            latest is not None
            and latest.content == content
            and sorted(latest.measures) == chosen
            and latest.evidence == cited
        ):
            raise ValidationError(UNCHANGED)
        version = FormulationVersion(
            episode=episode,
            number=(latest.number + 1) if latest else 1,
            author=actor,
            recorded_at=now,
            measures=chosen,
            evidence=cited,
        )
        version.seal(content)
        version.save()
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
        goal = Goal.objects.create(episode=episode, created_by=actor, created_at=now)
        goal.seal(text)  # bound to the row's id, so after the insert
        goal.save(update_fields=["text_encrypted"])
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


# ------------------------------------------------------------------------------ memory reconsolidation
# Ecker, Ticic & Hulley (2012); docs/formulation.md, "Memory reconsolidation".

REQUIRED = "Write this in the client's words."
TEXT_TOO_LONG = f"Keep this under {MAX_FIELD_LENGTH} characters."
NOT_THIS_FORMULATION = "Choose a version of this episode's formulation."
NOT_EPISODE_MEASURE = "{measure!r} is not one of the measures this episode uses."
IN_FUTURE = "This date is in the future."
BEFORE_EPISODE = "This date is before the episode began."
UNKNOWN_OCCASION = "Choose when the markers were checked."
UNKNOWN_RESULT = "Choose yes, partly, no or not checked."
NO_JUXTAPOSITION = "Check the verification markers after a juxtaposition experience is recorded."
BEFORE_JUXTAPOSITION = "The markers are checked after the first juxtaposition ({on:%-d %b %Y})."
TOO_EARLY = "The {label} falls due on {due:%-d %b %Y}; record it from {earliest:%-d %b %Y}."
ALREADY_CHECKED = "The {label} is already recorded."


def _text(value: object, *, required: bool) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValueError(REQUIRED)
    if len(text) > MAX_FIELD_LENGTH:
        raise ValueError(TEXT_TOO_LONG)
    return text


def _texts(values: Mapping[str, object], required: Sequence[str]) -> dict[str, str]:
    clean, errors = {}, {}
    for name, value in values.items():
        try:
            clean[name] = _text(value, required=name in required)
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise ValidationError(errors)
    return clean


def _check_date(episode: Episode, field: str, on: dt.date, now: dt.datetime) -> None:
    if on > timezone.localdate(now):
        raise ValidationError({field: IN_FUTURE})
    if on < episode.started_on:
        raise ValidationError({field: BEFORE_EPISODE})


def _audit(actor: User, entity: Entity, pk: object, request: Any, action: Action = Action.CREATE) -> None:
    record(
        action=action,
        actor=actor,
        entity_type=entity,
        entity_id=pk,
        purpose=Purpose.TREATMENT,
        request=request,
    )


def reconsolidation_start(
    *,
    actor: User,
    episode: Episode,
    symptom: str,
    emotional_truth: str,
    formulation: FormulationVersion | None = None,
    measures: Sequence[str] = (),
    now: dt.datetime | None = None,
    request: Any = None,
) -> ReconsolidationWork:
    """Step A: the symptom to be dissolved and its emotional truth (the implicit learning that makes
    it necessary), both in the client's words, optionally tied to a formulation version and to the
    episode's measures that should move. Refused, writing nothing: anyone but the treating therapist,
    missing or over-long text, another episode's formulation, a measure the episode does not use."""
    now = now or clock.now()
    episode = _check_write(actor, episode, "reconsolidation")
    text = _texts({"symptom": symptom, "emotional_truth": emotional_truth}, ("symptom", "emotional_truth"))
    if formulation is not None and formulation.episode_id != episode.pk:
        raise ValidationError({"formulation": NOT_THIS_FORMULATION})
    used = episode_instruments(episode)
    unknown = [m for m in measures if m not in used]
    if unknown:
        raise ValidationError({"measures": NOT_EPISODE_MEASURE.format(measure=unknown[0])})
    with transaction.atomic(durable=True):
        work = ReconsolidationWork.objects.create(
            episode=episode,
            formulation=formulation,
            measures=sorted(set(measures)),
            created_by=actor,
            created_at=now,
        )
        work.seal(**text)  # bound to the row's id, so after the insert
        work.save(update_fields=["symptom_encrypted", "emotional_truth_encrypted"])
        _audit(actor, Entity.RECONSOLIDATION_WORK, work.pk, request)
    return work


def reconsolidation_step_add(
    *,
    actor: User,
    work: ReconsolidationWork,
    step: str,
    occurred_on: dt.date,
    text: str,
    now: dt.datetime | None = None,
    request: Any = None,
) -> ReconsolidationStep:
    """Record step B (retrieval), C (disconfirming knowledge) or D (a juxtaposition, which may
    repeat), in order: each needs the step before it, dated no earlier; B and C happen once. Refused,
    writing nothing: anyone but the treating therapist, a step out of order, a date in the future or
    before the episode or the step before, missing or over-long text."""
    now = now or clock.now()
    episode = _check_write(actor, work.episode, "reconsolidation-step")
    clean = _texts({"text": text}, ("text",))["text"]
    _check_date(episode, "occurred_on", occurred_on, now)
    with transaction.atomic(durable=True):
        ReconsolidationWork.objects.select_for_update().filter(pk=work.pk).first()
        done = list(ReconsolidationStep.objects.filter(work=work).values_list("step", "occurred_on"))
        try:
            check_step(step, done, occurred_on)
        except DateOrderError as exc:
            raise ValidationError({"occurred_on": str(exc)}) from exc
        except OrderError as exc:
            raise ValidationError({"step": str(exc)}) from exc
        number = ReconsolidationStep.objects.filter(work=work).count() + 1
        row = ReconsolidationStep(
            work=work, number=number, step=step, occurred_on=occurred_on, recorded_by=actor, recorded_at=now
        )
        row.seal(clean)
        row.save()
        _audit(actor, Entity.RECONSOLIDATION_STEP, row.pk, request)
    return row


def marker_check_add(
    *,
    actor: User,
    work: ReconsolidationWork,
    occasion: str,
    checked_on: dt.date,
    results: Mapping[str, str],
    note: str = "",
    now: dt.datetime | None = None,
    request: Any = None,
) -> MarkerCheck:
    """Step E: the three verification markers checked on one occasion (a later session, repeatable,
    or the 3/6/12-month follow-up, once each, from EARLY_WINDOW before its date), each yes / partly /
    no / not checked. Refused, writing nothing: anyone but the treating therapist, no juxtaposition yet,
    a date before the first juxtaposition or in the future, an unknown occasion or result."""
    now = now or clock.now()
    _check_write(actor, work.episode, "marker-check")
    if occasion not in OCCASION_IDS:
        raise ValidationError({"occasion": UNKNOWN_OCCASION})
    bad = [m for m in MARKER_IDS if results.get(m) not in RESULT_IDS]
    if bad:
        raise ValidationError({m: UNKNOWN_RESULT for m in bad})
    clean = _texts({"note": note}, ())["note"]
    if checked_on > timezone.localdate(now):
        raise ValidationError({"checked_on": IN_FUTURE})
    label = dict(OCCASIONS)[occasion]
    with transaction.atomic(durable=True):
        ReconsolidationWork.objects.select_for_update().filter(pk=work.pk).first()
        dates = sorted(
            ReconsolidationStep.objects.filter(work=work, step=JUXTAPOSITION).values_list(
                "occurred_on", flat=True
            )
        )
        if not dates:
            raise ValidationError(NO_JUXTAPOSITION)
        if checked_on < dates[0]:
            raise ValidationError({"checked_on": BEFORE_JUXTAPOSITION.format(on=dates[0])})
        if occasion != LATER_SESSION:
            due = follow_up_due(dates[-1], occasion)
            if checked_on < due - EARLY_WINDOW:
                raise ValidationError(
                    {"checked_on": TOO_EARLY.format(label=label, due=due, earliest=due - EARLY_WINDOW)}
                )
            if MarkerCheck.objects.filter(work=work, occasion=occasion).exists():
                raise ValidationError({"occasion": ALREADY_CHECKED.format(label=label)})
        number = MarkerCheck.objects.filter(work=work).count() + 1
        row = MarkerCheck(
            work=work,
            number=number,
            occasion=occasion,
            checked_on=checked_on,
            recorded_by=actor,
            recorded_at=now,
            **{m: results[m] for m in MARKER_IDS},
        )
        row.seal(clean)
        row.save()
        _audit(actor, Entity.MARKER_CHECK, row.pk, request)
    return row
