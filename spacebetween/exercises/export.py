"""The exercises' part of the subject access archive (spacebetween.rights.export calls it): every
exercise set for the client, and every entry they wrote, decrypted. Private entries are included: a
private entry is kept from the therapist, not from the client whose words they are."""

from __future__ import annotations

from django.template.loader import render_to_string

from spacebetween.clients.models import Client
from spacebetween.exercises import own
from spacebetween.exercises.models import ExerciseAssignment
from spacebetween.exercises.selectors import entry_answers

FILENAME = "exercise-entries.html"


def exercise_entries_html(client: Client) -> str | None:
    """The client's exercises and entries as one page, or None when nothing was ever set."""
    assignments = list(
        ExerciseAssignment.objects.filter(episode__client=client)
        .select_related("practice_exercise")
        .prefetch_related("entries")
        .order_by("assigned_at", "pk")
    )
    if not assignments:
        return None
    rows = [
        (
            a,
            own.exercise_of(a),
            [(e, entry_answers(a, e)) for e in sorted(a.entries.all(), key=lambda e: e.recorded_at)],
        )
        for a in assignments
    ]
    return render_to_string("exercises/export_entries.html", {"client": client, "rows": rows})
