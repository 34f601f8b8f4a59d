"""`spacebetween worker` as real processes on a shared database: killed mid-send, stopped, racing.

The kill tests pin down what delivery guarantees (docs/notifications.md, "Delivery guarantees"): a
worker killed anywhere outside one window loses nothing and sends nothing twice; killed inside it,
after the SMTP server accepted a message and before the outbox row says so, that one message is sent
again after the lease, with the same Message-ID. No SMTP client can close that window.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.notifications.conftest import Sink, free_port

if TYPE_CHECKING:
    from conftest import SmtpSink

    from tests.durability.databases import ServerDb

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
from spacebetween.notifications.models import OutboxMessage, Status
from spacebetween.notifications.services import outbox_claim
import pathlib
OutboxMessage.objects.exists()  # connect before the start, so that all four begin together
# A barrier, not a clock: on a loaded machine Django's start-up can take longer than any fixed delay.
barrier, me = pathlib.Path(sys.argv[1]), sys.argv[2]
(barrier / me).touch()
deadline = time.time() + 60
while len(list(barrier.iterdir())) < 4 and time.time() < deadline:
    time.sleep(0.001)
result = []
deadline = time.time() + 90  # a message left pending for good fails the count below, not a timeout
while time.time() < deadline:
    claimed = outbox_claim(worker_id=sys.argv[2], now=timezone.now(), limit=1)
    result += [m.pk for m in claimed]
    # Nothing claimed is either the end or a race lost to another claimer (on PostgreSQL the loser's
    # conditional UPDATE finds the row taken): go on until no message is left pending.
    if not claimed and not OutboxMessage.objects.filter(status=Status.PENDING).exists():
        break
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
    worker_db: ServerDb, smtp_silent: int, smtp_sink: SmtpSink
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
    second = worker_db.cli("worker", "--once", EMAIL_PORT=str(smtp_sink.port))
    assert second.returncode == 0, second.stderr[-3000:]
    [row] = worker_db.python(STATE)
    assert (row["status"], row["attempts"]) == ("sent", 2)
    assert smtp_sink.sink.message_ids() == [row["message_id"]]

    third = worker_db.cli("worker", "--once", EMAIL_PORT=str(smtp_sink.port))
    assert third.returncode == 0
    assert len(smtp_sink.envelopes) == 1
    for output in (second.stdout + second.stderr, third.stdout + third.stderr):
        assert "example.org" not in output and "questionnaire" not in output


def test_sigterm_hands_back_the_claimed_batch_and_exits_cleanly(
    worker_db: ServerDb, smtp_silent: int
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


def test_concurrent_workers_never_claim_the_same_message(worker_db: ServerDb, tmp_path: Path) -> None:
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


class InterruptingSink(Sink):
    """An SMTP server that accepts every message and lets a test act at two moments of a message:
    `at_mail(n)` when its MAIL FROM arrives (n messages accepted so far, none of this one sent yet), and
    `at_quit(n)` when the client says QUIT after the n-th message was accepted ("250" after DATA), that
    is, after the server took the message and before the worker can mark it sent."""

    def __init__(self) -> None:
        super().__init__()
        self.at_mail: Callable[[int], None] = lambda n: None
        self.at_quit: Callable[[int], None] = lambda n: None

    async def handle_MAIL(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        await asyncio.get_running_loop().run_in_executor(None, self.at_mail, len(self.envelopes))
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        await asyncio.get_running_loop().run_in_executor(None, self.at_quit, len(self.envelopes))
        return "221 Bye"


@pytest.fixture
def interrupting_sink() -> Iterator[tuple[InterruptingSink, int]]:
    sink, port = InterruptingSink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


class Workers:
    """One `spacebetween worker` at a time; `kill()` (from the SMTP server's thread) SIGKILLs the one
    running, and `keep_running` starts the next until every message has been accepted."""

    def __init__(self, db: ServerDb, port: int, *, batch: int) -> None:
        self.db, self.port, self.batch = db, port, batch
        self.current: subprocess.Popen[str] | None = None
        self.kills = 0
        self.lock = threading.Lock()

    def start(self) -> None:
        self.current = self.db.popen(
            "worker",
            *("--interval", "0.1", "--lease", str(LEASE_S), "--batch", str(self.batch)),
            *("--jobs-every", "3600"),
            EMAIL_PORT=str(self.port),
        )

    def kill(self) -> None:
        with self.lock:
            assert self.current is not None
            self.current.send_signal(signal.SIGKILL)
            self.current.wait(timeout=30)
            self.kills += 1

    def keep_running(self, done: Callable[[], bool], budget: float) -> None:
        deadline = time.monotonic() + budget
        self.start()
        try:
            while not done():
                assert time.monotonic() < deadline, f"not all messages were sent in {budget} s"
                with self.lock:
                    assert self.current is not None
                    if self.current.poll() is not None:
                        assert self.current.returncode == -signal.SIGKILL, _stop(self.current)[-3000:]
                        self.start()  # the next one takes the killed one's claims once its lease ends
                time.sleep(0.05)
        finally:
            assert self.current is not None
            output = _stop(self.current, signal.SIGTERM)
        assert self.current.returncode in (0, -signal.SIGKILL), output[-3000:]


LEASE_S = 1  # short, so that a killed worker's claims come back quickly; sending one takes milliseconds
KILLS = {"ci": (30, 4), "soak": (300, 40)}  # (messages, kills)


def test_a_worker_killed_mid_batch_again_and_again_sends_every_message_exactly_once(
    worker_db: ServerDb, interrupting_sink: tuple[InterruptingSink, int], request: pytest.FixtureRequest
) -> None:
    n, kills = KILLS["soak" if request.config.getoption("--soak") else "ci"]
    sink, port = interrupting_sink
    worker_db.python(ENQUEUE.format(n=n))
    workers = Workers(worker_db, port, batch=7)
    # Kill as the next message starts: the previous one is marked sent, this one not yet given to
    # the server. Seeded points, most of them in the middle of a claimed batch.
    kill_when_accepted = set(random.Random(20261105).sample(range(1, n), kills))

    def at_mail(accepted: int) -> None:
        if accepted in kill_when_accepted:
            kill_when_accepted.discard(accepted)
            workers.kill()

    sink.at_mail = at_mail
    workers.keep_running(lambda: len(set(sink.message_ids())) >= n, budget=60 + 3 * kills)

    rows = worker_db.python(STATE)
    assert workers.kills == kills
    assert [r["status"] for r in rows] == ["sent"] * n
    delivered = Counter(sink.message_ids())
    assert set(delivered) == {r["message_id"] for r in rows}, "a message was lost"
    assert [m for m, times in delivered.items() if times > 1] == [], "a message was sent twice"
    assert sum(r["attempts"] for r in rows) > n, "no claim was cut short: the kills missed the batches"


def test_a_worker_killed_after_the_server_accepted_a_message_sends_that_one_again_with_its_message_id(
    worker_db: ServerDb, interrupting_sink: tuple[InterruptingSink, int]
) -> None:
    n, victim = 5, 2  # the 2nd message of one batch
    sink, port = interrupting_sink
    worker_db.python(ENQUEUE.format(n=n))
    workers = Workers(worker_db, port, batch=n)

    def at_quit(accepted: int) -> None:
        if accepted == victim and workers.kills == 0:
            workers.kill()  # the server has the message; the worker had not yet marked it sent

    sink.at_quit = at_quit
    workers.keep_running(lambda: len(set(sink.message_ids())) >= n, budget=60)

    rows = worker_db.python(STATE)
    assert workers.kills == 1
    assert [r["status"] for r in rows] == ["sent"] * n
    delivered = Counter(sink.message_ids())
    resent = rows[victim - 1]["message_id"]
    assert delivered == Counter({r["message_id"]: 1 for r in rows}) + Counter([resent])
    assert rows[victim - 1]["attempts"] == 2


@pytest.fixture(autouse=True)
def _quick_subprocesses(worker_db: ServerDb) -> None:
    worker_db.env["EMAIL_HOST"] = "127.0.0.1"
