"""Safety: risk flags and who was told, what each risk answer means to the practice, how far a flag
escalates, the client's safety plan, and the practice's own crisis resources. Writes go through
`spacebetween.safety.risk` (flags), `spacebetween.safety.services` (settings, safety plans) and
`spacebetween.safety.crisis` (crisis resources, the practice's country); reads through
`safety.access`, `safety.selectors` and `safety.crisis`.

`RiskFlag` and `RiskNotification` were born in `measures`, `CrisisResource` in `delivery`; their
tables keep their first names (`measures_riskflag`, `measures_risknotification`,
`delivery_crisisresource`) so that moving them here moved no data (migrations safety 0001 and
measures 0004; safety 0003 and delivery 0002)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from spacebetween.practice.models import Practice


class Severity(models.TextChoices):
    """What a risk answer asks of the clinician. The defaults per rule are `safety.severity.DEFAULTS`
    (docs/safety.md cites them); a practice may set its own (`RiskSeverityRule`)."""

    URGENT = "urgent", "Urgent: act today"
    REVIEW = "review", "Review within one working day"


class FlagSource(models.TextChoices):
    """Where the risk answer was read: every path that carries an answer goes through
    `safety.risk.screen` (tests/safety/test_entry_points.py walks each one)."""

    SUBMITTED = "submitted", "Submitted answers"
    REFUSED = "refused", "Answers that could not be scored"
    DRAFT = "draft", "Answer saved before sending"
    CLOSED = "closed", "Sent after the questionnaire had closed"


class RiskFlag(models.Model):
    """A risk item endorsed on a questionnaire (PHQ-9 item 9 > 0 and the like), raised for the treating
    therapist; open until a clinician acknowledges it and says what was done.

    One per assignment and rule, whatever path first carried the answer: a saved draft, a refused or a
    late submission, or the stored response (attached to it once it arrives). `answer_value` is the
    highest value given for this assignment, `last_value` the latest (a client may change a saved
    answer; the flag stays)."""

    assignment = models.ForeignKey("measures.Assignment", on_delete=models.PROTECT, related_name="risk_flags")
    response = models.ForeignKey(
        "measures.Response", null=True, blank=True, on_delete=models.PROTECT, related_name="risk_flags"
    )
    episode = models.ForeignKey("clients.Episode", on_delete=models.PROTECT, related_name="risk_flags")
    rule_id = models.CharField(max_length=64)
    item_id = models.CharField(max_length=64)
    answer_value = models.FloatField()  # the highest value endorsed for this assignment
    last_value = models.FloatField(null=True, blank=True)  # the latest value given, when it differs
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.URGENT)
    source = models.CharField(max_length=16, choices=FlagSource.choices, default=FlagSource.SUBMITTED)
    raised_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action_taken = models.TextField(blank=True)
    # The escalation chain (safety.escalation): step 0 is the treating therapist, told when the flag
    # is raised; each later step is the next person of the chain, `next_escalation_at` after the last.
    escalation_step = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)  # the latest escalation
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Set when the chain has nobody left to tell and the flag is still open: shown loudly on the
    # caseload and the admin's pages until someone acknowledges it.
    unreachable_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "measures_riskflag"
        ordering = ["raised_at", "id"]
        indexes = [
            models.Index(fields=["acknowledged_at", "raised_at"], name="risk_flag_open"),
            models.Index(fields=["acknowledged_at", "next_escalation_at"], name="risk_flag_escalation_due"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "rule_id"], name="risk_flag_one_per_rule"),
            models.CheckConstraint(
                condition=models.Q(acknowledged_at__isnull=True, acknowledged_by__isnull=True)
                | models.Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False)
                & ~models.Q(action_taken=""),
                name="risk_flag_acknowledged_with_action",
            ),
            models.CheckConstraint(
                condition=models.Q(severity__in=Severity.values), name="risk_flag_severity"
            ),
            models.CheckConstraint(condition=models.Q(source__in=FlagSource.values), name="risk_flag_source"),
        ]

    def __str__(self) -> str:
        return f"Risk flag {self.rule_id} raised {self.raised_at:%Y-%m-%d %H:%M}"


class RiskNotificationKind(models.TextChoices):
    RAISED = "raised", "Raised for the treating therapist"
    ESCALATED = "escalated", "Escalated to the next person"


class RiskNotification(models.Model):
    """One step of telling someone that a flag needs review, committed with the flag or with the
    escalation step (a transactional outbox): an in-app notice and its e-mail.

    Minimal PHI: it names no client, score or answer; the recipient follows the flag's link after
    signing in. `recipient` is empty for the practice's on-call address (`to_address`)."""

    flag = models.ForeignKey(RiskFlag, on_delete=models.PROTECT, related_name="notifications")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_address = models.EmailField(blank=True)
    kind = models.CharField(max_length=16, choices=RiskNotificationKind.choices)
    step = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "measures_risknotification"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["delivered_at", "created_at"], name="risk_notification_pending")]
        constraints = [
            models.UniqueConstraint(fields=["flag", "step"], name="risk_notification_once_per_step"),
        ]

    def __str__(self) -> str:
        return f"Risk notification ({self.kind}, step {self.step}) for flag {self.flag_id}"


class RiskSeverityRule(models.Model):
    """The practice's own meaning of a risk answer: from `min_value` up (until the next row of the
    same rule), an answer to `rule_id` is `severity`. Rules without rows keep the defaults."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="risk_severity_rules")
    rule_id = models.CharField(max_length=64)
    min_value = models.FloatField()
    severity = models.CharField(max_length=8, choices=Severity.choices)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["practice", "rule_id", "min_value"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "rule_id", "min_value"], name="risk_severity_one_per_value"
            ),
            models.CheckConstraint(
                condition=models.Q(severity__in=Severity.values), name="risk_severity_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} >= {self.min_value}: {self.severity}"


class EscalationPolicy(models.Model):
    """How long an open flag waits before the next person of the chain is told, by severity, and an
    optional on-call address as the chain's last step. Without a row the defaults apply
    (`safety.escalation.DEFAULT_MINUTES`)."""

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="escalation_policy")
    urgent_minutes = models.PositiveIntegerField()
    review_minutes = models.PositiveIntegerField()
    on_call_email = models.EmailField(blank=True)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(urgent_minutes__gte=5), name="escalation_urgent_min"),
            models.CheckConstraint(condition=models.Q(review_minutes__gte=5), name="escalation_review_min"),
        ]

    def __str__(self) -> str:
        return f"Escalation policy of practice {self.practice_id}"


class SafetyPlan(models.Model):
    """One version of a client's safety plan, written by the therapist with the client. The sections
    follow the structure of Stanley & Brown's Safety Planning Intervention (Stanley B, Brown GK.
    Safety Planning Intervention: a brief intervention to mitigate suicide risk. Cogn Behav Pract.
    2012;19(2):256-264), in the project's own words (`safety.plans.SECTIONS`). Versions are never
    changed: saving writes the next one, and the client sees the latest."""

    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="safety_plans")
    version = models.PositiveIntegerField()
    warning_signs = models.TextField(blank=True)
    coping_strategies = models.TextField(blank=True)
    distractions = models.TextField(blank=True)
    people_to_ask = models.TextField(blank=True)
    professionals = models.TextField(blank=True)
    safer_environment = models.TextField(blank=True)
    reasons_for_living = models.TextField(blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["client", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["client", "version"], name="safety_plan_one_per_version"),
        ]

    def __str__(self) -> str:
        return f"Safety plan v{self.version} of client {self.client_id}"


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
        db_table = "delivery_crisisresource"
        ordering = ["practice", "country", "position", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.country})"
