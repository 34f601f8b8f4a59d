"""A case formulation's fields, and what changed between two versions of it.

The fields follow the psychodynamic formulation the workspace asks for (docs/formulation.md): the
presenting problems; the core conflictual relationship theme as wish -> expected response of others ->
response of self (Luborsky & Crits-Christoph 1990); Malan's (1979) triangle of conflict (feeling,
anxiety, defence) and triangle of person (past, current, therapist); attachment and defences;
strengths; what the symptom may protect. Plain text: the framework-free part is the comparison.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# (field id, label, group), in the order a formulation is read.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("presenting_problems", "Presenting problems", "Presenting problems"),
    ("ccrt_wish", "Wish", "Core conflictual relationship theme"),
    ("ccrt_response_of_other", "Expected response of others", "Core conflictual relationship theme"),
    ("ccrt_response_of_self", "Response of self", "Core conflictual relationship theme"),
    ("conflict_feeling", "Feeling", "Triangle of conflict"),
    ("conflict_anxiety", "Anxiety", "Triangle of conflict"),
    ("conflict_defence", "Defence", "Triangle of conflict"),
    ("person_past", "Past", "Triangle of person"),
    ("person_current", "Current", "Triangle of person"),
    ("person_therapist", "Therapist", "Triangle of person"),
    ("attachment_and_defences", "Attachment and defences", "Attachment and defences"),
    ("strengths", "Strengths", "Strengths"),
    ("symptom_protects", "What the symptom may protect", "What the symptom may protect"),
    ("should_move", "What should move if this is right", "What should move if this is right"),
)
FIELD_IDS = tuple(f for f, _, _ in FIELDS)
MAX_FIELD_LENGTH = 4000


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    group: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _norm(text: object) -> str:
    return str(text or "").strip()


def compare(
    before: Mapping[str, object],
    after: Mapping[str, object],
    *,
    before_measures: Sequence[str] = (),
    after_measures: Sequence[str] = (),
) -> list[FieldChange]:
    """Every field side by side, in reading order, each saying whether it changed (whitespace at the
    ends does not count), then the measures chosen to show change."""
    rows = [
        FieldChange(field, label, group, _norm(before.get(field)), _norm(after.get(field)))
        for field, label, group in FIELDS
    ]
    rows.append(
        FieldChange(
            "measures",
            "Measures that should move",
            "What should move if this is right",
            ", ".join(sorted(before_measures)),
            ", ".join(sorted(after_measures)),
        )
    )
    return rows


def changed_fields(before: Mapping[str, object], after: Mapping[str, object]) -> list[str]:
    return [row.field for row in compare(before, after) if row.changed]
