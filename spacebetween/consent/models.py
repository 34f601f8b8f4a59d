"""Consent decisions, one row each: what, given or withdrawn, when, by whom, on which wording.

Append-only by convention (the services only insert): the current state of a purpose is its latest
row, and the rows before it are the history. Rows carry no content but the wording's version; the
wording itself lives in `WORDINGS`, which keeps every version ever shown.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Purpose(models.TextChoices):
    MEASUREMENT = "measurement", "Questionnaires and measurement"
    EMAIL = "email", "Contact by e-mail"


# Every version of the wording ever shown to a client, by purpose; never edit a published version,
# add a new one and make it CURRENT (docs/data-rights.md).
WORDINGS: dict[str, dict[str, str]] = {
    Purpose.MEASUREMENT: {
        "2026-12": (
            "I agree to answer short questionnaires before or after my sessions. My answers and scores "
            "are kept in my record, seen by my therapist, and used to review how therapy is going. "
            "I can stop at any time without it affecting my care."
        ),
    },
    Purpose.EMAIL: {
        "2026-12": (
            "I agree to receive e-mails from the practice at the address I gave: questionnaire links "
            "and reminders. They name no questionnaire and hold no health information. I can stop "
            "them at any time."
        ),
    },
}
CURRENT: dict[str, str] = {Purpose.MEASUREMENT: "2026-12", Purpose.EMAIL: "2026-12"}


class ConsentRecord(models.Model):
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="consent_records")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    given = models.BooleanField()  # True: consent given; False: withdrawn (or refused)
    wording_version = models.CharField(max_length=16)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["client", "purpose", "recorded_at"], name="consent_latest")]
        constraints = [
            models.CheckConstraint(condition=Q(purpose__in=Purpose.values), name="consent_purpose_valid"),
        ]

    def __str__(self) -> str:
        state = "given" if self.given else "withdrawn"
        return f"Consent {self.purpose} {state} {self.recorded_at:%Y-%m-%d}"

    @property
    def wording(self) -> str:
        return WORDINGS.get(self.purpose, {}).get(self.wording_version, "")
