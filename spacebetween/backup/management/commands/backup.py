"""`spacebetween backup FILE`: the whole database in one encrypted file (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from spacebetween.backup.services import BackupError, backup_write


class Command(BaseCommand):
    help = (
        "Write the whole database to FILE, compressed and encrypted under a key derived from "
        "FIELD_ENCRYPTION_KEY: restoring it needs that key. The file is readable by its owner only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = backup_write(options["file"], overwrite=options["overwrite"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"backup written to {options['file']}: {len(manifest.tables)} tables, {manifest.rows} rows; "
            f"restoring it needs the field-encryption key with fingerprint {manifest.key_fingerprint}; "
            "the backup is recorded in the audit log"
        )
