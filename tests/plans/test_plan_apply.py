"""plan_apply: the plan's questionnaires assigned once, overdue ones expired, one reminder each at a
sensible local hour; and `spacebetween worker --once` running it with the risk escalation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError

from spacebetween.accounts.models import User
from spacebetween.answering import services as answering
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Episode, Session
from spacebetween.core.schedule import PlanRow, When
from spacebetween.measures.models import (
    Assignment,
    AssignmentReminder,
    AssignmentStatus,
    MeasurementPlan,
    PlannedMeasure,
)
from spacebetween.measures.selectors import DEFAULT_PLAN
from spacebetween.notifications.models import OutboxMessage
from spacebetween.plans import services as plans
from spacebetween.practice.models import Practice
from spacebetween.safety.models import RiskFlag
from tests.conftest import FakeClock
from tests.notifications.conftest import free_port

UTC = dt.UTC
# The fixture episode starts 1 Sep 2026 (Europe/London); its session is 8 Sep 10:00 UTC (11:00 BST),
# so its questionnaires are due from 6 Sep 10:00 UTC and intake from 1 Sep 08:00 UTC (09:00 BST).
NOW = dt.datetime(2026, 9, 7, 12, 0, tzinfo=UTC)


def keys(episode: Episode) -> set[tuple[str, str, str]]:
    return set(
        PlannedMeasure.objects.filter(episode=episode).values_list("instrument_id", "reason", "occasion")
    )


# ------------------------------------------------------------------------------ assigning


def test_it_assigns_what_the_default_plan_makes_due(episode: Episode, session: Session, alice: User) -> None:
    run = plans.plan_apply(now=NOW)
    assert run.assigned == 4
    occasion = str(session.pk)
    assert keys(episode) == {
        ("phq9", "intake", ""),
        ("gad7", "intake", ""),
        ("phq9", "session", occasion),
        ("gad7", "session", occasion),
    }
    phq9_session = PlannedMeasure.objects.get(instrument_id="phq9", reason="session").assignment
    assert (phq9_session.due_at, phq9_session.expires_at) == (
        dt.datetime(2026, 9, 6, 10, 0, tzinfo=UTC),
        dt.datetime(2026, 9, 9, 10, 0, tzinfo=UTC),
    )
    assert set(Assignment.objects.values_list("status", "created_by_id")) == {
        (AssignmentStatus.DUE, alice.pk)
    }
    audited = AuditEvent.objects.filter(entity_type="Assignment", action="C")
    assert (
        sorted(audited.values_list("detail", flat=True)) == ["planned-intake"] * 2 + ["planned-session"] * 2
    )


def test_the_episode_gets_a_copy_of_the_default_plan_on_first_use(episode: Episode) -> None:
    plans.plan_apply(now=NOW)
    plan = MeasurementPlan.objects.get(episode=episode)
    assert plan.items.count() == len(DEFAULT_PLAN) == 12
    assert set(plan.items.filter(when="follow_up").values_list("months", flat=True)) == {3, 6, 12}


def test_running_twice_assigns_nothing_new(episode: Episode, session: Session) -> None:
    plans.plan_apply(now=NOW)
    again = plans.plan_apply(now=NOW + dt.timedelta(minutes=1))
    assert (again.assigned, again.reminded) == (0, 0)
    assert Assignment.objects.count() == 4
    assert MeasurementPlan.objects.filter(episode=episode).count() == 1


def test_the_database_refuses_a_second_assignment_for_one_occasion(episode: Episode, alice: User) -> None:
    kw = {"actor": alice, "episode": episode, "instrument_id": "phq9", "due_at": NOW, "now": NOW}
    answering.assignment_create(**kw, planned=("intake", ""))  # type: ignore[arg-type]
    with pytest.raises(IntegrityError):
        answering.assignment_create(**kw, planned=("intake", ""))  # type: ignore[arg-type]
    assert Assignment.objects.count() == 1


def test_nothing_is_assigned_before_it_is_due(episode: Episode, session: Session) -> None:
    plans.plan_apply(now=dt.datetime(2026, 9, 1, 7, 59, tzinfo=UTC))  # 08:59 BST on the first day
    assert Assignment.objects.count() == 0


def test_the_episode_plan_decides_what_is_assigned(episode: Episode, session: Session, alice: User) -> None:
    plans.episode_plan_save(
        actor=alice, episode=episode, rows=[PlanRow("core10", When.EVERY_SESSION)], now=NOW
    )
    plans.plan_apply(now=NOW)
    assert keys(episode) == {("core10", "session", str(session.pk))}


def test_a_cancelled_session_asks_for_nothing(episode: Episode, session: Session, alice: User) -> None:
    clinical.session_update(
        actor=alice,
        session=session,
        starts_at=session.starts_at,
        duration_minutes=50,
        format="individual",
        attendance="cancelled",
        participants=[episode.client],
    )
    plans.plan_apply(now=NOW)
    assert {r for _, r, _ in keys(episode)} == {"intake"}


def test_an_ended_episode_gets_its_end_and_follow_up_measures(episode: Episode, alice: User) -> None:
    clinical.episode_close(
        actor=alice, episode=episode, ended_on=dt.date(2026, 9, 30), end_reason="completed"
    )
    plans.plan_apply(now=dt.datetime(2026, 9, 30, 8, 0, tzinfo=UTC))  # 09:00 BST on the last day
    assert keys(episode) == {("phq9", "end_of_episode", ""), ("gad7", "end_of_episode", "")}
    plans.plan_apply(now=dt.datetime(2026, 12, 30, 9, 0, tzinfo=UTC))  # 09:00 GMT, 3 months on
    follow_up = PlannedMeasure.objects.filter(reason="follow_up").order_by("instrument_id")
    assert list(follow_up.values_list("instrument_id", "occasion")) == [("gad7", "3"), ("phq9", "3")]


def test_it_runs_for_one_practice_only_when_asked(
    episode: Episode, session: Session, other_practice: Practice
) -> None:
    plans.plan_apply(now=NOW, practice=other_practice)
    assert Assignment.objects.count() == 0


def test_it_refuses_a_naive_now(episode: Episode) -> None:
    with pytest.raises(ValidationError):
        plans.plan_apply(now=dt.datetime(2026, 9, 7, 12, 0))


# ------------------------------------------------------------------------------ expiring


def test_an_overdue_assignment_is_expired_with_its_time(episode: Episode, alice: User) -> None:
    old = answering.assignment_create(
        actor=alice,
        episode=episode,
        instrument_id="phq9",
        due_at=NOW - dt.timedelta(days=8),
        now=NOW - dt.timedelta(days=8),
    )
    run = plans.plan_apply(now=NOW)
    old.refresh_from_db()
    assert run.expired == 1
    assert (old.status, old.expired_at) == (AssignmentStatus.EXPIRED, NOW)
    assert AuditEvent.objects.filter(
        entity_type="Assignment", entity_id=str(old.pk), detail="expired"
    ).exists()


def test_an_answered_assignment_is_never_expired(episode: Episode, alice: User) -> None:
    earlier = NOW - dt.timedelta(days=8)
    done = answering.assignment_create(
        actor=alice, episode=episode, instrument_id="gad7", due_at=earlier, now=earlier
    )
    answering.response_submit(
        assignment=done, answers={f"gad7_{i}": 1 for i in range(1, 8)}, via="link", now=earlier
    )
    plans.plan_apply(now=NOW)
    done.refresh_from_db()
    assert (done.status, done.expired_at) == (AssignmentStatus.ANSWERED, None)


# ------------------------------------------------------------------------------ reminders


def test_one_reminder_per_assignment_with_no_instrument_named(episode: Episode, session: Session) -> None:
    plans.plan_apply(now=NOW)  # 13:00 BST
    plans.plan_apply(now=NOW + dt.timedelta(hours=1))
    messages = OutboxMessage.objects.filter(kind="reminder")
    assert messages.count() == AssignmentReminder.objects.count() == 4
    assert set(messages.values_list("to_address", "not_before")) == {("carol@example.org", NOW)}
    for message in messages:
        text = f"{message.subject} {message.body()}".lower()
        assert not any(word in text for word in ("phq", "gad", "depression", "anxiety", "carol", "alice"))


def test_a_reminder_due_late_in_the_evening_waits_until_8_local(episode: Episode) -> None:
    evening = dt.datetime(2026, 9, 2, 20, 30, tzinfo=UTC)  # 21:30 BST
    plans.plan_apply(now=evening)
    assert set(OutboxMessage.objects.values_list("not_before", flat=True)) == {
        dt.datetime(2026, 9, 3, 7, 0, tzinfo=UTC)  # 08:00 BST
    }


def test_reminders_use_the_practice_time_zone(episode: Episode, practice: Practice) -> None:
    practice.time_zone = "America/New_York"
    practice.save(update_fields=["time_zone"])
    plans.plan_apply(now=dt.datetime(2026, 9, 2, 2, 0, tzinfo=UTC))  # 22:00 EDT on 1 Sep
    assert set(OutboxMessage.objects.values_list("not_before", flat=True)) == {
        dt.datetime(2026, 9, 2, 12, 0, tzinfo=UTC)  # 08:00 EDT
    }


def test_a_client_without_an_address_gets_no_reminder(episode: Episode, alice: User) -> None:
    client = episode.client
    clinical.client_update(actor=alice, client=client, email="")
    client.portal_user.email = ""  # type: ignore[union-attr]
    client.portal_user.save(update_fields=["email"])  # type: ignore[union-attr]
    run = plans.plan_apply(now=NOW)
    assert (run.assigned, run.reminded, OutboxMessage.objects.count()) == (2, 0, 0)


# ------------------------------------------------------------------------------ plans


def test_an_instrument_the_practice_does_not_use_is_refused_and_nothing_written(
    episode: Episode, alice: User
) -> None:
    with pytest.raises(ValidationError, match="wai-sr"):
        plans.episode_plan_save(
            actor=alice, episode=episode, rows=[PlanRow("phq9", When.INTAKE), PlanRow("wai-sr", When.INTAKE)]
        )
    assert MeasurementPlan.objects.count() == 0


def test_a_colleague_cannot_change_the_episode_plan(episode: Episode, bob: User) -> None:
    with pytest.raises(PermissionDenied):
        plans.episode_plan_save(actor=bob, episode=episode, rows=[])
    assert MeasurementPlan.objects.count() == 0


def test_a_therapist_cannot_change_the_practice_default(alice: User) -> None:
    with pytest.raises(PermissionDenied):
        plans.practice_plan_save(actor=alice, rows=[])
    assert MeasurementPlan.objects.count() == 0


def test_a_new_practice_default_is_copied_to_episodes_that_have_no_plan_yet(
    episode: Episode, session: Session, admin: User
) -> None:
    plans.practice_plan_save(actor=admin, rows=[PlanRow("who5", When.INTAKE)])
    plans.plan_apply(now=NOW)
    assert keys(episode) == {("who5", "intake", "")}


# ------------------------------------------------------------------------------ the worker


@pytest.fixture
def worker_clock(clock: FakeClock, settings: Any) -> None:
    clock.set(NOW)
    settings.EMAIL_PORT = free_port()  # nobody listens: the reminders stay queued
    settings.EMAIL_TIMEOUT = 2


def test_the_worker_once_assigns_the_plan(worker_clock: None, episode: Episode, session: Session) -> None:
    call_command("worker", "--once")
    assert Assignment.objects.count() == 4
    assert OutboxMessage.objects.filter(kind="reminder").count() == 4


def test_the_worker_once_escalates_an_overdue_risk_flag(
    worker_clock: None, episode: Episode, alice: User
) -> None:
    earlier = NOW - dt.timedelta(days=1)
    assignment = answering.assignment_create(
        actor=alice, episode=episode, instrument_id="phq9", due_at=earlier, now=earlier
    )
    answers = {f"phq9_{i}": 1 for i in range(1, 10)}
    answering.response_submit(assignment=assignment, answers=answers, via="link", now=earlier)
    call_command("worker", "--once")
    flag = RiskFlag.objects.get()
    assert flag.escalated_at == NOW
