"""Page forms: they parse; the services validate what matters (and say why)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django import forms

from spacebetween.clients.models import Session
from spacebetween.core.formulation import FIELDS, MAX_FIELD_LENGTH
from spacebetween.core.goals import GOAL_MAX, GOAL_MIN
from spacebetween.core.instruments import Instrument
from spacebetween.formulation.models import Goal
from spacebetween.ui.forms import PageForm


class FormulationForm(PageForm):
    measures = forms.MultipleChoiceField(
        label="Measures that should move if this is right",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="From the practice's instruments.",
    )

    def __init__(self, *args: Any, instruments: Mapping[str, Instrument], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field, label, group in FIELDS:
            self.fields[field] = forms.CharField(
                label=label if label == group else f"{group}: {label}",
                required=False,
                max_length=MAX_FIELD_LENGTH,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
        measures: Any = self.fields["measures"]
        measures.choices = sorted(
            ((iid, f"{i.title} ({iid})") for iid, i in instruments.items()), key=lambda c: c[1]
        )
        self.order_fields([f for f, _, _ in FIELDS] + ["measures"])

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"fields": {f: data.get(f, "") for f, _, _ in FIELDS}, "measures": data.get("measures", [])}


class GoalForm(PageForm):
    text = forms.CharField(
        label="A goal, in the client's own words",
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class GoalRatingForm(PageForm):
    goal = forms.TypedChoiceField(label="Goal", coerce=int)
    session = forms.TypedChoiceField(label="Session", coerce=int)
    score = forms.IntegerField(
        label="Rating (0 = no progress, 10 = goal reached)", min_value=GOAL_MIN, max_value=GOAL_MAX
    )

    def __init__(self, *args: Any, goals: Sequence[Goal], sessions: Sequence[Session], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        goal: Any = self.fields["goal"]
        session: Any = self.fields["session"]
        goal.choices = [(g.pk, f"Goal: {g.text}") for g in goals]
        session.choices = [
            (s.pk, f"Session {n}, {s.starts_at:%d %b %Y}") for n, s in reversed(list(enumerate(sessions, 1)))
        ]
