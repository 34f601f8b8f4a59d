"""Between sessions: exercises a therapist assigns for an episode and the client does in the portal,
and the psychoeducation pages a therapist shares and the client reads.

Writes go through `spacebetween.exercises.services`, reads through `selectors`. What the client writes
in an exercise is health data: stored encrypted (`spacebetween.crypto`, context `ENTRY_CONTEXT`). A
private entry is shown to no one but the client; the therapist sees only that it was done.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

ENTRY_CONTEXT = "exercises.ExerciseEntry.content:assignment={assignment_id}"


class Frequency(models.TextChoices):
    ONCE = "once", "Once"
    DAILY = "daily", "Every day"
    WEEKLY = "weekly", "Once a week"


class ExerciseAssignment(models.Model):
    episode = models.ForeignKey("clients.Episode", on_delete=models.PROTECT, related_name="exercises")
    exercise = models.CharField(max_length=64)  # an id from catalogue.exercises()
    frequency = models.CharField(max_length=8, choices=Frequency.choices)
    starts_on = models.DateField()  # the window in which it is asked for, practice dates, inclusive
    ends_on = models.DateField()
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-assigned_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="exercise_window_ordered"
            ),
            models.CheckConstraint(
                condition=models.Q(frequency__in=["once", "daily", "weekly"]), name="exercise_frequency_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Exercise {self.exercise} for episode {self.episode_id}"


class ExerciseEntry(models.Model):
    assignment = models.ForeignKey(ExerciseAssignment, on_delete=models.PROTECT, related_name="entries")
    recorded_at = models.DateTimeField()
    private = models.BooleanField(default=False)
    content = models.TextField()  # ciphertext of the answers as JSON (crypto.encrypt, ENTRY_CONTEXT)

    class Meta:
        ordering = ["-recorded_at", "-pk"]

    def __str__(self) -> str:
        return f"Entry {self.pk} of exercise {self.assignment_id}"


class ReadingShare(models.Model):
    episode = models.ForeignKey("clients.Episode", on_delete=models.PROTECT, related_name="readings")
    page = models.CharField(max_length=64)  # an id from catalogue.pages()
    shared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    shared_at = models.DateTimeField()
    first_read_at = models.DateTimeField(null=True, blank=True)
    last_read_at = models.DateTimeField(null=True, blank=True)
    times_read = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-shared_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["episode", "page"], name="reading_once_per_episode")]

    def __str__(self) -> str:
        return f"Page {self.page} shared in episode {self.episode_id}"
