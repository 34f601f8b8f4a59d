"""API keys: a practice's credential for integrations, stored only as a hash; and the per-minute
request counters that rate-limit each key. Writes go through `spacebetween.api.services`."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from spacebetween.practice.models import Practice


class ApiKey(models.Model):
    """`Authorization: Bearer sb_<prefix>_<secret>`. Only the SHA-256 of the 256-bit secret is kept;
    the prefix, unique and shown in lists, identifies the key without revealing it."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"API key {self.prefix}"


class ApiKeyWindow(models.Model):
    """How many requests a key made in one clock minute (UTC); a key's earlier minutes are deleted when
    its next one starts."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="api_key_window_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.count} requests from {self.window_start:%Y-%m-%d %H:%M}"
