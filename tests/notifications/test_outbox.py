"""The outbox services and `spacebetween worker --once`, in the test's own database and time."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

import pytest
from django.core.mail.backends.smtp import EmailBackend
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from spacebetween.audit.models import AuditEvent, Outcome
from spacebetween.notifications import services
from spacebetween.notifications.models import OutboxMessage, Status
from spacebetween.notifications.services import (
    MAX_ATTEMPTS,
    _claim_ids,
    backoff,
    outbox_claim,
    outbox_enqueue,
    outbox_send_one,
)
from spacebetween.practice.models import Practice

if TYPE_CHECKING:
    from conftest import SmtpSink

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(minutes=5)
SUBJECT = "You have a new alert in Space Between"
BODY = "You have a new alert in Space Between. Sign in to see it."


class Rollback(Exception):
    pass


def enqueue(practice: Practice, *, not_before: dt.datetime | None = T0) -> OutboxMessage:
    return outbox_enqueue(
        practice_id=practice.pk,
        to_address="alice@example.org",
        subject=SUBJECT,
        body_text=BODY,
        kind="alert",
        not_before=not_before,
    )


def smtp() -> EmailBackend:
    return EmailBackend(fail_silently=False)


def test_a_message_of_a_rolled_back_change_is_never_sent(practice: Practice, smtp_sink: SmtpSink) -> None:
    with pytest.raises(Rollback), transaction.atomic():
        enqueue(practice, not_before=None)
        raise Rollback
    call_command("worker", "--once")
    assert OutboxMessage.objects.count() == 0
    assert smtp_sink.envelopes == []


def test_the_worker_sends_a_due_message_exactly_once(
    practice: Practice,
    smtp_sink: SmtpSink,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    message = enqueue(practice, not_before=None)
    with caplog.at_level(logging.INFO):
        call_command("worker", "--once")
        call_command("worker", "--once")
    assert len(smtp_sink.envelopes) == 1
    assert smtp_sink.envelopes[0].rcpt_tos == ["alice@example.org"]
    assert smtp_sink.sink.message_ids() == [message.message_id]
    message.refresh_from_db()
    assert (message.status, message.attempts, message.lease_until) == (Status.SENT, 1, None)
    assert message.sent_at is not None
    # Counts only: no address, subject or body in what the worker writes or logs.
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("spacebetween")]
    written = capsys.readouterr().out + "\n".join(ours)
    assert "1 sent" in written and ours
    for secret in ("alice", "example.org", "alert in Space Between", message.message_id):
        assert secret not in written


def test_a_message_is_not_sent_before_its_time(practice: Practice, smtp_sink: SmtpSink) -> None:
    enqueue(practice, not_before=timezone.now() + dt.timedelta(hours=1))
    call_command("worker", "--once")
    assert smtp_sink.envelopes == []
    assert OutboxMessage.objects.get().status == Status.PENDING


def test_an_smtp_outage_delays_the_message_and_then_it_is_sent(
    practice: Practice, smtp_down: SmtpSink
) -> None:
    message = enqueue(practice)
    [claimed] = outbox_claim(worker_id="w1", now=T0, lease=LEASE)
    assert outbox_send_one(claimed, smtp(), now=T0).retry
    message.refresh_from_db()
    assert (message.status, message.attempts, message.claimed_by) == (Status.PENDING, 1, "")
    assert message.not_before == T0 + dt.timedelta(minutes=1)
    assert message.last_error == "ConnectionRefusedError"
    # Still down a minute later: the second wait is twice as long.
    [claimed] = outbox_claim(worker_id="w1", now=T0 + dt.timedelta(minutes=1), lease=LEASE)
    outbox_send_one(claimed, smtp(), now=T0 + dt.timedelta(minutes=1))
    message.refresh_from_db()
    assert (message.attempts, message.not_before) == (2, T0 + dt.timedelta(minutes=3))
    assert outbox_claim(worker_id="w1", now=T0 + dt.timedelta(minutes=2), lease=LEASE) == []

    smtp_down.start()
    later = T0 + dt.timedelta(minutes=3)
    [claimed] = outbox_claim(worker_id="w1", now=later, lease=LEASE)
    assert outbox_send_one(claimed, smtp(), now=later).sent
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (Status.SENT, 3, "")
    assert smtp_down.sink.message_ids() == [message.message_id]


def test_backoff_doubles_from_one_minute_up_to_an_hour() -> None:
    minutes = [backoff(n) / dt.timedelta(minutes=1) for n in range(1, 10)]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_it_gives_up_after_max_attempts_keeps_the_row_and_audits(
    practice: Practice, smtp_down: SmtpSink
) -> None:
    message = enqueue(practice)
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=MAX_ATTEMPTS - 1)
    [claimed] = outbox_claim(worker_id="w1", now=T0, lease=LEASE)
    assert outbox_send_one(claimed, smtp(), now=T0).failed
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.FAILED, MAX_ATTEMPTS)
    assert outbox_claim(worker_id="w1", now=T0 + dt.timedelta(days=30), lease=LEASE) == []
    event = AuditEvent.objects.get(entity_type="OutboxMessage", entity_id=str(message.pk))
    assert (event.outcome, event.practice_id) == (Outcome.SERIOUS_FAILURE, practice.pk)
    assert "alice" not in event.detail


def test_a_claimed_message_is_not_claimed_again_while_its_lease_runs(practice: Practice) -> None:
    enqueue(practice)
    assert len(outbox_claim(worker_id="w1", now=T0, lease=LEASE)) == 1
    assert outbox_claim(worker_id="w2", now=T0 + LEASE - dt.timedelta(seconds=1), lease=LEASE) == []


def test_an_expired_lease_is_claimed_by_another_worker(practice: Practice) -> None:
    message = enqueue(practice)
    outbox_claim(worker_id="w1", now=T0, lease=LEASE)
    [again] = outbox_claim(worker_id="w2", now=T0 + LEASE + dt.timedelta(seconds=1), lease=LEASE)
    assert (again.pk, again.claimed_by, again.attempts) == (message.pk, "w2", 2)


def test_a_worker_that_lost_its_lease_does_not_send(practice: Practice, smtp_sink: SmtpSink) -> None:
    enqueue(practice)
    [stale] = outbox_claim(worker_id="w1", now=T0, lease=LEASE)
    later = T0 + LEASE + dt.timedelta(seconds=1)
    [fresh] = outbox_claim(worker_id="w2", now=later, lease=LEASE)
    assert outbox_send_one(stale, smtp(), now=later).skipped
    assert outbox_send_one(fresh, smtp(), now=later).sent
    assert len(smtp_sink.envelopes) == 1


def test_a_sent_message_is_never_claimed_again(practice: Practice, smtp_sink: SmtpSink) -> None:
    message = enqueue(practice)
    [claimed] = outbox_claim(worker_id="w1", now=T0, lease=LEASE)
    outbox_send_one(claimed, smtp(), now=T0)
    # Even with a lease that has long run out, sent is final.
    OutboxMessage.objects.filter(pk=message.pk).update(lease_until=T0)
    assert outbox_claim(worker_id="w2", now=T0 + dt.timedelta(days=1), lease=LEASE) == []
    call_command("worker", "--once")
    assert len(smtp_sink.envelopes) == 1


def test_of_two_workers_with_the_same_candidates_only_one_claims(practice: Practice) -> None:
    ids = [enqueue(practice).pk for _ in range(3)]
    # Both picked the same due rows; the second conditional UPDATE finds them no longer claimable.
    assert _claim_ids(ids=ids, worker_id="w1", now=T0, lease=LEASE) == 3
    assert _claim_ids(ids=ids, worker_id="w2", now=T0, lease=LEASE) == 0
    assert set(OutboxMessage.objects.values_list("claimed_by", flat=True)) == {"w1"}


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("to_address", "not an address", services.ERROR_BAD_ADDRESS),
        ("subject", "Line one\nBcc: someone@example.org", services.ERROR_BAD_SUBJECT),
        ("kind", "an alert!", services.ERROR_BAD_KIND),
    ],
)
def test_it_refuses_a_malformed_message(practice: Practice, field: str, value: str, error: str) -> None:
    fields: dict[str, Any] = {
        "to_address": "alice@example.org",
        "subject": SUBJECT,
        "kind": "alert",
        field: value,
    }
    with pytest.raises(ValueError, match=error):
        outbox_enqueue(practice_id=practice.pk, body_text=BODY, **fields)
    assert OutboxMessage.objects.count() == 0


def test_the_body_is_encrypted_at_rest_and_emptied_once_sent(practice: Practice, smtp_sink: SmtpSink) -> None:
    message = enqueue(practice, not_before=None)
    raw = OutboxMessage.objects.values_list("body_text", flat=True).get(pk=message.pk)
    assert raw and "Sign in" not in raw, "a body (which may hold a one-time link) is never stored in clear"
    assert message.body() == BODY
    call_command("worker", "--once")
    assert BODY.split(".")[0] in smtp_sink.envelopes[0].content.decode()
    message.refresh_from_db()
    assert (message.status, message.body_text, message.body()) == (Status.SENT, "", "")
