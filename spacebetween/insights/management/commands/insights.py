from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from spacebetween.insights.services import refresh_practice
from spacebetween.practice.models import Practice


class Command(BaseCommand):
    help = (
        "Insights. `insights refresh` recomputes the current signals of every open episode of a practice "
        "(all practices unless --practice); --refit first refits the expected-recovery curves on the "
        "practice's own completed episodes. `insights batch FILE.parquet` (no database) is described in "
        "docs/insights.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["refresh"])
        parser.add_argument("--practice", type=int, help="the practice's id (default: every practice)")
        parser.add_argument("--refit", action="store_true", help="refit the expected-recovery curves first")

    def handle(self, *args: Any, **options: Any) -> None:
        practices = Practice.objects.order_by("pk")
        if options["practice"] is not None:
            practices = practices.filter(pk=options["practice"])
            if not practices.exists():
                raise CommandError(f"no practice with id {options['practice']}")
        if not practices.exists():
            self.stdout.write("no practices yet: nothing to refresh")
            return
        for practice in practices:
            report = refresh_practice(practice, refit=options["refit"])
            self.stdout.write(
                f"practice {practice.pk}: {report.episodes} open episodes, {report.signals} signals"
            )
            for instrument_id, n in sorted(report.fit.fitted.items()):
                self.stdout.write(f"  {instrument_id}: expected range refitted on {n} completed episodes")
            for instrument_id, (have, need) in sorted(report.fit.not_enough.items()):
                self.stdout.write(
                    f"  {instrument_id}: not refitted, {have} completed episodes with scores (needs {need})"
                )
