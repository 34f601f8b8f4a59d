from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from spacebetween.audit.selectors import verify_chain


class Command(BaseCommand):
    help = "Audit log tools. `audit verify` checks the hash chain and exits 1 if it was tampered with."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if report.intact:
            self.stdout.write(f"audit chain intact: {report.events} events, head {report.head_hash}")
            return
        for problem in report.problems:
            where = f"event {problem.seq}" if problem.seq is not None else "chain"
            self.stderr.write(f"{where}: {problem.problem}")
        raise CommandError(f"audit chain BROKEN: {len(report.problems)} problem(s) in {report.events} events")
