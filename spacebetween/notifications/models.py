"""The outbox: one row per e-mail to send, written in the transaction of the change that caused it.

A worker (`spacebetween worker`) claims due rows with a conditional UPDATE, sends them over SMTP and
marks them sent. Rows are never deleted: a message that could not be delivered ends as `failed`.
Subjects and bodies carry minimal PHI: never an instrument name, score or answer.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from spacebetween import crypto


def body_context(message_id: str) -> str:
    return f"notifications.OutboxMessage.body_text:{message_id}"


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"  # claimed by a worker until lease_until
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"  # gave up; kept for the record


class OutboxMessage(models.Model):
    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="+")
    to_address = models.EmailField(max_length=254)
    subject = models.CharField(max_length=200)
    # Encrypted (spacebetween.crypto, bound to message_id) and emptied once sent: a body can carry a
    # one-time questionnaire link, which must not be readable from the database or a backup.
    body_text = models.TextField()
    kind = models.SlugField(max_length=32)  # e.g. "reminder", "alert"; for counts, never content
    not_before = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    # The exception class and SMTP code only ("SMTPDataError 451"): servers echo addresses in texts.
    last_error = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    lease_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Fixed at enqueue and sent as the Message-ID header, so a resend after a crash can be deduplicated.
    message_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["not_before", "id"]
        indexes = [
            models.Index(fields=["status", "not_before"], name="outbox_due"),
            models.Index(fields=["status", "lease_until"], name="outbox_lease"),
        ]

    def __str__(self) -> str:
        return f"outbox #{self.pk} {self.kind} {self.status}"

    def body(self) -> str:
        """The plain text to send; empty once the message has been sent."""
        if not self.body_text:
            return ""
        return crypto.decrypt(self.body_text, context=body_context(self.message_id))
