"""The practice admin's crisis-resources forms (/practice/crisis-resources/, safety.crisis_views): an
entry of its own, which `safety.crisis.crisis_resource_add` checks, and the practice's country."""

from __future__ import annotations

from django import forms

from spacebetween.safety.crisis import CRISIS_MAX, country_choices
from spacebetween.ui.forms import PageForm


class CrisisResourceForm(PageForm):
    country = forms.CharField(
        max_length=2,
        label="Country",
        help_text="Two-letter ISO 3166-1 code, such as GB. "
        "Clients see the entries for your practice's country.",
    )
    name = forms.CharField(max_length=CRISIS_MAX["name"], label="Name of the service")
    phone = forms.CharField(
        max_length=CRISIS_MAX["phone"],
        required=False,
        label="Phone number",
        help_text="Digits, spaces and + - ( ) only. A phone number, a web address or both.",
    )
    url = forms.CharField(
        max_length=CRISIS_MAX["url"],
        required=False,
        label="Web address (optional)",
        help_text="Starting with https://.",
    )
    text = forms.CharField(
        max_length=CRISIS_MAX["text"],
        label="When to use it",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One or two sentences the client reads, such as opening hours.",
    )


class PracticeCountryForm(PageForm):
    """The practice's country; safety.crisis.practice_country_set checks and records it."""

    country = forms.ChoiceField(
        choices=country_choices,
        label="Your practice's country",
        help_text="Picks the built-in crisis lines your clients see, unless a client's own country is "
        "recorded. Countries with checked crisis lines are listed first.",
    )
