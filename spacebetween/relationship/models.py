"""The therapist's side of a session: their view of the relationship and a counter-transference
check-in, recorded once per session (and correctable by the treating therapist).

Writes go through `spacebetween.relationship.services`, reads through `selectors`; nothing here
enforces who may see what. The free-text note is psychotherapy-note-like: it is stored encrypted
(`spacebetween.crypto`, context `NOTE_CONTEXT`), never in the clear.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

NOTE_CONTEXT = "relationship.SessionReflection.feelings_note:session={session_id}"


class MeasureKind(models.TextChoices):
    # A validated therapist-rated alliance instrument the practice has enabled or imported.
    INSTRUMENT = "instrument", "Validated instrument"
    # Our own four questions: NOT a validated instrument (see relationship.measures.SESSION_RATING).
    SESSION_RATING = "session_rating", "Session rating (not a validated instrument)"


class SessionReflection(models.Model):
    session = models.OneToOneField("clients.Session", on_delete=models.PROTECT, related_name="reflection")
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    # The therapist's view of the relationship.
    measure_kind = models.CharField(max_length=16, choices=MeasureKind.choices)
    measure_id = models.CharField(max_length=64)  # an instrument id, or SESSION_RATING.id
    measure_version = models.CharField(max_length=32)
    validated = models.BooleanField()  # False for the session rating: never report it as alliance
    answers = models.JSONField()  # {item_id: value}
    scores = models.JSONField(default=dict)  # {scale_id: score}, instruments only

    # Counter-transference check-in: what the therapist felt toward the client.
    feelings = models.JSONField(default=list)  # Feeling values, in FEELINGS order
    intensity = models.PositiveSmallIntegerField(null=True, blank=True)  # 1-5, with any feeling
    feelings_note = models.TextField(blank=True)  # ciphertext (crypto.encrypt, NOTE_CONTEXT) or ""
    # The therapist's own choice, per check-in: its feelings and intensity (never the note) go in the
    # supervision copy of the progress report. Unshared, a check-in is in no report but one the therapist
    # makes for themselves and asks to include it in.
    shared_with_supervisor = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(measure_kind__in=["instrument", "session_rating"]),
                name="reflection_measure_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(intensity__isnull=True) | models.Q(intensity__gte=1, intensity__lte=5),
                name="reflection_intensity_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(measure_kind="session_rating", validated=True),
                name="reflection_session_rating_not_validated",
            ),
        ]

    def __str__(self) -> str:
        return f"Reflection on session {self.session_id}"
