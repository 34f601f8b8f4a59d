"""The risk settings page's forms: one per risk rule (what each answer means) and one for the
escalation; `safety.services` checks the values and says what is wrong."""

from __future__ import annotations

from typing import Any

from django import forms

from spacebetween.safety.escalation import DEFAULT_MINUTES
from spacebetween.safety.models import Severity
from spacebetween.safety.selectors import RuleSetting
from spacebetween.safety.services import MINUTES_MAX, MINUTES_MIN
from spacebetween.ui.forms import PageForm

SEVERITY_CHOICES = [
    (Severity.URGENT.value, "Urgent: act today"),
    (Severity.REVIEW.value, "Review within one working day"),
]


def _minutes_help(severity: Severity) -> str:
    return f"From {MINUTES_MIN} to {MINUTES_MAX} (one week). Default {DEFAULT_MINUTES[severity]}."


class SeverityRuleForm(PageForm):
    """One radio group per answer that meets the rule, prefixed by the rule's id (two rules may both
    have an answer 1)."""

    def __init__(self, rule: RuleSetting, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", rule.rule_id)
        super().__init__(*args, **kwargs)
        self.rule = rule
        for answer in rule.answers:
            default = dict(SEVERITY_CHOICES)[answer.default]
            self.fields[f"answer_{answer.plain}"] = forms.ChoiceField(
                label=f"Answer {answer.plain}: {answer.display}",
                choices=SEVERITY_CHOICES,
                widget=forms.RadioSelect,
                initial=answer.severity,
                help_text=f"Default: {default.split(':')[0].lower()}.",
            )

    def values(self) -> dict[float, str]:
        return {a.value: self.cleaned_data[f"answer_{a.plain}"] for a in self.rule.answers}


class EscalationPolicyForm(PageForm):
    prefix = "escalation"

    urgent_minutes = forms.IntegerField(
        label="Urgent flags: minutes before the next person is told",
        min_value=MINUTES_MIN,
        max_value=MINUTES_MAX,
        help_text=_minutes_help(Severity.URGENT),
    )
    review_minutes = forms.IntegerField(
        label="Review flags: minutes before the next person is told",
        min_value=MINUTES_MIN,
        max_value=MINUTES_MAX,
        help_text=_minutes_help(Severity.REVIEW),
    )
    on_call_email = forms.EmailField(
        label="On-call e-mail address (optional)",
        required=False,
        help_text="Told last, after the supervisor and the practice admins, such as a duty clinician's "
        "shared inbox. The e-mail names no client.",
    )
