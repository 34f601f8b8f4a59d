"""The therapist's workspace for an episode: the case formulation, kept as versions (each revision a
new row, never an update), and the client's own goals with their 0-10 ratings (goal-based outcomes).

Writes go through `spacebetween.formulation.services`, reads through `selectors`; nothing here
enforces who may see what (`clients.access` does). The field list is `core.formulation.FIELDS`.

The free text is encrypted at rest as the process notes are (`spacebetween.crypto`, each value bound to
its row, so a ciphertext copied into another row does not decrypt): the formulation's parts, the goals'
words, and the memory-reconsolidation work's text (docs/formulation.md).
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from django.db.models import Q

from spacebetween import crypto
from spacebetween.core.reconsolidation import MARKER_IDS, OCCASIONS, RESULTS, STEPS

# Where each ciphertext lives (crypto contexts): never change one, or stored values stop decrypting.
FORMULATION_CONTEXT = "formulation.FormulationVersion.content:episode={episode_id}:number={number}"
GOAL_CONTEXT = "formulation.Goal.text:goal={goal_id}"
WORK_CONTEXT = "formulation.ReconsolidationWork.{field}:work={work_id}"
STEP_CONTEXT = "formulation.ReconsolidationStep.text:work={work_id}:number={number}"
CHECK_CONTEXT = "formulation.MarkerCheck.note:work={work_id}:number={number}"


def _open(token: str, context: str) -> str:
    return crypto.decrypt(token, context=context) if token else ""


def _seal(text: str, context: str) -> str:
    return crypto.encrypt(text, context=context) if text else ""


class FormulationVersion(models.Model):
    episode = models.ForeignKey("clients.Episode", on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField()  # 1, 2, ... within the episode
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    # {field id: text} (core.formulation.FIELD_IDS) as JSON, encrypted (FORMULATION_CONTEXT); `content`
    content_encrypted = models.TextField(default="", blank=True)
    measures = models.JSONField(default=list)  # instrument ids that should move if it is right
    # The evidence in the notes: ids of the episode's sessions whose notes bear on this version (issue
    # #17, part 2), in session order. Ids only: the notes stay in `notes`, read through its own pages.
    evidence = models.JSONField(default=list)

    class Meta:
        ordering = ["episode", "number"]
        constraints = [
            models.UniqueConstraint(fields=["episode", "number"], name="formulation_version_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="formulation_version_from_one"),
        ]

    def __str__(self) -> str:
        return f"Formulation {self.number} of episode {self.episode_id}"

    @staticmethod
    def context_for(episode_id: int, number: int) -> str:
        return FORMULATION_CONTEXT.format(episode_id=episode_id, number=number)

    def context_of(self, field: str) -> str:
        """The crypto context of an encrypted column (backups and key rotation ask)."""
        return self.context_for(self.episode_id, self.number)

    @property
    def content(self) -> dict[str, str]:
        text = _open(self.content_encrypted, self.context_for(self.episode_id, self.number))
        return dict(json.loads(text)) if text else {}

    def seal(self, content: dict[str, str]) -> None:
        """Set the content (encrypted); the caller saves. Needs `episode_id` and `number` set."""
        self.content_encrypted = _seal(json.dumps(content), self.context_for(self.episode_id, self.number))


class Goal(models.Model):
    episode = models.ForeignKey("clients.Episode", on_delete=models.CASCADE, related_name="+")
    # in the client's own words; encrypted (GOAL_CONTEXT, bound to the row's id): `text`
    text_encrypted = models.TextField(default="", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)  # set aside or reached: no longer active

    class Meta:
        ordering = ["episode", "created_at", "id"]

    def __str__(self) -> str:
        return f"Goal {self.pk} of episode {self.episode_id}"

    @property
    def is_active(self) -> bool:
        return self.closed_at is None

    def context_of(self, field: str) -> str:
        return GOAL_CONTEXT.format(goal_id=self.pk)

    @property
    def text(self) -> str:
        return _open(self.text_encrypted, self.context_of("text_encrypted"))

    def seal(self, text: str) -> None:
        """Set the words (encrypted); the row must have its id. The caller saves."""
        self.text_encrypted = _seal(text, GOAL_CONTEXT.format(goal_id=self.pk))


class GoalRating(models.Model):
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="ratings")
    session = models.ForeignKey("clients.Session", on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField()  # 0-10, rated by the client with the therapist
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["goal", "session"], name="goal_rating_one_per_session"),
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=10), name="goal_rating_range"),
        ]

    def __str__(self) -> str:
        return f"Rating of goal {self.goal_id} at session {self.session_id}"


# ------------------------------------------------------------------------------ memory reconsolidation


class ReconsolidationWork(models.Model):
    """One piece of memory-reconsolidation work in an episode (Ecker, Ticic & Hulley 2012): step A (the
    symptom and its emotional truth, in the client's words) here; steps B-D as `ReconsolidationStep`
    rows; the verification markers as `MarkerCheck` rows. Text encrypted (WORK_CONTEXT)."""

    episode = models.ForeignKey("clients.Episode", on_delete=models.CASCADE, related_name="+")
    # The formulation version it works from, if any (versions are never deleted; SET_NULL for erasure)
    formulation = models.ForeignKey(
        FormulationVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    measures = models.JSONField(default=list)  # instrument ids of the episode that should move
    symptom_encrypted = models.TextField(default="", blank=True)
    emotional_truth_encrypted = models.TextField(default="", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["episode", "created_at", "id"]

    def __str__(self) -> str:
        return f"Reconsolidation work {self.pk} of episode {self.episode_id}"

    def context_of(self, field: str) -> str:
        return WORK_CONTEXT.format(field=field.removesuffix("_encrypted"), work_id=self.pk)

    @property
    def symptom(self) -> str:
        return _open(self.symptom_encrypted, WORK_CONTEXT.format(field="symptom", work_id=self.pk))

    @property
    def emotional_truth(self) -> str:
        return _open(
            self.emotional_truth_encrypted, WORK_CONTEXT.format(field="emotional_truth", work_id=self.pk)
        )

    def seal(self, *, symptom: str, emotional_truth: str) -> None:
        """Set step A's text (encrypted); the row must have its id. The caller saves."""
        self.symptom_encrypted = _seal(symptom, WORK_CONTEXT.format(field="symptom", work_id=self.pk))
        self.emotional_truth_encrypted = _seal(
            emotional_truth, WORK_CONTEXT.format(field="emotional_truth", work_id=self.pk)
        )


class ReconsolidationStep(models.Model):
    """A dated step B, C or D (core.reconsolidation.STEPS), numbered within its work; text encrypted."""

    work = models.ForeignKey(ReconsolidationWork, on_delete=models.CASCADE, related_name="steps")
    number = models.PositiveIntegerField()  # 1, 2, ... within the work, shared with nothing else
    step = models.CharField(max_length=16, choices=[(s, label) for s, _, label in STEPS])
    occurred_on = models.DateField()
    text_encrypted = models.TextField(default="", blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["work", "number"]
        constraints = [
            models.UniqueConstraint(fields=["work", "number"], name="reconsolidation_step_unique"),
        ]

    def __str__(self) -> str:
        return f"Step {self.number} ({self.step}) of reconsolidation work {self.work_id}"

    def context_of(self, field: str) -> str:
        return STEP_CONTEXT.format(work_id=self.work_id, number=self.number)

    @property
    def text(self) -> str:
        return _open(self.text_encrypted, self.context_of("text_encrypted"))

    def seal(self, text: str) -> None:
        self.text_encrypted = _seal(text, STEP_CONTEXT.format(work_id=self.work_id, number=self.number))


RESULT_CHOICES = list(RESULTS)


class MarkerCheck(models.Model):
    """The verification markers checked on one occasion (a later session, or a 3/6/12-month follow-up),
    each yes / partly / no / not checked; the note encrypted (CHECK_CONTEXT)."""

    work = models.ForeignKey(ReconsolidationWork, on_delete=models.CASCADE, related_name="checks")
    number = models.PositiveIntegerField()  # 1, 2, ... within the work
    occasion = models.CharField(max_length=16, choices=list(OCCASIONS))
    checked_on = models.DateField()
    no_retrigger = models.CharField(max_length=16, choices=RESULT_CHOICES)
    symptom_ceased = models.CharField(max_length=16, choices=RESULT_CHOICES)
    effortless = models.CharField(max_length=16, choices=RESULT_CHOICES)
    note_encrypted = models.TextField(default="", blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["work", "checked_on", "number"]
        constraints = [
            models.UniqueConstraint(fields=["work", "number"], name="marker_check_unique"),
        ]

    def __str__(self) -> str:
        return f"Marker check {self.number} of reconsolidation work {self.work_id}"

    def context_of(self, field: str) -> str:
        return CHECK_CONTEXT.format(work_id=self.work_id, number=self.number)

    @property
    def note(self) -> str:
        return _open(self.note_encrypted, CHECK_CONTEXT.format(work_id=self.work_id, number=self.number))

    def seal(self, note: str) -> None:
        self.note_encrypted = _seal(note, CHECK_CONTEXT.format(work_id=self.work_id, number=self.number))

    def results(self) -> list[tuple[str, str]]:
        """(marker id, result id) in the markers' order."""
        return [(m, getattr(self, m)) for m in MARKER_IDS]
