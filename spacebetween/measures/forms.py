from __future__ import annotations

from django import forms

from spacebetween.ui.forms import PageForm


class AcceptTermsForm(PageForm):
    terms_digest = forms.CharField(widget=forms.HiddenInput, max_length=64)
    accept = forms.BooleanField(
        required=False,
        label="The practice accepts these terms and will use these instruments only as they allow.",
    )


class ImportDefinitionForm(PageForm):
    definition = forms.FileField(
        label="Instrument definition file (JSON)",
        help_text="A definition in the format of docs/instrument-definitions.md, for an instrument your "
        "practice is licensed to use. It is checked exactly like the instruments that ship.",
    )
