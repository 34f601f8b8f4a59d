"""The audit log: append-only and hash-chained.

Each row has the shape of a FHIR R4 AuditEvent (who = actor, what = entity, action C/R/U/D/E,
outcome, when = recorded_at in UTC, where from = source_address, why = purpose), and never content.
Rows are chained: hash = SHA-256(previous hash + canonical row), so a changed, removed or reordered
row is detected by `spacebetween audit verify`. Database triggers refuse UPDATE and DELETE.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Action(models.TextChoices):
    # FHIR R4 AuditEventAction (http://hl7.org/fhir/R4/valueset-audit-event-action.html)
    CREATE = "C", "Create"
    READ = "R", "Read/view"
    UPDATE = "U", "Update"
    DELETE = "D", "Delete"
    EXECUTE = "E", "Execute"


class Outcome(models.IntegerChoices):
    # FHIR R4 AuditEventOutcome (http://hl7.org/fhir/R4/valueset-audit-event-outcome.html)
    SUCCESS = 0, "Success"
    MINOR_FAILURE = 4, "Minor failure"
    SERIOUS_FAILURE = 8, "Serious failure"
    MAJOR_FAILURE = 12, "Major failure"


class Purpose(models.TextChoices):
    # HL7 v3 PurposeOfUse codes (http://terminology.hl7.org/ValueSet/v3-PurposeOfUse)
    TREATMENT = "TREAT", "Treatment"
    OPERATIONS = "HOPERAT", "Healthcare operations"
    SYSTEM_ADMIN = "SYSADMIN", "System administration"
    PATIENT_REQUEST = "PATRQT", "Patient requested"


class Entity(StrEnum):
    """What an event is about (FHIR AuditEvent.entity): the one vocabulary of `entity_type`.

    The values are the strings rows have always carried (mostly the model's class name) and the
    chain's hashes cover them: never change one; add a member for a new kind of thing. Not a field
    choice: the column stays a plain string (a row keeps its value, whatever this list becomes)."""

    API_KEY = "ApiKey"
    API_REQUEST = "ApiRequest"  # an API call refused before its operation ran
    ASSIGNMENT = "Assignment"
    ASSIGNMENT_REMINDER = "AssignmentReminder"
    AUDIT_LOG = "AuditLog"  # a page: the practice's audit log, viewed or exported by its admin
    CASELOAD = "Caseload"  # a page: a therapist's list of clients
    CLIENT = "Client"
    CONSENT_RECORD = "ConsentRecord"  # a client's consent decision (spacebetween.consent)
    CRISIS_RESOURCE = "CrisisResource"
    EPISODE = "Episode"
    ESCALATION_POLICY = "EscalationPolicy"
    EXERCISE_ASSIGNMENT = "ExerciseAssignment"  # an exercise set for an episode (spacebetween.exercises)
    EXERCISE_ENTRY = "ExerciseEntry"  # a client's entry in an exercise
    EXPECTED_RECOVERY_FIT = "ExpectedRecoveryFit"
    FORMULATION_VERSION = "FormulationVersion"  # one version of an episode's case formulation
    GOAL = "Goal"  # a client's goal in their own words (spacebetween.formulation)
    GOAL_RATING = "GoalRating"  # a goal rated 0-10 at a session
    IMPORTED_INSTRUMENT = "ImportedInstrument"
    INSIGHT_SETTINGS = "InsightSettings"
    INSTRUMENT = "Instrument"
    INSTRUMENT_ACCEPTANCE = "InstrumentAcceptance"  # one licensed instrument's terms, accepted
    NOTE_TEMPLATE = "NoteTemplate"  # a practice's headings for a kind of session note (spacebetween.notes)
    MEASUREMENT_PLAN = "MeasurementPlan"
    OUTBOX = "Outbox"  # a page: the practice's e-mail outbox, viewed by its admin
    OUTBOX_MESSAGE = "OutboxMessage"
    PACK_ACCEPTANCE = "PackAcceptance"
    PAGE = "Page"  # a page refused to a role (the entity id names the page)
    PRACTICE = "Practice"
    PRACTICE_EXERCISE = "PracticeExercise"  # an exercise a practice wrote (spacebetween.exercises.own)
    PRACTICE_PAGE = "PracticePage"  # a library page a practice wrote (spacebetween.exercises.own_pages)
    PRACTICE_OUTCOMES = "PracticeOutcomes"  # a page: the practice's outcomes
    PRACTICE_OVERVIEW = "PracticeOverview"  # a page: the practice at a glance
    PRACTICE_SETTINGS = "PracticeSettings"  # a page: the practice's settings in one place
    PROCESS_NOTE = "ProcessNote"  # a therapist's private process note on a session (encrypted)
    PROGRESS_NOTE = "ProgressNote"  # a session's progress note, part of the clinical record
    # whether a client sees their own progress in the portal (spacebetween.progress)
    PROGRESS_VIEW_SETTING = "ProgressViewSetting"
    QUESTIONNAIRE_LINK = "QuestionnaireLink"
    MARKER_CHECK = "MarkerCheck"  # verification markers checked on reconsolidation work (formulation)
    RECONSOLIDATION_STEP = "ReconsolidationStep"  # a dated step of reconsolidation work
    RECONSOLIDATION_WORK = "ReconsolidationWork"  # memory-reconsolidation work in an episode
    READING_SHARE = "ReadingShare"  # a psychoeducation page shared with a client
    RESPONSE = "Response"
    RETENTION_POLICY = "RetentionPolicy"  # a practice's retention rule (spacebetween.rights)
    RISK_FLAG = "RiskFlag"
    RISK_NOTIFICATION = "RiskNotification"
    RISK_SEVERITY_RULE = "RiskSeverityRule"
    RUPTURE_NOTE = "RuptureNote"  # a therapist's note on an alliance rupture (spacebetween.relationship)
    SAFETY_PLAN = "SafetyPlan"
    SEARCH = "Search"  # a page: a therapist's search of their own caseload (spacebetween.search)
    SESSION = "Session"
    SESSION_QUESTION = "SessionQuestion"  # a Socratic question pinned to a session (spacebetween.notes)
    SESSION_REFLECTION = "SessionReflection"
    SESSION_THEME = "SessionTheme"  # a transference or counter-transference theme tagged on a session
    SIGN_IN_LINK = "SignInLink"  # a one-time link to set up an account (`spacebetween setup`)
    SOCRATIC_QUESTION = "SocraticQuestion"  # a practice's library of Socratic questions
    THEME_LABEL = "ThemeLabel"  # a label in a practice's list of transference themes
    SUPERVISION_NOTE = "SupervisionNote"  # a supervisor's note on an episode shared for supervision
    TRANSCRIPT = "Transcript"  # a session's transcript, its turns encrypted (spacebetween.transcripts)
    USER = "User"


class AuditEvent(models.Model):
    seq = models.BigIntegerField(primary_key=True)
    recorded_at = models.DateTimeField()
    event_type = models.CharField(max_length=32)  # e.g. "rest", "login", "logout", "access-denied", "export"
    action = models.CharField(max_length=1, choices=Action.choices)
    outcome = models.PositiveSmallIntegerField(choices=Outcome.choices)
    # Plain ids, not foreign keys: the log outlives and never cascades with what it describes.
    practice_id = models.BigIntegerField(null=True)
    actor_id = models.BigIntegerField(null=True)
    actor_role = models.CharField(max_length=16, blank=True)
    entity_type = models.CharField(max_length=64, blank=True)
    entity_id = models.CharField(max_length=64, blank=True)
    source_address = models.GenericIPAddressField(null=True)
    purpose = models.CharField(max_length=16, choices=Purpose.choices, blank=True)
    # A short machine-readable reason ("bad-password", "mfa-required"); never clinical content.
    detail = models.CharField(max_length=120, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["practice_id", "recorded_at"]),
            models.Index(fields=["entity_type", "entity_id"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event_type} {self.action} {self.entity_type}"


class AuditChainHead(models.Model):
    """One row holding the last sequence number and hash: locked to append, so the chain is linear."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"audit chain head at #{self.seq}"
