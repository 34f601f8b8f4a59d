"""The therapist's switch for the client's progress view. The rule lives in `progress.services`."""

from __future__ import annotations

from django import forms

from spacebetween.ui.forms import PageForm

SHOWN_CHOICES = [
    ("yes", "Show it: the client sees their own progress in the portal"),
    ("no", "Hide it: the portal says that I will go through their progress with them"),
]


class ProgressViewForm(PageForm):
    shown = forms.TypedChoiceField(
        label="The client's progress in the portal",
        choices=SHOWN_CHOICES,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether the client sees their progress in the portal."},
    )
