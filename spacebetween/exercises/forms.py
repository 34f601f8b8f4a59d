"""The page forms. Rules live in `exercises.services`: the entry form only carries what was typed."""

from __future__ import annotations

from typing import Any

from django import forms

from spacebetween.exercises import catalogue
from spacebetween.exercises.models import Frequency
from spacebetween.ui.forms import PageForm

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AssignForm(PageForm):
    exercise = forms.ChoiceField(
        label="Exercise",
        choices=[(e.id, e.title) for e in catalogue.exercises().values()],
        widget=forms.RadioSelect,
    )
    frequency = forms.ChoiceField(label="How often", choices=Frequency.choices, widget=forms.RadioSelect)
    starts_on = forms.DateField(label="First day", widget=DATE)
    ends_on = forms.DateField(
        label="Last day", widget=DATE, help_text="The client sees it from the first day to the last."
    )


class ShareForm(PageForm):
    page = forms.ChoiceField(
        label="Page to share",
        choices=[("", "Choose a page")] + [(p.id, p.title) for p in catalogue.pages().values()],
    )


class EntryForm(PageForm):
    private = forms.BooleanField(
        label="Keep this entry private",
        required=False,
        help_text="Your therapist will see that you did the exercise, but not what you wrote.",
    )

    def __init__(self, *args: Any, exercise: catalogue.Exercise, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        asked: dict[str, forms.Field] = {}
        for f in exercise.fields:
            widget: forms.Widget
            help_text = "" if f.required else "You can leave this empty."
            if f.kind == "feeling":
                choices = [("", "Choose a feeling")] + [(v, v.capitalize()) for v in catalogue.feelings()]
                asked[f.name] = forms.ChoiceField(
                    label=f.label, choices=choices, required=False, help_text=help_text
                )
            elif f.kind == "text":
                widget = forms.Textarea(attrs={"rows": 3, "maxlength": catalogue.MAX_TEXT})
                asked[f.name] = forms.CharField(
                    label=f.label, required=False, widget=widget, help_text=help_text
                )
            else:
                widget = forms.TextInput(
                    attrs={"inputmode": "numeric", "autocomplete": "off", "class": "number"}
                )
                asked[f.name] = forms.CharField(
                    label=f.label, required=False, widget=widget, help_text=help_text
                )
        self.fields = {**asked, **self.fields}
        self.asked = list(asked)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"answers": {name: data.get(name, "") for name in self.asked}, "private": data["private"]}
