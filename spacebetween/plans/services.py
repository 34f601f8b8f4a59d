"""Measurement plans: what an episode asks for and when, and `plan_apply`, run every minute by
`spacebetween worker`."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import astuple, dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q, QuerySet

from spacebetween import clock
from spacebetween.accounts.models import Role, User
from spacebetween.answering.services import (
    OPEN_STATUSES,
    assignment_create,
    aware,
    require_episode_writer,
)
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record, record_system
from spacebetween.clients.models import Attendance, Episode, Session
from spacebetween.consent.selectors import email_allowed, without_measurement_withdrawn
from spacebetween.core import schedule
from spacebetween.core.schedule import Key, PlanRow, Reason, SessionSlot
from spacebetween.measures import selectors
from spacebetween.measures.models import (
    Assignment,
    AssignmentReminder,
    AssignmentStatus,
    MeasurementPlan,
    MeasurementPlanItem,
)
from spacebetween.notifications.services import outbox_enqueue
from spacebetween.practice.models import Practice

logger = logging.getLogger(__name__)

# ------------------------------------------------------------------------------ measurement plans
#
# A practice's default plan (its admin's), each episode's own copy (its therapist's), and
# `plan_apply`, run every minute by `spacebetween worker`: it assigns what the plan makes due
# (core.schedule computes when), expires what was not answered in time, and queues one reminder
# e-mail per open questionnaire, outside the quiet hours of the practice's time zone.

PLAN_ADMIN_ONLY = "Only the practice admin can change the practice's default measurement plan."
PLAN_THERAPIST_ONLY = "Only the episode's therapist can change its measurement plan."
PLAN_INSTRUMENT_NOT_AVAILABLE = "{id!r} is not an instrument this practice uses."

# Minimal PHI (docs/notifications.md): no instrument name, therapist or practice detail.
REMINDER_SUBJECT = "A questionnaire is waiting for you"
REMINDER_BODY = (
    "Your therapist has asked you to answer a short questionnaire in Space Between. Sign in to answer it."
)
REMINDER_KIND = "reminder"

# Ended episodes are still looked at until their last follow-up has expired.
FOLLOW_UP_LOOKBACK = dt.timedelta(days=366 + 31) + schedule.FOLLOW_UP_OPEN


def _plan_rows_checked(rows: list[PlanRow], practice: Practice) -> list[PlanRow]:
    available = selectors.instruments_for(practice)
    for row in rows:
        if row.instrument_id not in available:
            raise ValidationError(PLAN_INSTRUMENT_NOT_AVAILABLE.format(id=row.instrument_id))
    return sorted(set(rows))


def _plan_replace(plan: MeasurementPlan, rows: list[PlanRow]) -> None:
    plan.items.all().delete()
    MeasurementPlanItem.objects.bulk_create(
        MeasurementPlanItem(
            plan=plan, instrument_id=row.instrument_id, when=str(row.when), every_n=row.n, months=row.months
        )
        for row in rows
    )


def _plan_save(
    *,
    actor: User,
    found: QuerySet[MeasurementPlan],
    new: MeasurementPlan,
    rows: list[PlanRow],
    now: dt.datetime,
    purpose: Purpose,
    detail: str,
    request: Any,
) -> MeasurementPlan:
    """Replace the rows of the plan `found` (locked), or of `new` when there is none yet, with its
    audit row, in one durable transaction."""
    with transaction.atomic(durable=True):
        plan = found.select_for_update().first() or new
        plan.updated_by, plan.updated_at = actor, now
        plan.save()
        _plan_replace(plan, rows)
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type=Entity.MEASUREMENT_PLAN,
            entity_id=plan.pk,
            purpose=purpose,
            request=request,
            detail=detail,
        )
    return plan


def practice_plan_save(
    *, actor: User, rows: list[PlanRow], now: dt.datetime | None = None, request: Any = None
) -> MeasurementPlan:
    """Replace the practice's default plan, which episodes copy on first use."""
    if actor.role != Role.ADMIN:
        raise PermissionDenied(PLAN_ADMIN_ONLY)
    return _plan_save(
        actor=actor,
        found=MeasurementPlan.objects.filter(practice_id=actor.practice_id, episode__isnull=True),
        new=MeasurementPlan(practice_id=actor.practice_id),
        rows=_plan_rows_checked(rows, actor.practice),
        now=now or clock.now(),
        purpose=Purpose.OPERATIONS,
        detail="practice-default",
        request=request,
    )


