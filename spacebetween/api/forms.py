from __future__ import annotations

from django import forms

from spacebetween.ui.forms import PageForm


class ApiKeyCreateForm(PageForm):
    name = forms.CharField(
        max_length=100,
        label="Name",
        help_text="Which integration or device will use this key, so that you can recognise it later.",
    )
