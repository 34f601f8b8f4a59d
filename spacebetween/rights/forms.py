from __future__ import annotations

from django import forms

from spacebetween.consent.models import Purpose
from spacebetween.rights.models import MAX_RETENTION_YEARS, MIN_RETENTION_YEARS, ErasureMode
from spacebetween.ui.forms import PageForm


class ConsentForm(PageForm):
    purpose = forms.ChoiceField(choices=Purpose.choices, widget=forms.HiddenInput)
    given = forms.TypedChoiceField(
        choices=[("yes", "Given"), ("no", "Withdrawn")],
        coerce=lambda value: value == "yes",
        widget=forms.HiddenInput,
    )


class ExportForm(PageForm):
    include_reflections = forms.BooleanField(
        required=False,
        label="Include my session reflections (ratings, counter-transference check-ins and notes)",
        help_text="Left out unless you include them after review (docs/data-rights.md).",
    )


class ErasureForm(PageForm):
    mode = forms.ChoiceField(choices=ErasureMode.choices, widget=forms.RadioSelect, label="What to do")
    confirm = forms.CharField(max_length=20, label="Type the record number to confirm")


class RetentionForm(PageForm):
    years_after_last_episode = forms.IntegerField(
        min_value=MIN_RETENTION_YEARS,
        max_value=MAX_RETENTION_YEARS,
        label="Keep clinical records for (years after the client's last episode ends)",
        help_text="Default 8: NHS England Records Management Code of Practice, adult health records.",
    )