def episode_plan_save(
    *,
    actor: User,
    episode: Episode,
    rows: list[PlanRow],
    now: dt.datetime | None = None,
    request: Any = None,
) -> MeasurementPlan:
    """Replace one episode's plan. Questionnaires already assigned stay as they are."""
    require_episode_writer(actor, episode, detail="change-measurement-plan", refusal=PLAN_THERAPIST_ONLY)
    return _plan_save(
        actor=actor,
        found=MeasurementPlan.objects.filter(episode=episode),
        new=MeasurementPlan(practice_id=episode.client.practice_id, episode=episode),
        rows=_plan_rows_checked(rows, episode.client.practice),
        now=now or clock.now(),
        purpose=Purpose.TREATMENT,
        detail=f"episode-{episode.pk}",
        request=request,
    )


def _episode_plan_ensure(episode: Episode, default: list[PlanRow], now: dt.datetime) -> list[PlanRow]:
    """The episode's plan, copied from the practice default the first time it is needed."""
    try:
        return selectors.plan_rows(episode.measurement_plan)
    except MeasurementPlan.DoesNotExist:
        pass
    try:
        with transaction.atomic(durable=True):
            plan = MeasurementPlan.objects.create(
                practice_id=episode.client.practice_id, episode=episode, updated_at=now
            )
            _plan_replace(plan, default)
            record_system(
                action=Action.CREATE,
                entity_type=Entity.MEASUREMENT_PLAN,
                entity_id=plan.pk,
                practice_id=episode.client.practice_id,
                detail="copied-default",
            )
    except IntegrityError:  # another worker copied it first
        return selectors.episode_plan_rows(episode)
    return default


@dataclass(frozen=True)
class PlanRun:
    """Counts only (they are logged)."""

    assigned: int = 0
    expired: int = 0
    reminded: int = 0
    skipped: int = 0  # occasions that could not be assigned, e.g. an instrument no longer in use


def plan_apply(*, now: dt.datetime, practice: Practice | None = None) -> PlanRun:
    """Bring every open (or recently ended) episode up to date with its plan; idempotent, and safe to
    run from several workers at once. On behalf of each episode's therapist, who is recorded as the
    assignment's creator; expiries and reminders are audited as the system's."""
    aware(now, "now")
    expired = _expire_overdue(now=now, practice=practice)
    assigned, skipped = _assign_planned(now=now, practice=practice)
    reminded = _queue_reminders(now=now, practice=practice)
    run = PlanRun(assigned=assigned, expired=expired, reminded=reminded, skipped=skipped)
    if run != PlanRun():
        logger.info("plan: %d assigned, %d expired, %d reminders, %d skipped", *astuple(run))
    return run


def _in_practice(practice: Practice | None, prefix: str = "episode__") -> Q:
    return Q() if practice is None else Q(**{f"{prefix}client__practice_id": practice.pk})


def _expire_overdue(*, now: dt.datetime, practice: Practice | None) -> int:
    overdue = Assignment.objects.filter(_in_practice(practice), status__in=OPEN_STATUSES, expires_at__lte=now)
    count = 0
    for pk, practice_id in overdue.values_list("pk", "episode__client__practice_id"):
        with transaction.atomic(durable=True):
            # Conditional: an answer or another worker may have got there first.
            changed = Assignment.objects.filter(pk=pk, status__in=OPEN_STATUSES, expires_at__lte=now).update(
                status=AssignmentStatus.EXPIRED, expired_at=now
            )
            if changed:
                record_system(
                    action=Action.UPDATE,
                    entity_type=Entity.ASSIGNMENT,
                    entity_id=pk,
                    practice_id=practice_id,
                    detail="expired",
                )
                count += 1
    return count


