"""The practice's retention rule and the record that a client was erased or anonymised (ids only)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

# Clinical records are kept this many years after the client's last episode of care ends, unless the
# practice sets otherwise. The NHS England Records Management Code of Practice (2023), retention
# schedule, "adult health records not covered elsewhere": 8 years after the conclusion of treatment.
# A setting, not a rule: NHS mental health services keep records 20 years, children's records are
# kept to the 25th birthday, and other countries differ (docs/data-rights.md).
DEFAULT_RETENTION_YEARS = 8
MIN_RETENTION_YEARS = 1
MAX_RETENTION_YEARS = 100


class RetentionPolicy(models.Model):
    practice = models.OneToOneField(
        "practice.Practice", on_delete=models.CASCADE, related_name="retention_policy"
    )
    years_after_last_episode = models.PositiveSmallIntegerField(
        default=DEFAULT_RETENTION_YEARS,
        validators=[MinValueValidator(MIN_RETENTION_YEARS), MaxValueValidator(MAX_RETENTION_YEARS)],
    )
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"Retention: {self.years_after_last_episode} years after the last episode"


class ErasureMode(models.TextChoices):
    ERASE = "erase", "Erase the whole record"
    ANONYMISE = "anonymise", "Anonymise: remove identity, keep the de-identified clinical record"


class Erasure(models.Model):
    """That a client was erased or anonymised: the record's number, never its content."""

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="+")
    client_id = models.BigIntegerField()  # a plain id: the client row may be gone
    mode = models.CharField(max_length=16, choices=ErasureMode.choices)
    performed_at = models.DateTimeField()
    performed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["performed_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(mode__in=ErasureMode.values), name="erasure_mode_valid")
        ]

    def __str__(self) -> str:
        return f"Client {self.client_id} {self.mode} {self.performed_at:%Y-%m-%d}"
