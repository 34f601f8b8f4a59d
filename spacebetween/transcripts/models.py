"""A session's transcript: the words spoken, turn by turn, uploaded by the treating therapist.

Process material, like a process note (docs/transcripts.md, "Session transcripts in the record"): the
most sensitive text a practice holds. Each turn's words and each speaker's name are stored encrypted
(`spacebetween.crypto`, bound to their row); the codes the model gives each turn are labels
("question", "change") and the summary figures are numbers, stored in the clear so that the episode's
chart reads no text. Never exported, never in the API, never sent anywhere; deleted by the therapist,
and with the client's record on erasure or anonymisation (spacebetween.rights).

Writes go through `transcripts.services`, reads through `transcripts.selectors`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

# Where the ciphertext lives: a copy moved to another row does not decrypt.
SPEAKERS_CONTEXT = "transcripts.Transcript.speakers:session={session_id}"
TURN_CONTEXT = "transcripts.Turn.text:transcript={transcript_id}:number={number}"


class Role(models.TextChoices):
    THERAPIST = "therapist", "Therapist"
    CLIENT = "client", "Client"
    IGNORE = "ignore", "Leave out"


class Transcript(models.Model):
    """`speakers` is ciphertext of a JSON list of the speakers' names as written in the file, in order
    of first appearance; `roles` maps each name's index ("0", "1", ...) to a `Role`, empty until the
    therapist has said who is who."""

    session = models.OneToOneField("clients.Session", on_delete=models.CASCADE, related_name="transcript")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()
    source_format = models.CharField(max_length=8)  # core.transcript_formats.FORMATS
    speakers = models.TextField()
    roles = models.JSONField(default=dict, blank=True)
    coded_at = models.DateTimeField(null=True, blank=True)
    model_version = models.CharField(max_length=200, blank=True)  # the coder that gave the codes
    summary = models.JSONField(default=dict, blank=True)  # numbers only (selectors.Summary)

    def __str__(self) -> str:
        return f"Transcript of session {self.session_id}"


class Turn(models.Model):
    """One speaker's turn. `text` is ciphertext (TURN_CONTEXT); `code` the model's label once coded."""

    transcript = models.ForeignKey(Transcript, on_delete=models.CASCADE, related_name="turns")
    number = models.PositiveIntegerField()  # 1, 2, ... in spoken order
    speaker = models.PositiveSmallIntegerField()  # index into the transcript's speakers
    text = models.TextField()
    start_ms = models.PositiveIntegerField(null=True, blank=True)
    code = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["transcript", "number"]
        constraints = [
            models.UniqueConstraint(fields=["transcript", "number"], name="transcripts_turn_number")
        ]

    def __str__(self) -> str:
        return f"Turn {self.number} of {self.transcript}"
