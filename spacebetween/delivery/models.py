"""One-time questionnaire links, draft answers, the per-IP limit on link attempts, and the practice's
crisis resources. Writes go through `spacebetween.delivery.services`."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from spacebetween.measures.models import Assignment
from spacebetween.practice.models import Practice


class QuestionnaireLink(models.Model):
    """A capability to answer one assignment, sent by email (docs/measurement-loop.md, One-time links).

    Only the SHA-256 of the token is stored. A link is usable while it is neither used, revoked nor
    past `expires_at`; at most one per assignment is usable at a time (reissuing revokes the old one)."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"],
                condition=models.Q(used_at__isnull=True, revoked_at__isnull=True),
                name="questionnaire_link_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"Link for assignment {self.assignment_id} issued {self.created_at:%Y-%m-%d}"


class Draft(models.Model):
    """Answers given so far to an unsubmitted assignment, so the client can stop and come back."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="draft")
    answers = models.JSONField(default=dict)  # {item_id: answer value or null}
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Draft for assignment {self.assignment_id}"


class LinkFailure(models.Model):
    """One attempt with a token that does not work, counted per IP address (an HMAC of it)."""

    key = models.CharField(max_length=64)
    failed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["key", "failed_at"], name="link_failure_window")]

    def __str__(self) -> str:
        return f"Link failure at {self.failed_at:%Y-%m-%d %H:%M:%S}"


class CrisisResource(models.Model):
    """A helpline or emergency route the practice shows to a client whose answers raised a risk flag.

    Shown *in addition to* the built-in resources for the client's country (safety/crisis.py and
    safety/data/crisis_lines.json), so a practice can add its own same-day route but can never empty
    the crisis page."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="crisis_resources")
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=64, blank=True)
    text = models.TextField(blank=True)
    url = models.URLField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["practice", "country", "position", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.country})"
