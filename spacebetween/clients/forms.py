"""Forms for the clinical pages: they parse and type what a person typed, nothing more.

The rules (an end date needs a reason, a session cannot fall before its episode, ...) live in
`spacebetween.clients.services`; a view hands `cleaned_data` to the service and `submit` maps the
service's field errors back onto the form, so every mistake is shown next to the field it concerns.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from spacebetween import clock
from spacebetween.clients.models import Attendance, Client, EndReason, Episode, SessionFormat
from spacebetween.ui.forms import PageForm

DATE_OF_BIRTH_IN_FUTURE = "The date of birth cannot be in the future."
INDIVIDUAL_WITH_OTHERS = "An individual session has no other participants: choose couple, family or group."
OTHERS_REQUIRED = "Choose who else takes part in this session."
COUPLE_NEEDS_ONE = "A couple session has exactly one other participant."
NO_OTHER_CLIENTS = "You have no other clients to choose from; add them first for a couple, family or group."
AMBIGUOUS_TIME = "This time does not exist or happens twice in {time_zone} because the clocks change."

MIN_SESSION_MINUTES = 5
MAX_SESSION_MINUTES = 480


class ClientForm(PageForm):
    given_name = forms.CharField(max_length=100)
    family_name = forms.CharField(max_length=100)
    preferred_name = forms.CharField(
        max_length=100, required=False, help_text="Optional: the name the client likes to be called."
    )
    date_of_birth = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    email = forms.EmailField(
        required=False, help_text="Optional: used for questionnaires and reminders the client agrees to."
    )
    phone = forms.CharField(max_length=40, required=False, widget=forms.TextInput(attrs={"type": "tel"}))
    country = forms.CharField(
        label="Country the client lives in",
        max_length=2,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": "2"}),
        help_text="Optional: a two-letter ISO 3166-1 code, such as IE. It picks the crisis lines the client "
        "is shown after a risk answer; leave it blank when it is the practice's country.",
    )
    # Whether the contact is complete (a name with a number) is the service's rule.
    emergency_contact_name = forms.CharField(
        label="Emergency contact: name",
        max_length=200,
        required=False,
        help_text="Optional: who to call when the client cannot be reached after a risk answer. "
        "Shown on the risk flag's page with the number.",
    )
    emergency_contact_relationship = forms.CharField(
        label="Emergency contact: relationship to the client",
        max_length=100,
        required=False,
        help_text="Optional, such as partner, parent or friend.",
    )
    emergency_contact_phone = forms.CharField(
        label="Emergency contact: phone",
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
        help_text="Digits, spaces and + - ( ) only. Needed with the name.",
    )

    def clean_date_of_birth(self) -> dt.date | None:
        value: dt.date | None = self.cleaned_data["date_of_birth"]
        if value is not None and value > clock.now().astimezone().date():  # the server's date, as before
            raise ValidationError(DATE_OF_BIRTH_IN_FUTURE)
        return value


class EpisodeOpenForm(PageForm):
    referral_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Why the client came or was referred, in a sentence or two.",
    )
    started_on = forms.DateField(
        label="Start date",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The date of referral or intake.",
    )
    shared_for_supervision = forms.BooleanField(
        required=False,
        label="Share this episode with my supervisor",
        help_text="Your supervisor can then read this episode, but not change it.",
    )


class EpisodeForm(EpisodeOpenForm):
    ended_on = forms.DateField(
        label="End date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="To end the episode, give the end date and the reason. Clear both to reopen it.",
    )
    end_reason = forms.ChoiceField(
        label="End reason", required=False, choices=[("", "Not ended"), *EndReason.choices]
    )

    field_order = ["referral_reason", "started_on", "ended_on", "end_reason", "shared_for_supervision"]


class PracticeDateTimeField(forms.DateTimeField):
    """A date and time typed in the practice's time zone (a datetime-local input), cleaned to aware UTC."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    time_zone = zoneinfo.ZoneInfo("UTC")

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(self.time_zone).replace(tzinfo=None)
        return value

    def to_python(self, value: Any) -> dt.datetime | None:
        try:
            with timezone.override(self.time_zone):
                parsed = super().to_python(value)
        except ValidationError as exc:
            if exc.code != "ambiguous_timezone":
                raise
            message = AMBIGUOUS_TIME.format(time_zone=self.time_zone.key)
            raise ValidationError(message, code=exc.code) from exc
        return parsed.astimezone(dt.UTC) if parsed is not None else None


class SessionForm(PageForm):
    starts_at = PracticeDateTimeField(label="Date and time")
    duration_minutes = forms.IntegerField(
        label="Length in minutes", min_value=MIN_SESSION_MINUTES, max_value=MAX_SESSION_MINUTES, initial=50
    )
    format = forms.ChoiceField(choices=SessionFormat.choices, initial=SessionFormat.INDIVIDUAL)
    attendance = forms.ChoiceField(choices=Attendance.choices, initial=Attendance.SCHEDULED)
    participants = forms.ModelMultipleChoiceField(
        label="Other participants",
        queryset=Client.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="For a couple, family or group session: who takes part besides this client.",
    )

    def __init__(
        self,
        *args: Any,
        episode: Episode,
        candidates: QuerySet[Client],
        time_zone: zoneinfo.ZoneInfo,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.episode = episode
        starts_at = cast(PracticeDateTimeField, self.fields["starts_at"])
        starts_at.time_zone = time_zone
        starts_at.help_text = f"In the practice's time zone ({time_zone.key})."
        participants = cast(forms.ModelMultipleChoiceField, self.fields["participants"])
        participants.queryset = candidates.exclude(pk=episode.client_id).order_by("family_name", "given_name")
        if not participants.queryset.exists():
            participants.help_text = NO_OTHER_CLIENTS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        others = list(data.get("participants") or [])
        session_format = data.get("format")
        if session_format == SessionFormat.INDIVIDUAL:
            if others:
                self.add_error("participants", INDIVIDUAL_WITH_OTHERS)
        elif session_format is not None and not others:
            self.add_error("participants", OTHERS_REQUIRED)
        elif session_format == SessionFormat.COUPLE and len(others) > 1:
            self.add_error("participants", COUPLE_NEEDS_ONE)
        # The episode's client always takes part; the service receives everyone.
        data["participants"] = [self.episode.client, *others]
        return data
