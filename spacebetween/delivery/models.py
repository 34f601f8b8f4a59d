"""One-time questionnaire links, draft answers and the per-IP limit on link attempts. Writes go through
`spacebetween.delivery.services`. (The practice's own crisis resources moved to `safety.models`.)"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from spacebetween.measures.models import Assignment


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
