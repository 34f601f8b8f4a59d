"""The built-in templates: a practice without its own template for a kind of note gets these."""

from __future__ import annotations

from spacebetween.notes.models import NoteKind

DEFAULT_NAMES = {
    NoteKind.PROGRESS: "Progress note",
    NoteKind.PROCESS: "Psychodynamic process note",
}
DEFAULT_HEADINGS: dict[str, tuple[str, ...]] = {
    NoteKind.PROGRESS: ("What happened", "Interventions", "Plan"),
    NoteKind.PROCESS: (
        "Themes",
        "Transference",
        "Counter-transference",
        "Defences",
        "Interventions",
        "Socratic questions asked and what they opened",
    ),
}


def prefill(headings: list[str] | tuple[str, ...]) -> str:
    """A new note's text: each heading on its own line, with room to write under it."""
    return "".join(f"{heading}:\n\n\n" for heading in headings)
