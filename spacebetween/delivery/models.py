"""One-time questionnaire links, draft answers and the per-IP limit on link attempts. Writes go through
`spacebetween.delivery.services`. (The practice's own crisis resources moved to `safety.models`.)"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from spacebetween.measures.models import Assignment


class QuestionnaireLink(models.Model):
    """A capability to answer one or more assignments in turn (its `steps`; `assignment` is the first),
    sent by email (docs/measurement-loop.md, One-time links).

    Only the SHA-256 of the token is stored. A link is usable while it is neither used, revoked nor
    past `expires_at`; at most one usable link covers an assignment at a time (sending again revokes
    the old one and takes over its questionnaires that are still open)."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Set with `revoked_at` when a newer link took its questionnaires over (the therapist sent them
    # again): the old link's page then says so.
    replaced_at = models.DateTimeField(null=True, blank=True)

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


class LinkStep(models.Model):
    """One questionnaire a link walks the client through, in turn (`position` 0 is the link's
    `assignment`): one link, and one e-mail, for all the questionnaires of a session."""

    link = models.ForeignKey(QuestionnaireLink, on_delete=models.CASCADE, related_name="steps")
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="link_steps")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["link", "position"]
        constraints = [
            models.UniqueConstraint(fields=["link", "position"], name="link_step_position_once"),
            models.UniqueConstraint(fields=["link", "assignment"], name="link_step_assignment_once"),
        ]

    def __str__(self) -> str:
        return f"Step {self.position} of link {self.link_id}"


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
