"""`spacebetween reencrypt`: the last step of rotating FIELD_ENCRYPTION_KEY (docs/operations.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from spacebetween.backup.archive import key_fingerprint
from spacebetween.backup.services import field_values_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field under the first key of FIELD_ENCRYPTION_KEY. Run it after "
        "putting a new key in front of the old one; then the old key may leave FIELD_ENCRYPTION_KEY "
        "(keep it with the backups made under it: restoring them needs it)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        done = field_values_reencrypt()
        self.stdout.write(
            f"re-encrypted {done} values under the key with fingerprint "
            f"{key_fingerprint(settings.FIELD_ENCRYPTION_KEYS[0])}"
        )
