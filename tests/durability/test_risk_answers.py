"""A risk answer is never lost: not when the server is killed, not when the e-mail server is down, not
when the worker is killed while it tries to send the therapist's notice (docs/safety.md).

The real server (gunicorn) takes PHQ-9s with item 9 endorsed through the API and is SIGKILLed right
after some of the acknowledgements. The e-mail server is down throughout the first worker's run, and
that worker is SIGKILLed in the middle of it. At the end every acknowledged submission has its flag,
the treating therapist's notice and its e-mail in the outbox; once the e-mail server is back, one
worker run delivers each notice exactly once.

How we checked that it can fail: deleting one acknowledged RiskFlag row (sqlite3, before the final
read) in a scratch run made the test fail naming that assignment; then reverted.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bench.harness import free_port
from tests.durability.server import Server, phq9_answers, practice_with_due_phq9s

if TYPE_CHECKING:
    from tests.durability.databases import ServerDb
    from tests.notifications.conftest import SmtpSink

SEED = 20261207
SIZES = {"ci": (12, 3), "soak": (120, 30)}  # (risk submissions, server kills)

RISK_STATE = """
from spacebetween.notifications.models import OutboxMessage
from spacebetween.safety.models import RiskFlag, RiskNotification
result = {
    "flags": {str(f.assignment_id): [f.response_id, f.answer_value, f.source]
              for f in RiskFlag.objects.all()},
    "notices": sorted(RiskNotification.objects.filter(step=0).values_list("flag__assignment_id", flat=True)),
    "outbox": sorted(OutboxMessage.objects.filter(kind="risk-raised").values_list("status", flat=True)),
}
"""

WAIT_FOR_AN_ATTEMPT = """
import time
from spacebetween.notifications.models import OutboxMessage
deadline = time.monotonic() + 60
while not OutboxMessage.objects.filter(attempts__gt=0).exists() and time.monotonic() < deadline:
    time.sleep(0.05)
result = OutboxMessage.objects.filter(attempts__gt=0).count()
"""


RETRY_NOW = """
from django.utils import timezone
from spacebetween.notifications.models import OutboxMessage
OutboxMessage.objects.filter(status="pending").update(not_before=timezone.now())
"""


def _risk_answers(rng: random.Random) -> dict[str, int]:
    return {**phq9_answers(rng), "phq9_9": rng.randint(1, 3)}


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)


@pytest.mark.e2e
def test_risk_answers_survive_kill_9_and_a_dead_mail_server(
    server_db: ServerDb, tmp_path: Path, soak: bool, smtp_sink: SmtpSink
) -> None:
    n, kills_wanted = SIZES["soak" if soak else "ci"]
    practice = practice_with_due_phq9s(server_db, n)
    rng = random.Random(SEED)
    kill_after = set(rng.sample(range(n - 1), kills_wanted))
    server = Server(server_db.env, tmp_path / "gunicorn.log")
    acknowledged: dict[int, dict[str, Any]] = {}
    answered: dict[int, int] = {}
    try:
        server.start()
        for i, assignment_id in enumerate(practice.assignments):
            answers = _risk_answers(rng)
            status, body = server.submit(practice.key_for(assignment_id), assignment_id, answers)
            assert status == 201 and body["risk_flag_raised"] is True, (status, body, server.tail())
            acknowledged[assignment_id], answered[assignment_id] = body, answers["phq9_9"]
            if i in kill_after:
                server.kill()  # right after the acknowledgement
                server.start()
    finally:
        server.kill()

    # The e-mail server is down (a port where nothing listens); the worker tries, and is killed.
    dead_port = str(free_port())
    worker = server_db.popen("worker", "--interval", "0.1", "--lease", "2", EMAIL_PORT=dead_port)
    try:
        assert server_db.python(WAIT_FOR_AN_ATTEMPT) >= 1
    finally:
        _kill(worker)

    state = server_db.python(RISK_STATE)
    lost = [
        f"assignment {a}: acknowledged with item 9 = {answered[a]}, flag {state['flags'].get(str(a))}"
        for a, body in acknowledged.items()
        if state["flags"].get(str(a)) != [body["response_id"], float(answered[a]), "submitted"]
    ]
    assert not lost, "risk answers lost"
    assert state["notices"] == sorted(acknowledged)
    assert len(state["outbox"]) == n and "sent" not in state["outbox"]

    # The e-mail server is back. An hour on: the failed tries' retries are due (their backoff is
    # minutes), and the killed worker's lease (2 s) has run out; one run delivers each notice once.
    time.sleep(2.5)
    server_db.python(RETRY_NOW)
    done = server_db.cli("worker", "--once", EMAIL_PORT=str(smtp_sink.port))
    assert done.returncode == 0, done.stderr[-3000:]
    assert server_db.python(RISK_STATE)["outbox"] == ["sent"] * n
    notices = [e for e in smtp_sink.envelopes if b"needs review" in (e.content or b"")]
    assert len(notices) == n
