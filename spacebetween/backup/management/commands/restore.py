"""`spacebetween restore FILE`: fill an empty, migrated database from a backup (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from spacebetween.backup.services import BackupError, backup_check, restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `spacebetween backup` into this database, which must be empty and "
        "migrated. Everything is checked (key, integrity, schema, row counts and checksums, the audit "
        "chain, decryption of encrypted fields) and written in one transaction, or nothing is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--check", action="store_true", help="only read and check FILE; write nothing to the database"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["check"]:
                manifest = backup_check(options["file"])
                self.stdout.write(
                    f"backup intact: made {manifest.created_at} on {manifest.database}, "
                    f"{len(manifest.tables)} tables, {manifest.rows} rows"
                )
                return
            report = restore(options["file"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = report.manifest
        self.stdout.write(
            f"restored backup of {manifest.created_at}: {len(manifest.tables)} tables, {manifest.rows} rows "
            f"(counts and checksums match), audit chain intact ({report.audit_events} events; the restore "
            f"is recorded as event {report.restore_event}), "
            f"{report.decrypted} encrypted values decrypt"
        )
