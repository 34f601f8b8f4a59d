"""The practice's library of Socratic questions: its own, purpose by purpose, or the built-in ones
(`notes.defaults.SOCRATIC_QUESTIONS`) for a purpose it has not changed."""

from __future__ import annotations

from dataclasses import dataclass

from spacebetween.notes.defaults import SOCRATIC_QUESTIONS
from spacebetween.notes.models import QuestionPurpose, SocraticQuestion


@dataclass(frozen=True)
class PurposeQuestions:
    purpose: str
    label: str
    questions: list[str]
    custom: bool  # the practice's own wording, not the built-in


def library(practice_id: int) -> list[PurposeQuestions]:
    stored: dict[str, list[str]] = {}
    for purpose, text in SocraticQuestion.objects.filter(practice_id=practice_id).values_list(
        "purpose", "text"
    ):
        stored.setdefault(purpose, []).append(text)
    return [
        PurposeQuestions(
            p.value, str(p.label), stored.get(p.value, list(SOCRATIC_QUESTIONS[p.value])), p.value in stored
        )
        for p in QuestionPurpose
    ]
