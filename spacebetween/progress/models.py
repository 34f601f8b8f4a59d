"""The client's own view of their progress in the portal, and the treating therapist's switch for it.

The view itself stores nothing: it reads the client's answers, goals, exercises and safety plan where
they live. What is stored here is whether the client may see it: one row per client once a therapist
has used the switch; no row means shown (the default, docs/between-sessions.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ProgressViewSetting(models.Model):
    client = models.OneToOneField(
        "clients.Client", on_delete=models.CASCADE, related_name="progress_view_setting"
    )
    shown = models.BooleanField(default=True)  # False: the portal says the therapist goes through it
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Progress view of client {self.client_id}: {'shown' if self.shown else 'hidden'}"
