from __future__ import annotations

from typing import Any

from django import forms

from spacebetween.ui.forms import PageForm


class AcceptTermsForm(PageForm):
    """One licensed instrument's terms, accepted by themselves. Terms that ask for the authors'
    permission get a second box: the admin confirms the practice holds it."""

    terms_digest = forms.CharField(widget=forms.HiddenInput, max_length=64)
    accepted = forms.BooleanField(
        required=False,
        label="The practice accepts these terms and will use this instrument only as they allow.",
    )
    permission_held = forms.BooleanField(
        required=False,
        label="The practice holds the authors' written permission to use this instrument.",
    )

    def __init__(self, *args: Any, needs_permission: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not needs_permission:
            del self.fields["permission_held"]


class ImportDefinitionForm(PageForm):
    definition = forms.FileField(
        label="Instrument definition file (JSON)",
        help_text="A definition in the format of docs/instrument-definitions.md, for an instrument your "
        "practice is licensed to use. It is checked exactly like the instruments that ship.",
    )
