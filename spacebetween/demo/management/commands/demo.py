"""`spacebetween demo`: migrate, load the synthetic demo practice once, print its logins, and serve."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from spacebetween.demo.generator import (
    DEMO_LOGINS,
    DEMO_PASSWORD,
    DEMO_PRACTICE_NAME,
    HISTORY_COMPLETED,
    DemoState,
    demo_practice_ids,
    demo_state,
    generate_demo_practice,
)
from spacebetween.practice.models import Practice

EMBEDDED_DB_NAME = "spacebetween.sqlite3"
DEMO_MAIL_FOLDER = "demo-mail"  # under the data folder: the demo's e-mails, as files
WORKER_STOP_SECONDS = 15


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """Ask the worker to stop (SIGTERM: it finishes the message in hand), then insist."""
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=WORKER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


PRODUCTION_REFUSED = (
    "spacebetween demo refuses to run in production (SPACEBETWEEN_PRODUCTION is on): demo accounts share "
    "a published password and skip MFA. Run the demo on a machine or data directory of its own."
)
OTHER_PRACTICES = (
    "This database already holds practices that are not the demo; the demo loads only into a database "
    "of its own. Point SPACEBETWEEN_DATA_DIR at an empty folder (and unset DATABASE_URL)."
)
INCOMPLETE_DEMO = (
    "The demo practice in this database is incomplete (an earlier run was interrupted). "
    "Run `spacebetween demo --reset` to start again."
)
RESET_NOT_EMBEDDED = (
    "--reset only deletes the embedded SQLite demo database ({expected}); this installation uses "
    "another database ({actual}), which the demo never deletes."
)
RESET_HAS_OTHER_DATA = (
    "--reset refuses: {path} holds practices that are not the demo. Move the file away yourself if you "
    "really mean to delete it."
)
LICENSED_PACK_NOTE = (
    "The demo's admin has accepted the terms of the WAI-SR alliance questionnaire (the licensed "
    "instruments whose terms ask for the authors' permission stay off). In a real practice the admin "
    "reads each instrument's terms and accepts them on the Instruments page; the demo accepts the "
    "WAI-SR's itself so that the alliance views have data."
)
MFA_NOTE = (
    "MFA is off for these demo accounts only, and never in production; every other staff account "
    "sets up an authenticator app. All demo data is synthetic."
)
MFA_NOTE_DEMO_OFF = (
    "SPACEBETWEEN_ALLOW_DEMO_ACCOUNTS is off, so the demo accounts set up an authenticator app like any "
    "other staff account. All demo data is synthetic."
)


class Command(BaseCommand):
    help = (
        "Migrate the database, load the synthetic demo practice if it is not there yet, print the demo "
        "logins, and with --serve serve the site. Refuses to run in production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic practice (default 7)")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete the embedded SQLite demo database first and load afresh",
        )
        parser.add_argument(
            "--history",
            type=int,
            default=HISTORY_COMPLETED,
            metavar="N",
            help=(
                f"past completed episodes to add (default {HISTORY_COMPLETED}); fewer load faster, but "
                "expected-recovery curves are fitted only from 40"
            ),
        )
        parser.add_argument("--serve", action="store_true", help="serve the site after loading")
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="with --serve, do not run the worker (the outbox and the minute jobs) beside the site",
        )
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(PRODUCTION_REFUSED)
        if options["reset"]:
            self._reset()
        call_command("migrate", interactive=False, verbosity=0)
        self._load(options["seed"], options["history"])
        address = f"[{options['host']}]" if ":" in options["host"] else options["host"]
        url = f"http://{address}:{options['port']}/"
        self._print_logins(url)
        if options["serve"]:
            # SIGTERM ends the demo like Ctrl-C does, through the `finally` that stops the worker.
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
            worker = None if options["no_worker"] else self._start_worker()
            try:
                self._serve(options["host"], address, options["port"], url)
            finally:
                if worker is not None:
                    stop_worker(worker)

    def _load(self, seed: int, history: int) -> None:
        state = demo_state()
        if state == DemoState.COMPLETE:
            self.stdout.write(
                f"The demo practice {DEMO_PRACTICE_NAME!r} is already loaded; kept as it is "
                "(--reset loads it afresh)."
            )
            return
        if state == DemoState.INCOMPLETE:
            raise CommandError(INCOMPLETE_DEMO)
        if Practice.objects.exists():
            raise CommandError(OTHER_PRACTICES)
        if history < 0:
            raise CommandError(f"--history takes a number of episodes, 0 or more, not {history}.")
        self.stdout.write(f"Loading the synthetic demo practice (seed {seed}); this takes about a minute ...")
        demo = generate_demo_practice(seed=seed, history_completed=history)
        fitted = ", ".join(demo.fitted) or "none (fewer than 40 completed episodes)"
        self.stdout.write(
            f"Loaded {DEMO_PRACTICE_NAME!r}: {len(demo.therapists)} therapists, {demo.clients} clients, "
            f"{demo.episodes} episodes ({demo.completed_episodes} completed), {demo.sessions} sessions, "
            f"{demo.responses} questionnaire answers, {demo.reflections} therapist reflections. "
            f"Expected recovery fitted for: {fitted}.\n{LICENSED_PACK_NOTE}"
        )
        if (ws := demo.workspace) is not None:
            self.stdout.write(
                f"The demo therapist's workspace, on {ws.clients} clients: {ws.exercises} exercises set "
                f"({ws.entries} entries by the demo client), {ws.progress_notes} signed progress notes, "
                f"{ws.clients} formulations with {ws.goals} goals ({ws.goal_ratings} ratings), "
                f"{ws.transcripts} coded session transcripts, {ws.rupture_notes} rupture note and "
                f"{ws.themes} themes."
            )

    def _print_logins(self, url: str) -> None:
        width = max(len(login.role) for login in DEMO_LOGINS)
        email_width = max(len(login.email) for login in DEMO_LOGINS)
        self.stdout.write(f"\nDemo logins (sign in at {url}login/):")
        self.stdout.write(f"  {'role':<{width}}  {'email':<{email_width}}  password")
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.role:<{width}}  {login.email:<{email_width}}  {DEMO_PASSWORD}")
        self.stdout.write((MFA_NOTE if settings.ALLOW_DEMO_ACCOUNTS else MFA_NOTE_DEMO_OFF) + "\n")

    def _reset(self) -> None:
        db = connections["default"].settings_dict
        expected = (Path(settings.DATA_DIR) / EMBEDDED_DB_NAME).resolve()
        is_sqlite = str(db["ENGINE"]).endswith("sqlite3")
        if not is_sqlite or Path(str(db["NAME"])).resolve() != expected:
            actual = (
                db["NAME"] if is_sqlite else f"{db['ENGINE']} {db.get('HOST') or ''} {db['NAME']}".strip()
            )
            raise CommandError(RESET_NOT_EMBEDDED.format(expected=expected, actual=actual))
        if expected.exists():
            connection = connections["default"]
            migrated = "practice_practice" in connection.introspection.table_names()
            if migrated and Practice.objects.exclude(pk__in=demo_practice_ids()).exists():
                raise CommandError(RESET_HAS_OTHER_DATA.format(path=expected))
            connection.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{expected}{suffix}").unlink(missing_ok=True)
        self.stdout.write(f"Deleted the demo database {expected}.")

    def _start_worker(self) -> subprocess.Popen[bytes]:
        """`spacebetween worker` in the background, writing e-mails to files instead of sending
        them: the reminders and links the measurement plans make are in the admin's outbox page
        (sent, or waiting) and in the mail folder. Stopped when the demo stops."""
        folder = Path(settings.DATA_DIR) / DEMO_MAIL_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "spacebetween.cli", "worker", "--mail-folder", str(folder)]
        worker = subprocess.Popen(command)  # noqa: S603 - our own command, no shell, no user input
        self.stdout.write(
            f"Started the worker (pid {worker.pid}): e-mails are written to {folder}, not sent; the "
            "admin's E-mail outbox page shows what was sent and what waits."
        )
        return worker

    def _serve(self, host: str, address: str, port: int, url: str) -> None:
        if host not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
            self.stderr.write(f"Note: add {host} to ALLOWED_HOSTS to reach the demo by that address.")
        # WhiteNoise serves static files straight from the apps (WHITENOISE_USE_FINDERS); it only
        # warns about an absent STATIC_ROOT, so make it.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        self.stdout.write(f"Serving the demo on {url} (Ctrl-C to stop).")
        self.stdout.flush()
        call_command("runserver", f"{address}:{port}", use_reloader=False, use_ipv6=":" in host)
