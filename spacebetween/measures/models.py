"""Which instruments a practice may use: the free core pack always; the licensed pack once its admin
has accepted the terms shown; and definition files the practice imported under its own licence."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from spacebetween.practice.models import Practice


class PackAcceptance(models.Model):
    """An admin's acceptance of the licensed pack's terms, exactly as shown (their SHA-256).

    When the terms change (a definition is added or its licence text edited) the digest no longer
    matches and the pack is off again until someone accepts the new terms."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="pack_acceptances")
    pack = models.CharField(max_length=32, default="licensed")
    terms_digest = models.CharField(max_length=64)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-accepted_at"]

    def __str__(self) -> str:
        return f"{self.pack} pack accepted {self.accepted_at:%Y-%m-%d}"


class ImportedInstrument(models.Model):
    """A practice's own licensed instrument definition, validated like the shipped ones."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="imported_instruments")
    instrument_id = models.CharField(max_length=64)
    version = models.CharField(max_length=32)
    title = models.CharField(max_length=300)
    definition = models.JSONField()
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField()

    class Meta:
        ordering = ["instrument_id", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "instrument_id", "version"], name="imported_instrument_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.version}"
