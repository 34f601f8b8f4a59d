"""The after-session form: one short page, typed from the keyboard (numbers for the rating, one
checkbox per feeling, the intensity as radio buttons). Rules live in `relationship.services`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from spacebetween.clients.forms import PageForm
from spacebetween.core.instruments import Instrument
from spacebetween.relationship.measures import MAX_NOTE_LENGTH, SESSION_RATING, Feeling, Intensity
from spacebetween.relationship.models import Repaired, RuptureKind, ThemeKind, ThemeLabel
from spacebetween.relationship.services import MAX_RUPTURE_TEXT, MAX_THEME_LABEL


class ReflectionForm(PageForm):
    feelings = forms.MultipleChoiceField(
        label="What did you feel toward the client?",
        choices=Feeling.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick any that fit; leave all empty if none did.",
    )
    intensity = forms.TypedChoiceField(
        label="How strong were these feelings?",
        choices=Intensity.choices,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Anything else you noticed in yourself",
        required=False,
        max_length=MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            "Private: seen only by you, here. Never in a report, not even one for your supervisor. "
            "Stored encrypted."
        ),
    )
    share_with_supervisor = forms.BooleanField(
        label="Share this check-in with my supervisor",
        required=False,
        help_text=(
            "The feelings and their intensity (never the note) then appear in the supervision copy of the "
            "progress report, which your supervisor can download once you share this episode for "
            "supervision. Unticked, the check-in is in no report unless you include it in one you make "
            "for yourself."
        ),
    )

    def __init__(self, *args: Any, instrument: Instrument | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        measure: dict[str, forms.Field] = {}
        if instrument is None:
            for item in SESSION_RATING.items:
                measure[item.id] = forms.IntegerField(
                    label=item.text,
                    min_value=SESSION_RATING.minimum,
                    max_value=SESSION_RATING.maximum,
                    widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "rating"}),
                    help_text=f"{SESSION_RATING.minimum} not at all to {SESSION_RATING.maximum} completely",
                )
        else:
            for it in instrument.items:
                measure[it.id] = forms.TypedChoiceField(
                    label=it.text,
                    choices=[(o.value, o.display) for o in it.options],
                    coerce=float,
                    required=it.required,
                    empty_value=None,
                    widget=forms.RadioSelect,
                )
        # The relationship first, then the check-in.
        self.fields = {**measure, **self.fields}
        self.measure_fields = list(measure)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        answers = {name: data[name] for name in self.measure_fields}
        if self.instrument is not None:
            answers = {
                k: int(v) if v is not None and float(v).is_integer() else v for k, v in answers.items()
            }
        return {
            "answers": answers,
            "feelings": data["feelings"],
            "intensity": data["intensity"],
            "note": data["note"],
            "share_with_supervisor": data["share_with_supervisor"],
        }


class RuptureNoteForm(PageForm):
    """A short note on an alliance rupture (Safran & Muran 2000; Eubanks, Muran & Safran 2018)."""

    what_happened = forms.CharField(
        label="What happened",
        max_length=MAX_RUPTURE_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The moment the work between you broke down or strained, in a few lines.",
    )
    therapist_part = forms.CharField(
        label="Your own part in it",
        required=False,
        max_length=MAX_RUPTURE_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you did, felt or missed that may have contributed.",
    )
    repair = forms.CharField(
        label="How it was repaired, or what might repair it",
        required=False,
        max_length=MAX_RUPTURE_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    kind = forms.ChoiceField(
        label="Kind of rupture",
        choices=RuptureKind.choices,
        widget=forms.RadioSelect,
        help_text=(
            "Withdrawal: the client moves away (goes quiet, defers, changes the subject). Confrontation: "
            "the client moves against you (complains, is angry, pushes for control)."
        ),
    )
    repaired = forms.ChoiceField(label="Repaired?", choices=Repaired.choices, widget=forms.RadioSelect)


class ThemeForm(PageForm):
    kind = forms.ChoiceField(label="Kind", choices=ThemeKind.choices, widget=forms.RadioSelect)
    label = forms.CharField(
        label="Theme",
        max_length=MAX_THEME_LABEL,
        widget=forms.TextInput(attrs={"list": "theme-labels", "autocomplete": "off"}),
        help_text="A short label from your practice's list, or a new one, e.g. “feeling pushed away”.",
    )


def _label_choices(labels: Sequence[ThemeLabel]) -> list[tuple[object, str]]:
    return [("", "Choose a label"), *((label.pk, label.label) for label in labels)]


class LabelRenameForm(PageForm):
    """Posted, never in a URL: a label is sensitive (docs/insights.md, "Ruptures and themes")."""

    label_id = forms.TypedChoiceField(label="Label to rename", coerce=int)
    label = forms.CharField(label="New name", max_length=MAX_THEME_LABEL)

    def __init__(self, *args: Any, labels: Sequence[ThemeLabel], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice: Any = self.fields["label_id"]
        choice.choices = _label_choices(labels)


class LabelMergeForm(PageForm):
    source_id = forms.TypedChoiceField(label="Merge this label", coerce=int)
    target_id = forms.TypedChoiceField(label="Into this label", coerce=int)

    def __init__(self, *args: Any, labels: Sequence[ThemeLabel], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("source_id", "target_id"):
            choice: Any = self.fields[name]
            choice.choices = _label_choices(labels)
