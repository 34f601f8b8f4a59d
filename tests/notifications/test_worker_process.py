"""`spacebetween worker` as real processes on a shared database: killed mid-send, stopped, racing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import SmtpSink, WorkerDb

ENQUEUE = """
from django.db import transaction
from spacebetween.notifications.services import outbox_enqueue
from spacebetween.practice.services import practice_create
with transaction.atomic():
    practice = practice_create(name="Riverside Therapy")
    result = [
        outbox_enqueue(practice_id=practice.pk, to_address=f"client{{i}}@example.org", kind="reminder",
                       subject="A questionnaire is waiting for you", body_text="Sign in to Space Between.").pk
        for i in range({n})
    ]
"""

STATE = """
from spacebetween.notifications.models import OutboxMessage
result = list(OutboxMessage.objects.order_by("pk").values("status", "attempts", "claimed_by", "message_id"))
"""

# Polls inside one process (no interpreter start per poll) until the message is claimed, then waits
# until its lease has run out when asked.
WAIT_FOR = """
import time
from django.utils import timezone
from spacebetween.notifications.models import OutboxMessage
deadline = time.monotonic() + 60
while OutboxMessage.objects.filter(status="{status}").count() < {count} and time.monotonic() < deadline:
    time.sleep(0.05)
result = list(OutboxMessage.objects.values_list("status", flat=True))
if {until_lease_expired}:
    lease = max(OutboxMessage.objects.values_list("lease_until", flat=True))
    while timezone.now() <= lease:
        time.sleep(0.05)
"""

CLAIMER = """
import sys, time
from django.utils import timezone
from spacebetween.notifications.models import OutboxMessage
from spacebetween.notifications.services import outbox_claim
import pathlib
OutboxMessage.objects.exists()  # connect before the start, so that all four begin together
# A barrier, not a clock: on a loaded machine Django's start-up can take longer than any fixed delay.
barrier, me = pathlib.Path(sys.argv[1]), sys.argv[2]
(barrier / me).touch()
deadline = time.time() + 60
while len(list(barrier.iterdir())) < 4 and time.time() < deadline:
    time.sleep(0.001)
result, empty = [], 0
while empty < 3:
    claimed = outbox_claim(worker_id=sys.argv[2], now=timezone.now(), limit=1)
    result += [m.pk for m in claimed]
    empty = 0 if claimed else empty + 1
    time.sleep(0.02)  # SQLite's busy handler backs off; a pause lets the others have their turn
"""


def _stop(proc: subprocess.Popen[str], sig: int = signal.SIGKILL) -> str:
    proc.send_signal(sig)
    try:
        output, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
    return output


def test_a_killed_worker_loses_nothing_and_a_sent_message_is_not_sent_again(
    worker_db: WorkerDb, smtp_silent: int, smtp_sink: SmtpSink
) -> None:
    [pk] = worker_db.python(ENQUEUE.format(n=1))
    # The first worker claims the message and hangs waiting for a server that never answers.
    first = worker_db.popen(
        "worker", "--lease", "2", "--interval", "0.1", EMAIL_PORT=str(smtp_silent), EMAIL_TIMEOUT="60"
    )
    try:
        assert worker_db.python(WAIT_FOR.format(status="sending", count=1, until_lease_expired=False)) == [
            "sending"
        ]
    finally:
        _stop(first, signal.SIGKILL)
    assert first.returncode == -signal.SIGKILL
    [row] = worker_db.python(STATE)
    assert (row["status"], row["attempts"]) == ("sending", 1)

    worker_db.python(WAIT_FOR.format(status="sending", count=1, until_lease_expired=True))
    second = worker_db.run("worker", "--once", EMAIL_PORT=str(smtp_sink.port))
    assert second.returncode == 0, second.stderr[-3000:]
    [row] = worker_db.python(STATE)
    assert (row["status"], row["attempts"]) == ("sent", 2)
    assert smtp_sink.sink.message_ids() == [row["message_id"]]

    third = worker_db.run("worker", "--once", EMAIL_PORT=str(smtp_sink.port))
    assert third.returncode == 0
    assert len(smtp_sink.envelopes) == 1
    for output in (second.stdout + second.stderr, third.stdout + third.stderr):
        assert "example.org" not in output and "questionnaire" not in output


def test_sigterm_hands_back_the_claimed_batch_and_exits_cleanly(
    worker_db: WorkerDb, smtp_silent: int
) -> None:
    worker_db.python(ENQUEUE.format(n=3))
    worker = worker_db.popen("worker", "--batch", "3", EMAIL_PORT=str(smtp_silent), EMAIL_TIMEOUT="2")
    try:
        worker_db.python(WAIT_FOR.format(status="sending", count=3, until_lease_expired=False))
    finally:
        output = _stop(worker, signal.SIGTERM)
    assert worker.returncode == 0, output[-3000:]
    rows = worker_db.python(STATE)
    # The message in hand timed out and waits for its retry; the two never tried are pending as before.
    assert sorted((r["status"], r["attempts"], r["claimed_by"]) for r in rows) == [
        ("pending", 0, ""),
        ("pending", 0, ""),
        ("pending", 1, ""),
    ]
    assert "example.org" not in output


def test_concurrent_workers_never_claim_the_same_message(worker_db: WorkerDb, tmp_path: Path) -> None:
    ids = worker_db.python(ENQUEUE.format(n=60))
    barrier = tmp_path / "barrier"  # each claimer adds a file; all start when the four are there
    barrier.mkdir()
    script = "import django, json\ndjango.setup()\n" + CLAIMER + "\nprint(json.dumps(result))"
    claimers = [
        subprocess.Popen(  # noqa: S603 - our own test code
            [sys.executable, "-c", script, str(barrier), f"w{i}"],
            env=worker_db.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    claims = []
    for proc in claimers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
        claims.append(json.loads(out.strip().splitlines()[-1]))
    everything = [pk for claim in claims for pk in claim]
    assert sorted(everything) == sorted(ids), "a message was claimed twice or not at all"
    assert sum(1 for claim in claims if claim) >= 2, "the workers did not actually race"


@pytest.fixture(autouse=True)
def _quick_subprocesses(worker_db: WorkerDb) -> None:
    worker_db.env["EMAIL_HOST"] = "127.0.0.1"
