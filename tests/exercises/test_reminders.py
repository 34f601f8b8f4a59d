"""Exercise reminders (exercises.reminders, run by `spacebetween worker`): one e-mail per due day of a
daily or weekly exercise, queued only from late afternoon and never inside the quiet hours, naming no
exercise; none once done, closed, or after the client withdrew consent to e-mail."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from spacebetween import crypto
from spacebetween.accounts.models import User
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Client, Episode
from spacebetween.consent.services import consent_record
from spacebetween.core import schedule
from spacebetween.exercises import reminders, services
from spacebetween.exercises.models import ExerciseAssignment, ExerciseReminder
from spacebetween.notifications.models import OutboxMessage
from spacebetween.notifications.services import body_context
from tests.conftest import FakeClock

pytestmark = pytest.mark.django_db

START = dt.date(2026, 10, 5)  # a Monday


def _local(episode: Episode, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return schedule.local_at(day, dt.time(hour, minute), episode.client.practice.time_zone)


def _set(alice: User, episode: Episode, frequency: str, days: int = 13) -> ExerciseAssignment:
    return services.exercise_assign(
        actor=alice,
        episode=episode,
        exercise="emotion-check-in",
        frequency=frequency,
        starts_on=START,
        ends_on=START + dt.timedelta(days=days),
        now=_local(episode, START, 9),
    )


def test_a_daily_exercise_gets_one_neutral_reminder_in_the_late_afternoon(
    alice: User, episode: Episode
) -> None:
    assignment = _set(alice, episode, "daily")
    assert reminders.reminders_queue_due(now=_local(episode, START, 12)) == 0  # too early in the day
    assert reminders.reminders_queue_due(now=_local(episode, START, 17, 30)) == 1
    assert reminders.reminders_queue_due(now=_local(episode, START, 18)) == 0  # at most one per due day
    message = OutboxMessage.objects.get()
    body = crypto.decrypt(message.body_text, context=body_context(message.message_id))
    assert message.to_address == "carol@example.org"
    assert message.subject == "You have something to do from your therapist"
    assert "/me/" in body and "Sign in" in body
    assert "Emotion" not in body + message.subject and "feeling" not in body.lower()
    assert message.not_before == _local(episode, START, 17, 30)
    assert ExerciseReminder.objects.get().due_on == START
    # The next day is a new due day.
    assert reminders.reminders_queue_due(now=_local(episode, START + dt.timedelta(days=1), 17)) == 1
    assert list(assignment.reminders.values_list("due_on", flat=True)) == [
        START + dt.timedelta(days=1),
        START,
    ]


def test_never_inside_the_quiet_hours(alice: User, episode: Episode) -> None:
    _set(alice, episode, "daily")
    late = _local(episode, START, 21, 30)
    assert schedule.reminder_at(late, episode.client.practice.time_zone) != late  # quiet hours
    assert reminders.reminders_queue_due(now=late) == 0
    assert reminders.reminders_queue_due(now=_local(episode, START + dt.timedelta(days=1), 6)) == 0
    assert not OutboxMessage.objects.exists()


def test_none_once_done_that_day(alice: User, episode: Episode, carol_user: User) -> None:
    assignment = _set(alice, episode, "daily")
    services.entry_record(
        actor=carol_user,
        assignment=assignment,
        answers={"feeling": "calm", "intensity": "20", "what_happened": "A walk"},
        now=_local(episode, START, 8, 30),
    )
    assert reminders.reminders_queue_due(now=_local(episode, START, 17)) == 0
    assert reminders.reminders_queue_due(now=_local(episode, START + dt.timedelta(days=1), 17)) == 1


def test_a_weekly_exercise_is_reminded_on_the_last_day_of_its_week_unless_done(
    alice: User, episode: Episode, carol_user: User
) -> None:
    assignment = _set(alice, episode, "weekly", days=9)
    for offset in range(6):
        assert reminders.reminders_queue_due(now=_local(episode, START + dt.timedelta(days=offset), 18)) == 0
    assert reminders.reminders_queue_due(now=_local(episode, START + dt.timedelta(days=6), 18)) == 1
    # Second week, cut short by the window's last day (day 9); done on day 8: no reminder.
    services.entry_record(
        actor=carol_user,
        assignment=assignment,
        answers={"feeling": "calm", "intensity": "20", "what_happened": "A walk"},
        now=_local(episode, START + dt.timedelta(days=8), 10),
    )
    assert reminders.reminders_queue_due(now=_local(episode, START + dt.timedelta(days=9), 18)) == 0
    assert list(assignment.reminders.values_list("due_on", flat=True)) == [START + dt.timedelta(days=6)]


def test_none_for_a_one_off_a_closed_exercise_or_an_ended_episode(alice: User, episode: Episode) -> None:
    once = _set(alice, episode, "once")
    stopped = _set(alice, episode, "daily")
    services.exercise_withdraw(actor=alice, assignment=stopped, now=_local(episode, START, 10))
    assert reminders.reminders_queue_due(now=_local(episode, START, 18)) == 0
    assert reminders.period_of(once, START) is None
    # After the window: nothing.
    daily = _set(alice, episode, "daily", days=1)
    assert reminders.reminders_queue_due(now=_local(episode, START + dt.timedelta(days=2), 18)) == 0
    assert reminders.reminders_queue_due(now=_local(episode, START + dt.timedelta(days=1), 18)) == 1
    clinical.episode_close(
        actor=alice, episode=episode, ended_on=START + dt.timedelta(days=1), end_reason="completed"
    )
    daily.refresh_from_db()
    assert reminders.reminders_queue_due(now=_local(episode, START + dt.timedelta(days=1), 19)) == 0
    assert OutboxMessage.objects.count() == 1


def test_none_after_the_client_withdrew_consent_to_email(
    alice: User, episode: Episode, client_record: Client
) -> None:
    _set(alice, episode, "daily")
    consent_record(actor=alice, client=client_record, purpose="email", given=False)
    assert reminders.reminders_queue_due(now=_local(episode, START, 18)) == 0
    consent_record(actor=alice, client=client_record, purpose="email", given=True)
    assert reminders.reminders_queue_due(now=_local(episode, START, 18)) == 1


def test_the_worker_queues_and_sends_them(
    alice: User, episode: Episode, clock: FakeClock, tmp_path: Path
) -> None:
    _set(alice, episode, "daily")
    clock.set(_local(episode, START, 17, 5))
    call_command("worker", "--once", "--mail-folder", str(tmp_path), stdout=io.StringIO())
    assert ExerciseReminder.objects.get().due_on == START
    assert OutboxMessage.objects.get().status == "sent"
    assert "You have something to do from your therapist" in "".join(
        f.read_text() for f in tmp_path.iterdir()
    )
