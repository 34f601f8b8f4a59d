"""Which instruments a practice may use: the free core pack always; the licensed pack once its admin
has accepted the terms shown; and definition files the practice imported under its own licence."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from spacebetween.practice.models import Practice


class PackAcceptance(models.Model):
    """An admin's acceptance of the licensed pack's terms, exactly as shown (their SHA-256).

    When the terms change (a definition is added or its licence text edited) the digest no longer
    matches and the pack is off again until someone accepts the new terms."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="pack_acceptances")
    pack = models.CharField(max_length=32, default="licensed")
    terms_digest = models.CharField(max_length=64)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-accepted_at"]

    def __str__(self) -> str:
        return f"{self.pack} pack accepted {self.accepted_at:%Y-%m-%d}"


class InstrumentAcceptance(models.Model):
    """An admin's acceptance of one licensed instrument's own terms, exactly as shown (their SHA-256).

    Each instrument is switched on by itself: accepting the WAI-SR's terms does not switch on an
    instrument whose terms ask for its authors' permission. For those, `permission_held` records
    that the admin confirmed the practice holds that permission. Changed terms (a new version, an
    edited licence text) no longer match the digest, and the instrument is off until accepted again.
    `PackAcceptance` rows are the earlier, whole-pack acceptances (migration 0006 turned each one in
    force into acceptances of the instruments whose terms need no separate permission)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="instrument_acceptances")
    instrument_id = models.CharField(max_length=64)
    terms_digest = models.CharField(max_length=64)
    permission_held = models.BooleanField(default=False)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )  # empty only for an acceptance carried over from a pack acceptance by migration 0006
    accepted_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["instrument_id", "-accepted_at"]
        indexes = [models.Index(fields=["practice", "instrument_id"], name="instrument_acceptance_lookup")]

    def __str__(self) -> str:
        return f"{self.instrument_id} terms accepted {self.accepted_at:%Y-%m-%d}"


class ImportedInstrument(models.Model):
    """A practice's own licensed instrument definition, validated like the shipped ones."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="imported_instruments")
    instrument_id = models.CharField(max_length=64)
    version = models.CharField(max_length=32)
    title = models.CharField(max_length=300)
    definition = models.JSONField()
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField()

    class Meta:
        ordering = ["instrument_id", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "instrument_id", "version"], name="imported_instrument_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.version}"


# ------------------------------------------------------------------------------ the measurement loop
# Writes go through `spacebetween.measures.services` (the catalogue), `spacebetween.answering.services`
# (assignments and responses) and `spacebetween.plans.services`; nothing here enforces who may see what.


class AssignmentStatus(models.TextChoices):
    DUE = "due", "Due"
    SENT = "sent", "Sent"
    OPENED = "opened", "Opened"
    ANSWERED = "answered", "Answered"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class Assignment(models.Model):
    """One questionnaire a client is asked to answer for one episode, in the version that was current
    when it was assigned."""

    episode = models.ForeignKey("clients.Episode", on_delete=models.PROTECT, related_name="assignments")
    # The session it is asked for, when it is asked for one (the plan's session measures, or the
    # therapist's choice): the questionnaires of one session are sent together, one e-mail and one link.
    session = models.ForeignKey(
        "clients.Session", null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    instrument_id = models.CharField(max_length=64)
    instrument_version = models.CharField(max_length=32)
    due_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.DUE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["episode", "due_at"], name="assignment_episode_due")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=AssignmentStatus.values), name="assignment_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("due_at")), name="assignment_expires_after_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} due {self.due_at:%Y-%m-%d}"


class SubmittedVia(models.TextChoices):
    PORTAL = "portal", "Client portal"
    LINK = "link", "One-time link"
    API = "api", "API"
    STAFF = "staff", "Entered by staff"


