"""The progress notes' part of the subject access archive (spacebetween.rights.export calls it).
Process notes are the therapist's psychotherapy notes and never leave the practice this way."""

from __future__ import annotations

from django.template.loader import render_to_string

from spacebetween.clients.models import Client
from spacebetween.notes.selectors import asked_questions_for_export, progress_notes_for_export

FILENAME = "progress-notes.html"


def progress_notes_html(client: Client) -> str | None:
    """The client's signed progress notes and their addenda as one page, or None when there are none."""
    notes = progress_notes_for_export(client)
    if not notes:
        return None
    asked = asked_questions_for_export(client)
    rows = [(note, addenda, asked.get(note.session_id, [])) for note, addenda in notes]
    return render_to_string("notes/export_progress_notes.html", {"client": client, "notes": rows})