def _assign_planned(*, now: dt.datetime, practice: Practice | None) -> tuple[int, int]:
    episodes = (
        Episode.objects.filter(
            _in_practice(practice, prefix=""),
            Q(ended_on__isnull=True) | Q(ended_on__gte=(now - FOLLOW_UP_LOOKBACK).date()),
            therapist__role__in=(Role.THERAPIST, Role.SUPERVISOR),
        )
        .select_related("client__practice", "therapist", "measurement_plan")
        .prefetch_related(
            "measurement_plan__items",
            "planned_measures",
            Prefetch("sessions", queryset=Session.objects.exclude(attendance=Attendance.CANCELLED)),
        )
        .order_by("pk")
    )
    episodes = without_measurement_withdrawn(episodes)  # a client who withdrew is asked nothing more
    defaults: dict[int, list[PlanRow]] = {}
    assigned = skipped = 0
    for episode in episodes:
        practice_ = episode.client.practice
        if practice_.pk not in defaults:
            defaults[practice_.pk] = selectors.practice_plan_rows(practice_)
        rows = _episode_plan_ensure(episode, defaults[practice_.pk], now)
        sessions = {str(s.pk): s for s in episode.sessions.all()}
        dues = schedule.due_now(
            rows=rows,
            started_on=episode.started_on,
            ended_on=episode.ended_on,
            sessions=[_slot(key, s) for key, s in sessions.items()],
            existing={
                Key(p.instrument_id, Reason(p.reason), p.occasion) for p in episode.planned_measures.all()
            },
            now=now,
            time_zone=practice_.time_zone,
        )
        for due in dues:
            session = sessions.get(due.occasion) if due.reason in SESSION_REASONS else None
            if session is not None and due.reason == Reason.SESSION and session.starts_at <= now:
                # Recorded after it happened (or the worker was down until it began): a "before
                # session" questionnaire would be asked after the session; it is not asked at all.
                continue
            try:
                assignment_create(
                    actor=episode.therapist,
                    episode=episode,
                    instrument_id=due.instrument_id,
                    due_at=due.due_at,
                    expires_at=due.expires_at,
                    now=now,
                    planned=(str(due.reason), due.occasion),
                    session=session,
                )
            except IntegrityError:  # another worker assigned this occasion first
                continue
            except (ValidationError, PermissionDenied):
                skipped += 1
                continue
            assigned += 1
    return assigned, skipped


SESSION_REASONS = (Reason.SESSION, Reason.AFTER_SESSION)


def _slot(key: str, session: Session) -> SessionSlot:
    """A session as the schedule sees it: when it starts and ends, and whether the client missed it
    (then nothing is asked about it afterwards)."""
    return SessionSlot(
        key,
        session.starts_at,
        ends_at=session.starts_at + dt.timedelta(minutes=session.duration_minutes),
        missed=session.attendance == Attendance.DID_NOT_ATTEND,
    )


def _queue_reminders(*, now: dt.datetime, practice: Practice | None) -> int:
    """One sign-in reminder per open questionnaire of a client with a portal login, once it is due,
    sent outside the quiet hours. Clients without a login get a one-time link instead
    (delivery.services.links_send_due)."""
    waiting = Assignment.objects.filter(
        _in_practice(practice),
        episode__client__portal_user__isnull=False,
        status__in=OPEN_STATUSES,
        due_at__lte=now,
        expires_at__gt=now,
        reminder__isnull=True,
    ).select_related("episode__client__practice", "episode__client__portal_user")
    count = 0
    for assignment in waiting:
        client = assignment.episode.client
        address = client.email or client.portal_user.email  # type: ignore[union-attr]
        send_at = schedule.reminder_at(now, client.practice.time_zone)
        if not address or send_at >= assignment.expires_at or not email_allowed(client):
            continue
        try:
            with transaction.atomic(durable=True):
                reminder = AssignmentReminder.objects.create(
                    assignment=assignment, queued_at=now, send_at=send_at
                )
                outbox_enqueue(
                    practice_id=client.practice_id,
                    to_address=address,
                    subject=REMINDER_SUBJECT,
                    body_text=REMINDER_BODY,
                    kind=REMINDER_KIND,
                    not_before=send_at,
                )
                record_system(
                    action=Action.CREATE,
                    entity_type=Entity.ASSIGNMENT_REMINDER,
                    entity_id=reminder.pk,
                    practice_id=client.practice_id,
                    detail="queued",
                )
        except IntegrityError:  # another worker queued it first
            continue
        except ValueError:  # an address the outbox refuses; left for the therapist to correct
            logger.warning("reminder for assignment %s not queued: unusable address", assignment.pk)
            continue
        count += 1
    return count
