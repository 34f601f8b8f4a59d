"""The therapist's workspace for an episode: the case formulation, kept as versions (each revision a
new row, never an update), and the client's own goals with their 0-10 ratings (goal-based outcomes).

Writes go through `spacebetween.formulation.services`, reads through `selectors`; nothing here
enforces who may see what (`clients.access` does). The field list is `core.formulation.FIELDS`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class FormulationVersion(models.Model):
    episode = models.ForeignKey("clients.Episode", on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField()  # 1, 2, ... within the episode
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    content = models.JSONField(default=dict)  # {field id: text}, core.formulation.FIELD_IDS
    measures = models.JSONField(default=list)  # instrument ids that should move if it is right

    class Meta:
        ordering = ["episode", "number"]
        constraints = [
            models.UniqueConstraint(fields=["episode", "number"], name="formulation_version_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="formulation_version_from_one"),
        ]

    def __str__(self) -> str:
        return f"Formulation {self.number} of episode {self.episode_id}"


class Goal(models.Model):
    episode = models.ForeignKey("clients.Episode", on_delete=models.CASCADE, related_name="+")
    text = models.TextField()  # in the client's own words
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
