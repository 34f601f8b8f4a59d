"""The therapist's side of a session: their view of the relationship and a counter-transference
check-in, recorded once per session (and correctable by the treating therapist).

Writes go through `spacebetween.relationship.services`, reads through `selectors`; nothing here
enforces who may see what. The free-text note is psychotherapy-note-like: it is stored encrypted
(`spacebetween.crypto`, context `NOTE_CONTEXT`), never in the clear.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

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


# Rupture notes (docs/insights.md, "Ruptures and themes"): the treating therapist's short account of an
# alliance rupture, the kinds after Safran & Muran (2000, *Negotiating the Therapeutic Alliance*):
# withdrawal (moving away: going quiet, deferring, changing the subject) and confrontation (moving
# against: complaint, anger, pushing to control), which often come together. Each text is stored
# encrypted, bound to its session and field (RUPTURE_CONTEXT): it is a process record, kept out of the
# client's export, every report and the API, like a process note (docs/notes.md).
RUPTURE_CONTEXT = "relationship.RuptureNote.{field}:session={session_id}"
RUPTURE_TEXT_FIELDS = ("what_happened", "therapist_part", "repair")


class RuptureKind(models.TextChoices):
    WITHDRAWAL = "withdrawal", "Withdrawal (moving away)"
    CONFRONTATION = "confrontation", "Confrontation (moving against)"
    BOTH = "both", "Both"


class Repaired(models.TextChoices):
    YES = "yes", "Repaired"
    PARTLY = "partly", "Partly repaired"
    NO = "no", "Not yet repaired"


class RuptureNote(models.Model):
    """One per session: a rupture the chart detected there, or one the therapist marked."""

    session = models.OneToOneField("clients.Session", on_delete=models.PROTECT, related_name="rupture_note")
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=RuptureKind.choices)
    repaired = models.CharField(max_length=8, choices=Repaired.choices)
    what_happened = models.TextField()  # ciphertext (crypto.encrypt, RUPTURE_CONTEXT)
    therapist_part = models.TextField(blank=True)  # ciphertext or ""
    repair = models.TextField(blank=True)  # ciphertext or ""

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["withdrawal", "confrontation", "both"]),
                name="rupture_note_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(repaired__in=["yes", "partly", "no"]), name="rupture_note_repaired_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Rupture note on session {self.session_id}"


class ThemeKind(models.TextChoices):
    TRANSFERENCE = "transference", "Transference"
    COUNTER_TRANSFERENCE = "counter_transference", "Counter-transference"


class ThemeLabel(models.Model):
    """A practice's own list of short theme labels ("feeling pushed away", "wish to rescue"), grown as
    therapists tag sessions. Not content, but sensitive: practice-scoped, never in a URL or a log line
    (forms post the label; pages name tags by id)."""

    practice = models.ForeignKey("practice.Practice", on_delete=models.CASCADE, related_name="+")
    label = models.CharField(max_length=60)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("label"), "practice", name="theme_label_unique_in_practice"),
        ]

    def __str__(self) -> str:
        return f"Theme label {self.pk}"


class SessionTheme(models.Model):
    """A session tagged with a transference or counter-transference theme by the treating therapist."""

    # A named reverse relation (not "+"), so that erasure's walk of the client's tree finds the tags.
    session = models.ForeignKey("clients.Session", on_delete=models.PROTECT, related_name="themes")
    label = models.ForeignKey(ThemeLabel, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=24, choices=ThemeKind.choices)
    tagged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    tagged_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "label", "kind"], name="session_theme_once"),
            models.CheckConstraint(
                condition=models.Q(kind__in=["transference", "counter_transference"]),
                name="session_theme_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Theme {self.pk} on session {self.session_id}"
