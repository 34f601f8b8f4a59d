from __future__ import annotations

from django import forms

MIN_QUERY = 2
MAX_QUERY = 200


class SearchForm(forms.Form):
    """Posted, never a GET parameter: a search term can itself be health data (docs/security.md)."""

    query = forms.CharField(
        label="Search your notes and formulations",
        min_length=MIN_QUERY,
        max_length=MAX_QUERY,
        error_messages={
            "required": f"Type at least {MIN_QUERY} characters to search for.",
            "min_length": f"Type at least {MIN_QUERY} characters to search for.",
            "max_length": f"Keep the search under {MAX_QUERY} characters.",
        },
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