class Response(models.Model):
    """A client's answers to one assignment, scored by `core.scoring` in the transaction that stored
    them. One per assignment: a second submission fails at the database too."""

    assignment = models.OneToOneField(Assignment, on_delete=models.PROTECT, related_name="response")
    instrument_id = models.CharField(max_length=64)
    instrument_version = models.CharField(max_length=32)
    instrument_language = models.CharField(max_length=16)
    answers = models.JSONField()  # {item_id: answer value or null}
    submitted_at = models.DateTimeField()
    submitted_via = models.CharField(max_length=8, choices=SubmittedVia.choices)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )  # null for a one-time link: the link, not a login, is the client's credential
    # {scale_id: {score, band, band_index, caseness, prorated, n_missing}}
    scores = models.JSONField()
    risk = models.JSONField(default=dict)  # {rule_id: fired, or null when the risk item was unanswered}
    any_risk = models.BooleanField(default=False)

    class Meta:
        ordering = ["submitted_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(submitted_via__in=SubmittedVia.values), name="response_via_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} response {self.submitted_at:%Y-%m-%d}"


# ------------------------------------------------------------------------------ measurement plans
# Which questionnaires an episode asks for, and when (core.schedule computes the dates). A practice
# has one default plan; each episode gets its own copy on first use, which its therapist may change.


class PlanWhen(models.TextChoices):
    INTAKE = "intake", "At intake"
    EVERY_SESSION = "every_session", "Before every session"
    EVERY_NTH_SESSION = "every_nth_session", "Before every n-th session"
    AFTER_EVERY_SESSION = "after_every_session", "After every session"
    END_OF_EPISODE = "end_of_episode", "At the end of the episode"
    FOLLOW_UP = "follow_up", "Follow-up after the episode"


class MeasurementPlan(models.Model):
    """A practice's default plan (no episode) or one episode's plan."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="measurement_plans")
    episode = models.OneToOneField(
        "clients.Episode", null=True, blank=True, on_delete=models.PROTECT, related_name="measurement_plan"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )  # empty when copied from the practice default by the scheduler
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice"],
                condition=models.Q(episode__isnull=True),
                name="measurement_plan_one_default_per_practice",
            )
        ]

    def __str__(self) -> str:
        return "Practice default plan" if self.episode_id is None else f"Plan for episode {self.episode_id}"


class MeasurementPlanItem(models.Model):
    """One row of a plan: an instrument and when it is asked for (see core.schedule.PlanRow)."""

    plan = models.ForeignKey(MeasurementPlan, on_delete=models.CASCADE, related_name="items")
    instrument_id = models.CharField(max_length=64)
    when = models.CharField(max_length=24, choices=PlanWhen.choices)
    every_n = models.PositiveSmallIntegerField(null=True, blank=True)
    months = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["instrument_id", "when", "every_n", "months", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(when__in=PlanWhen.values), name="plan_item_when_valid"),
            models.CheckConstraint(
                condition=models.Q(when=PlanWhen.EVERY_NTH_SESSION, every_n__gte=2)
                | ~models.Q(when=PlanWhen.EVERY_NTH_SESSION) & models.Q(every_n__isnull=True),
                name="plan_item_every_n_with_nth",
            ),
            models.CheckConstraint(
                condition=models.Q(when=PlanWhen.FOLLOW_UP, months__in=[3, 6, 12])
                | ~models.Q(when=PlanWhen.FOLLOW_UP) & models.Q(months__isnull=True),
                name="plan_item_months_with_follow_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.when}"


class PlannedMeasure(models.Model):
    """What the plan made due: one row per occasion, created with its assignment in one transaction.

    The unique key (episode, instrument, reason, occasion) is what makes the scheduler idempotent,
    also when two workers run it at once. `occasion` is the session id for a session measure, the
    months for a follow-up, and empty for intake and end of episode."""

    episode = models.ForeignKey("clients.Episode", on_delete=models.PROTECT, related_name="planned_measures")
    instrument_id = models.CharField(max_length=64)
    reason = models.CharField(max_length=24)
    occasion = models.CharField(max_length=32, blank=True)
    assignment = models.OneToOneField(Assignment, on_delete=models.PROTECT, related_name="planned")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "instrument_id", "reason", "occasion"], name="planned_measure_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.reason} {self.occasion}".strip()


class AssignmentReminder(models.Model):
    """The one reminder e-mail queued for an assignment (unique: never twice)."""

    assignment = models.OneToOneField(Assignment, on_delete=models.PROTECT, related_name="reminder")
    queued_at = models.DateTimeField()
    send_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Reminder for assignment {self.assignment_id}"
