"""`spacebetween worker`: send the e-mail outbox over SMTP, and run the minute jobs of the measurement
loop (plans.services.plan_apply, delivery.services.links_send_due,
exercises.reminders.reminders_queue_due and safety.escalation.escalate_due) and the insights refresh
of episodes with new answers (insights.services.refresh_stale_due) every `--jobs-every` seconds.

Loops: claim due messages, send each through Django's SMTP backend (EMAIL_HOST, EMAIL_PORT, ...),
sleep. `--mail-folder DIR` writes each message to a file in DIR instead of sending it (the demo and
development, where no mail server runs; refused in production). `--once` sends what is due and
exits. SIGTERM or SIGINT finishes the message in hand, hands the rest of the claimed batch back,
and exits. Logs counts only, never addresses or content.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import smtplib
import socket
import threading
import time
import uuid
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.filebased import EmailBackend as FileBackend
from django.core.mail.backends.smtp import EmailBackend
from django.core.management.base import BaseCommand, CommandError, CommandParser

from spacebetween import clock
from spacebetween.delivery.services import links_send_due
from spacebetween.exercises.reminders import reminders_queue_due
from spacebetween.insights.services import refresh_stale_due
from spacebetween.notifications.models import OutboxMessage
from spacebetween.notifications.services import outbox_claim, outbox_release, outbox_send_one
from spacebetween.plans.services import plan_apply
from spacebetween.safety.escalation import escalate_due

logger = logging.getLogger("spacebetween.notifications")

MAIL_FOLDER_IN_PRODUCTION = (
    "--mail-folder is for the demo and development: in production the worker sends over SMTP "
    "(EMAIL_HOST, docs/operations.md)."
)


class Command(BaseCommand):
    help = "Send queued e-mail notifications. Runs until stopped, or with --once until nothing is due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="send what is due now, then exit")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds to sleep when idle (5)")
        parser.add_argument("--batch", type=int, default=10, help="messages claimed at a time (10)")
        parser.add_argument(
            "--lease",
            type=float,
            default=300.0,
            help="seconds a claim lasts before another worker may retry (300)",
        )
        parser.add_argument(
            "--mail-folder",
            default="",
            metavar="DIR",
            help="write messages to files in DIR instead of sending them (demo and development only)",
        )
        parser.add_argument(
            "--jobs-every",
            type=float,
            default=60.0,
            help="seconds between runs of the measurement plan and risk escalation jobs (60)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["mail_folder"] and settings.PRODUCTION:
            raise CommandError(MAIL_FOLDER_IN_PRODUCTION)
        self.mail_folder = options["mail_folder"]
        self.stopping = threading.Event()
        worker_id = f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        lease = dt.timedelta(seconds=options["lease"])
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        totals = {"sent": 0, "retry": 0, "failed": 0}
        jobs_due_at = 0.0
        try:
            while not self.stopping.is_set():
                if time.monotonic() >= jobs_due_at:
                    _run_jobs()
                    jobs_due_at = time.monotonic() + options["jobs_every"]
                claimed = outbox_claim(
                    worker_id=worker_id, now=clock.now(), lease=lease, limit=options["batch"]
                )
                if claimed:
                    counts = self._send(claimed, worker_id)
                    for key in totals:
                        totals[key] += counts[key]
                    logger.info("outbox: %(sent)d sent, %(retry)d to retry, %(failed)d failed", counts)
                elif options["once"]:
                    break
                else:
                    self.stopping.wait(options["interval"])
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("outbox: {sent} sent, {retry} to retry, {failed} failed".format(**totals))

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping.set()

    def _send(self, claimed: list[OutboxMessage], worker_id: str) -> dict[str, int]:
        counts = {"sent": 0, "retry": 0, "failed": 0}
        connection: BaseEmailBackend = (
            FileBackend(file_path=self.mail_folder, fail_silently=False)
            if self.mail_folder
            else EmailBackend(timeout=settings.EMAIL_TIMEOUT, fail_silently=False)
        )
        try:
            for index, message in enumerate(claimed):
                if self.stopping.is_set():
                    outbox_release(messages=claimed[index:], worker_id=worker_id)
                    break
                result = outbox_send_one(message, connection)
                counts["sent"] += result.sent
                counts["retry"] += result.retry
                counts["failed"] += result.failed
                if result.retry:
                    _close(connection)  # a broken connection is not reused for the next message
        finally:
            _close(connection)
        return counts


def _run_jobs() -> None:
    """The minute jobs; one failing is logged and does not stop the outbox (or the other job)."""
    for job in (plan_apply, links_send_due, reminders_queue_due, escalate_due, refresh_stale_due):
        try:
            job(now=clock.now())
        except Exception:
            logger.exception("worker: %s failed", job.__name__)


def _close(connection: BaseEmailBackend) -> None:
    try:
        connection.close()
    except (smtplib.SMTPException, OSError):
        if isinstance(connection, EmailBackend):
            connection.connection = None
