"""Reminders for exercises set with a frequency, run every minute by `spacebetween worker` (beside the
questionnaire reminders of `plans.services.plan_apply`). docs/between-sessions.md describes the rules.

A daily exercise is due every day of its window, a weekly one on the last day of each week counted
from its first day (or on its last day, when the window ends mid-week). On a due day, from
`REMIND_FROM` in the practice's time zone and outside the quiet hours (core.schedule: 21:00 to 08:00),
the client gets one e-mail, unless they already did the exercise that day (that week), it is closed
(stopped, past its window, the episode ended), they have no portal login or withdrew consent to
e-mail. The e-mail names no exercise: "You have something to do from your therapist", and the portal
link (minimal PHI, docs/notifications.md).
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from spacebetween.audit.models import Action, Entity
from spacebetween.audit.services import record_system
from spacebetween.consent.selectors import email_allowed
from spacebetween.core import schedule
from spacebetween.exercises.models import ExerciseAssignment, ExerciseReminder, Frequency
from spacebetween.notifications.services import outbox_enqueue

logger = logging.getLogger(__name__)

# Late afternoon: the day is left for doing it unprompted, and the e-mail still arrives before the
# quiet hours. One per due day at most: a reminder, not a nag (the project's choice; between-session
# practice is worth prompting, Kazantzis, Whittington & Dattilio 2010, but only the client decides).
REMIND_FROM = dt.time(17, 0)
REMINDER_SUBJECT = "You have something to do from your therapist"
REMINDER_KIND = "exercise-reminder"
WEEK = 7


def reminder_body() -> str:
    link = settings.SITE_URL.rstrip("/") + reverse("portal")
    return (
        "You have something to do from your therapist in Space Between. "
        f"Sign in to see it: {link}\n\n"
        "If you have already done it, you can ignore this e-mail."
    )


def period_of(assignment: ExerciseAssignment, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """(first day, due day) of the period `today` falls in, or None when no reminder is due today."""
    if not assignment.starts_on <= today <= assignment.ends_on:
        return None
    if assignment.frequency == Frequency.DAILY:
        return today, today
    if assignment.frequency == Frequency.WEEKLY:
        first = assignment.starts_on + dt.timedelta(days=WEEK * ((today - assignment.starts_on).days // WEEK))
        due = min(first + dt.timedelta(days=WEEK - 1), assignment.ends_on)
        return (first, due) if due == today else None
    return None  # a one-off exercise is asked for once, on the portal page, with no reminder


def _candidates() -> list[ExerciseAssignment]:
    return list(
        ExerciseAssignment.objects.filter(
            frequency__in=[Frequency.DAILY, Frequency.WEEKLY],
            withdrawn_at__isnull=True,
            episode__ended_on__isnull=True,
            episode__client__portal_user__isnull=False,
        ).select_related("episode__client__practice", "episode__client__portal_user")
    )


def reminders_queue_due(*, now: dt.datetime) -> int:
    """Queue today's exercise reminders that are due and not yet queued; returns how many."""
    count = 0
    for assignment in _candidates():
        client = assignment.episode.client
        time_zone = client.practice.time_zone
        local = now.astimezone(zoneinfo.ZoneInfo(time_zone))
        period = period_of(assignment, local.date())
        if period is None or local.time() < REMIND_FROM:
            continue
        first, due = period
        send_at = schedule.reminder_at(now, time_zone)
        if send_at.astimezone(zoneinfo.ZoneInfo(time_zone)).date() != due:
            continue  # the due day's quiet hours have begun: no reminder for a day that is over
        since = schedule.local_at(first, dt.time(0, 0), time_zone)
        if assignment.entries.filter(recorded_at__gte=since).exists():
            continue
        if assignment.reminders.filter(due_on=due).exists() or not email_allowed(client):
            continue
        address = client.email or client.portal_user.email  # type: ignore[union-attr]
        if not address:
            continue
        try:
            with transaction.atomic(durable=True):
                reminder = ExerciseReminder.objects.create(
                    assignment=assignment, due_on=due, queued_at=now, send_at=send_at
                )
                outbox_enqueue(
                    practice_id=client.practice_id,
                    to_address=address,
                    subject=REMINDER_SUBJECT,
                    body_text=reminder_body(),
                    kind=REMINDER_KIND,
                    not_before=send_at,
                )
                record_system(
                    action=Action.CREATE,
                    entity_type=Entity.EXERCISE_ASSIGNMENT,
                    entity_id=assignment.pk,
                    practice_id=client.practice_id,
                    detail=f"reminder {reminder.pk} queued",
                )
        except IntegrityError:  # another worker queued it first
            continue
        except ValueError:  # an address the outbox refuses; left for the therapist to correct
            logger.warning("reminder for exercise %s not queued: unusable address", assignment.pk)
            continue
        count += 1
    return count
