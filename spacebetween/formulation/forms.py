"""Page forms: they parse; the services validate what matters (and say why)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django import forms

from spacebetween.clients.models import Session
from spacebetween.core.formulation import FIELDS, MAX_FIELD_LENGTH
from spacebetween.core.goals import GOAL_MAX, GOAL_MIN
from spacebetween.core.instruments import Instrument
from spacebetween.core.reconsolidation import MARKER_IDS, MARKERS, OCCASIONS, RESULTS, STEPS
from spacebetween.formulation.models import FormulationVersion, Goal
from spacebetween.ui.forms import PageForm


class FormulationForm(PageForm):
    measures = forms.MultipleChoiceField(
        label="Measures that should move if this is right",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="From the practice's instruments.",
    )

    evidence = forms.TypedMultipleChoiceField(
        label="Evidence in the notes: sessions whose notes bear on it",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=(
            "The sessions of this episode that have taken place; the formulation links to their "
            "progress notes."
        ),
    )

    def __init__(
        self,
        *args: Any,
        instruments: Mapping[str, Instrument],
        sessions: Sequence[Session] = (),
        **kwargs: Any,
    ) -> None:
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
        evidence: Any = self.fields["evidence"]
        evidence.choices = [(s.pk, f"Session {n}, {s.starts_at:%d %b %Y}") for n, s in enumerate(sessions, 1)]
        self.order_fields([f for f, _, _ in FIELDS] + ["measures", "evidence"])

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "fields": {f: data.get(f, "") for f, _, _ in FIELDS},
            "measures": data.get("measures", []),
            "evidence": data.get("evidence", []),
        }


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


# ------------------------------------------------------------------------------ memory reconsolidation

_DATE = forms.DateInput(attrs={"type": "date"})


class ReconsolidationForm(PageForm):
    symptom = forms.CharField(
        label="A. The symptom to be dissolved, in the client's words",
        max_length=MAX_FIELD_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    emotional_truth = forms.CharField(
        label="Its emotional truth: the implicit learning that makes it necessary, in the client's words",
        max_length=MAX_FIELD_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    formulation = forms.TypedChoiceField(label="Formulation version it follows", coerce=int, required=False)
    measures = forms.MultipleChoiceField(
        label="Measures that should move",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The measures this episode uses.",
    )

    def __init__(
        self,
        *args: Any,
        versions: Sequence[FormulationVersion],
        instruments: Mapping[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        formulation: Any = self.fields["formulation"]
        formulation.choices = [("", "None")] + [(v.pk, f"Version {v.number}") for v in versions]
        measures: Any = self.fields["measures"]
        measures.choices = [(iid, f"{title} ({iid})") for iid, title in instruments.items()]


class StepForm(PageForm):
    step = forms.ChoiceField(label="Step", choices=[(s, f"{letter}. {label}") for s, letter, label in STEPS])
    occurred_on = forms.DateField(label="Date", widget=_DATE)
    text = forms.CharField(
        label="What happened, in the client's words",
        max_length=MAX_FIELD_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MarkerCheckForm(PageForm):
    occasion = forms.ChoiceField(label="When", choices=OCCASIONS)
    checked_on = forms.DateField(label="Date checked", widget=_DATE)
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=MAX_FIELD_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for marker, label in MARKERS:
            self.fields[marker] = forms.ChoiceField(label=label, choices=RESULTS, widget=forms.RadioSelect)
        self.order_fields(["occasion", "checked_on", *MARKER_IDS, "note"])

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "occasion": data["occasion"],
            "checked_on": data["checked_on"],
            "results": {m: data[m] for m in MARKER_IDS},
            "note": data.get("note", ""),
        }
