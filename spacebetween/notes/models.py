"""Session notes, two kinds kept apart in separate tables.

- `ProgressNote`: what happened, the interventions, the plan. Part of the clinical record: the client
  may ask for it (it goes in the subject access archive), and a supervisor of an episode shared for
  supervision reads it.
- `ProcessNote`: the therapist's private psychotherapy (process) notes, modelled on HIPAA's
  "psychotherapy notes" (45 CFR 164.501). Stored encrypted (`spacebetween.crypto`, bound to its row),
  never exported, reported or served by the API; a supervisor reads one only when the therapist shares
  that very note for supervision.

- `SupervisionNote`: the supervisor's notes on an episode shared for supervision, encrypted like a
  process note, read by their author and the treating therapist only.
- `SocraticQuestion` (a practice's library of open questions) and `SessionQuestion` (those pinned to
  a session's plan, ticked in its progress note).

A note is a draft until its author signs it; a signed note is never edited again, only added to by
addenda (timestamped, signed by the note's author). Writes go through `notes.services`, reads through
`notes.selectors`; nothing here decides who may see what.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

# Where a process note's ciphertext lives: a copy moved to another row does not decrypt.
PROCESS_NOTE_CONTEXT = "notes.ProcessNote.body:session={session_id}"
PROCESS_ADDENDUM_CONTEXT = "notes.ProcessAddendum.body:note={note_id}:number={number}"


class NoteKind(models.TextChoices):
    PROGRESS = "progress", "Progress note"
    PROCESS = "process", "Process note"


class NoteTemplate(models.Model):
    """A practice's headings for one kind of note, prefilled into a new note. Without a row the
    built-in default for that kind is used (`notes.defaults`)."""

    practice = models.ForeignKey("practice.Practice", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=NoteKind.choices)
    name = models.CharField(max_length=100)
    headings = models.JSONField(default=list)  # list[str], in order
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "kind"], name="notes_one_template_per_kind"),
            models.CheckConstraint(
                condition=models.Q(kind__in=["progress", "process"]), name="notes_template_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Note(models.Model):
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    signed_at = models.DateTimeField(null=True, blank=True)  # set once; a signed note never changes

    class Meta:
        abstract = True

    @property
    def signed(self) -> bool:
        return self.signed_at is not None


class ProgressNote(Note):
    session = models.OneToOneField("clients.Session", on_delete=models.PROTECT, related_name="progress_note")

    def __str__(self) -> str:
        return f"Progress note on session {self.session_id}"


class ProcessNote(Note):
    """`body` is ciphertext (crypto.encrypt, PROCESS_NOTE_CONTEXT) or ""."""

    session = models.OneToOneField("clients.Session", on_delete=models.PROTECT, related_name="process_note")
    # The therapist's choice, for this note only: their supervisor may read it (on a shared episode).
    shared_for_supervision = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Process note on session {self.session_id}"


class Addendum(models.Model):
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()  # 1, 2, ... within its note
    body = models.TextField()
    signed_at = models.DateTimeField()

    class Meta:
        abstract = True


class ProgressAddendum(Addendum):
    note = models.ForeignKey(ProgressNote, on_delete=models.PROTECT, related_name="addenda")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["note", "number"], name="notes_progress_addendum_number")
        ]

    def __str__(self) -> str:
        return f"Addendum {self.number} to {self.note}"


class ProcessAddendum(Addendum):
    """`body` is ciphertext (crypto.encrypt, PROCESS_ADDENDUM_CONTEXT)."""

    note = models.ForeignKey(ProcessNote, on_delete=models.PROTECT, related_name="addenda")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["note", "number"], name="notes_process_addendum_number")
        ]

    def __str__(self) -> str:
        return f"Addendum {self.number} to {self.note}"


# A supervision note's ciphertext is bound to its episode and its place in that episode's list.
SUPERVISION_NOTE_CONTEXT = "notes.SupervisionNote.body:episode={episode_id}:number={number}"


class SupervisionNote(models.Model):
    """What the supervisor wrote about an episode its therapist shared for supervision: a dated,
    signed entry, never edited (a later thought is a later note). Read by the supervisor who wrote it
    and by the episode's treating therapist; no one else, and never exported. `body` is ciphertext
    (crypto.encrypt, SUPERVISION_NOTE_CONTEXT), as a process note's."""

    episode = models.ForeignKey("clients.Episode", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()  # 1, 2, ... within the episode
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    written_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["episode", "number"], name="notes_supervision_note_number")
        ]

    def __str__(self) -> str:
        return f"Supervision note {self.number} on episode {self.episode_id}"


class QuestionPurpose(models.TextChoices):
    """What an open question is for (docs/notes.md: Padesky 1993; Overholser 1993; Clark & Egan 2015)."""

    PATTERNS = "patterns", "Exploring patterns"
    PAST_IN_PRESENT = "past", "The past in the present"
    EVIDENCE = "evidence", "Evidence and alternatives"
    HERE_AND_NOW = "here-and-now", "The here-and-now of the relationship"


class SocraticQuestion(models.Model):
    """One question of a practice's library. Without any row for a purpose the built-in questions
    (`notes.defaults.SOCRATIC_QUESTIONS`) apply."""

    practice = models.ForeignKey("practice.Practice", on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=16, choices=QuestionPurpose.choices)
    position = models.PositiveIntegerField()
    text = models.CharField(max_length=300)

    class Meta:
        ordering = ["practice", "purpose", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "purpose", "position"], name="notes_socratic_question_position"
            )
        ]

    def __str__(self) -> str:
        return self.text


class SessionQuestion(models.Model):
    """A question pinned to a session's plan: its wording is copied, so a later edit of the library
    leaves the plan as it was. Ticked in the progress note when asked, with what it opened; part of the
    progress note, so stored as it is."""

    session = models.ForeignKey("clients.Session", on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=16, choices=QuestionPurpose.choices)
    text = models.CharField(max_length=300)
    position = models.PositiveIntegerField()
    asked = models.BooleanField(default=False)
    opened = models.TextField(blank=True)  # what asking it opened, in a line or two

    class Meta:
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "text"], name="notes_session_question_once")
        ]

    def __str__(self) -> str:
        return self.text
