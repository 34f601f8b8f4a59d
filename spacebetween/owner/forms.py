"""The owner's forms: the audit log's filters (a GET form) and the practice's details."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from spacebetween.accounts.models import User
from spacebetween.audit.models import Action
from spacebetween.practice.countries import ISO_ALPHA2
from spacebetween.practice.models import known_time_zones
from spacebetween.ui.forms import PageForm

DATES_REVERSED = "The first day must not be after the last day."
NOT_A_CLIENT = "There is no client with this number in your practice."


class DateInput(forms.DateInput):
    input_type = "date"


class AuditFilterForm(PageForm):
    """Every filter optional; the page shows the filtered events, the export writes the same rows."""

    person = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Person")
    client = forms.IntegerField(
        required=False,
        min_value=1,
        label="Client number",
        help_text="The events about this client's record (the number on the client's page).",
    )
    action = forms.ChoiceField(required=False, choices=[("", "Any action"), *Action.choices], label="Action")
    since = forms.DateField(required=False, widget=DateInput, label="From (day)")
    until = forms.DateField(required=False, widget=DateInput, label="To (day, included)")

    def __init__(self, data: Any = None, *, people: Sequence[User]) -> None:
        super().__init__(data)
        self.fields["person"].choices = [("", "Anyone")] + [  # type: ignore[attr-defined]
            (str(u.pk), f"{u.full_name} ({u.get_role_display()})") for u in people
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", DATES_REVERSED)
        return data


def _time_zones() -> list[tuple[str, str]]:
    return [(tz, tz) for tz in sorted(known_time_zones()) if "/" in tz or tz == "UTC"]


class PracticeDetailsForm(PageForm):
    name = forms.CharField(
        max_length=200, label="Practice name", help_text="Shown as the sender of its e-mails."
    )
    country = forms.ChoiceField(
        label="Country",
        help_text="ISO 3166 code; it picks the crisis lines clients are shown.",
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        help_text="Dates on every page, questionnaire times and the quiet hours follow it.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [(c, c) for c in sorted(ISO_ALPHA2)]  # type: ignore[attr-defined]
        self.fields["time_zone"].choices = _time_zones()  # type: ignore[attr-defined]
