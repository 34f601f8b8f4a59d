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


class PracticeExercise(models.Model):
    """An exercise a therapist of the practice wrote from the building blocks (exercises.own): every
    therapist of the practice can set it, as the built-in ones. Never edited once written (entries
    hang off its questions); retired instead, and written anew."""

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=120)
    why = models.TextField()  # the rationale, for the client
    steps = models.JSONField()  # list of strings
    fields = models.JSONField()  # list of {name, label, kind, required, options}
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)  # suggested length, a timed one
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["title", "pk"]

    def __str__(self) -> str:
        return f"Practice exercise {self.pk}"


class PracticePage(models.Model):
    """A psychoeducation page a therapist of the practice wrote in Markdown (exercises.own_pages):
    shared and read like the built-in ones. Stored as written; rendered with raw HTML off and only
    http, https and mailto links, at each reading."""

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=120)
    summary = models.CharField(max_length=300)
    body = models.TextField()  # Markdown
    sources = models.JSONField(default=list)  # list of strings, may be empty
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField()

    class Meta:
        ordering = ["title", "pk"]

    def __str__(self) -> str:
        return f"Practice page {self.pk}"


class ExerciseAssignment(models.Model):
    episode = models.ForeignKey("clients.Episode", on_delete=models.PROTECT, related_name="exercises")
    # An id from catalogue.exercises(), or "practice-<pk>" for one of the practice's own (then
    # `practice_exercise` is set too).
    exercise = models.CharField(max_length=64)
    practice_exercise = models.ForeignKey(
        PracticeExercise, on_delete=models.PROTECT, null=True, blank=True, related_name="assignments"
    )
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
    page = models.CharField(max_length=64)  # an id from catalogue.pages(), or "practice-page-<pk>"
    practice_page = models.ForeignKey(
        PracticePage, on_delete=models.PROTECT, null=True, blank=True, related_name="shares"
    )
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


class ExerciseReminder(models.Model):
    """The one reminder e-mail queued for an exercise's due day (a daily exercise: that day; a weekly
    one: the last day of each week of its window). Unique per due day: never twice."""

    assignment = models.ForeignKey(ExerciseAssignment, on_delete=models.PROTECT, related_name="reminders")
    due_on = models.DateField()  # practice date
    queued_at = models.DateTimeField()
    send_at = models.DateTimeField()

    class Meta:
        ordering = ["-due_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "due_on"], name="exercise_reminder_once_per_due_day"
            )
        ]

    def __str__(self) -> str:
        return f"Reminder for exercise {self.assignment_id} due {self.due_on}"
