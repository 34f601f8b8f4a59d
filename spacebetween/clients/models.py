"""The clinical record's skeleton: clients, episodes of care and sessions.

Writes go through `spacebetween.clients.services`, reads through `spacebetween.clients.access` and
`selectors`; nothing here enforces who may see what.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from spacebetween.practice.models import Practice


class Client(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="clients")
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    # Where the client lives, when it is not the practice's country: it picks the crisis lines the
    # client is shown (ISO 3166-1 alpha-2; blank = the practice's).
    country = models.CharField(max_length=2, blank=True)
    # Who to call when the client cannot be reached after a risk answer (shown on the flag's page).
    emergency_contact_name = models.CharField(max_length=200, blank=True)
    emergency_contact_relationship = models.CharField(max_length=100, blank=True)
    emergency_contact_phone = models.CharField(max_length=40, blank=True)
    # The therapist responsible for the client before and between episodes.
    primary_therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="primary_clients"
    )
    # Optional client-portal login; the user has role "client" in the same practice.
    portal_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="client_record",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["family_name", "given_name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.given_name
        return f"{first} {self.family_name}"


class EndReason(models.TextChoices):
    COMPLETED = "completed", "Completed by agreement"
    DROPPED_OUT = "dropped_out", "Client stopped attending"
    REFERRED_ON = "referred_on", "Referred elsewhere"
    CLIENT_DECLINED = "client_declined", "Client declined further treatment"
    OTHER = "other", "Other"


class Episode(models.Model):
    """One episode of care: from referral to discharge, with one assigned therapist."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="episodes")
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="episodes")
    referral_reason = models.TextField()
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, choices=EndReason.choices, blank=True)
    # The therapist's choice to bring this episode to supervision; the supervisor sees only these.
    shared_for_supervision = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="episode_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True, end_reason="")
                | Q(ended_on__isnull=False) & ~Q(end_reason=""),
                name="episode_end_reason_with_end",
            ),
        ]

    def __str__(self) -> str:
        return f"Episode from {self.started_on:%d %b %Y}"

    @property
    def is_active(self) -> bool:
        return self.ended_on is None


class SessionFormat(models.TextChoices):
    INDIVIDUAL = "individual", "Individual"
    COUPLE = "couple", "Couple"
    FAMILY = "family", "Family"
    GROUP = "group", "Group"


class Attendance(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    ATTENDED = "attended", "Attended"
    CANCELLED = "cancelled", "Cancelled"
    DID_NOT_ATTEND = "did_not_attend", "Did not attend"


class Session(models.Model):
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="sessions")
    starts_at = models.DateTimeField(help_text="Stored in UTC; shown in the practice's time zone")
    duration_minutes = models.PositiveSmallIntegerField(default=50)
    format = models.CharField(max_length=16, choices=SessionFormat.choices, default=SessionFormat.INDIVIDUAL)
    attendance = models.CharField(max_length=16, choices=Attendance.choices, default=Attendance.SCHEDULED)
    participants = models.ManyToManyField(Client, related_name="sessions_attended", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["episode", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5) & Q(duration_minutes__lte=480),
                name="session_duration_range",
            ),
            models.CheckConstraint(condition=Q(format__in=SessionFormat.values), name="session_format_valid"),
            models.CheckConstraint(
                condition=Q(attendance__in=Attendance.values), name="session_attendance_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.starts_at:%Y-%m-%d %H:%M}"
