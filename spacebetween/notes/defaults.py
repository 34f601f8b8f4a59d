"""The built-in templates: a practice without its own template for a kind of note gets these."""

from __future__ import annotations

from spacebetween.notes.models import NoteKind, QuestionPurpose

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

# The built-in library of open, guided-discovery questions, in the project's own words. They ask the
# client to look, not to agree: Padesky (1993) on guiding discovery rather than changing minds,
# Overholser (1993) on systematic questioning, Clark & Egan (2015) on the Socratic method in CBT; the
# here-and-now questions follow the relational attention to the therapy relationship itself
# (docs/notes.md gives the sources).
SOCRATIC_QUESTIONS: dict[str, tuple[str, ...]] = {
    QuestionPurpose.PATTERNS: (
        "When have you felt this way before?",
        "What tends to happen just before you feel like this?",
        "What do you usually do next, and what happens after that?",
        "Who else in your life has brought out this same feeling?",
    ),
    QuestionPurpose.PAST_IN_PRESENT: (
        "Whose voice does that thought sound like?",
        "When did you first learn that this was what people do?",
        "What did you need back then that you did not get?",
        "How old do you feel when this happens?",
    ),
    QuestionPurpose.EVIDENCE: (
        "What tells you that this is so? Is there anything that does not quite fit?",
        "How else could someone understand what happened?",
        "What would you say to a friend who told you this about themselves?",
        "If this belief loosened a little, what might change?",
    ),
    QuestionPurpose.HERE_AND_NOW: (
        "What is it like to tell me this, right now?",
        "How do you imagine I am feeling about what you just said?",
        "Is something happening between us that feels familiar?",
        "What did you notice in yourself when I said that?",
    ),
}


def prefill(headings: list[str] | tuple[str, ...]) -> str:
    """A new note's text: each heading on its own line, with room to write under it."""
    return "".join(f"{heading}:\n\n\n" for heading in headings)
