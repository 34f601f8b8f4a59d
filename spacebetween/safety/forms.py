"""The acknowledgement form: what was done, as a category and in the clinician's words; the safety
plan's form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models

from spacebetween.clients.forms import PageForm
from spacebetween.safety.plans import SECTION_NAMES, SECTIONS


class ActionKind(models.TextChoices):
    CONTACTED_CLIENT = "contacted_client", "Contacted the client"
    SAFETY_PLAN = "safety_plan", "Reviewed the safety plan with the client"
    CRISIS_TEAM = "crisis_team", "Referred to the crisis team"
    EMERGENCY = "emergency", "Called emergency services"
    OTHER = "other", "Other"


class AcknowledgeForm(PageForm):
    action = forms.ChoiceField(label="What was done", choices=ActionKind.choices, widget=forms.RadioSelect)
    details = forms.CharField(
        label="Details",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you did and what you agreed, so a colleague can follow it.",
    )

    def action_taken(self) -> str:
        """The text the flag keeps: the category in words, then the clinician's own."""
        return f"{ActionKind(self.cleaned_data['action']).label}: {self.cleaned_data['details'].strip()}"


class SafetyPlanForm(PageForm):
    """One text box per section of the safety plan (`safety.plans.SECTIONS`), all optional: the rules
    (at least one section, none too long) are `safety.plans.plan_save`'s."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for section in SECTIONS:
            self.fields[section.name] = forms.CharField(
                label=section.heading,
                help_text=section.prompt,
                required=False,
                strip=False,  # the service strips, and counts what is left
                widget=forms.Textarea(attrs={"rows": 4}),
            )

    def sections(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in SECTION_NAMES}
