"""The therapist's "Send a questionnaire now" form (beside an episode's questionnaires on the client
page): which instrument, for which session or on its own, and how."""

from __future__ import annotations

from collections.abc import Sequence

from django import forms

from spacebetween.clients.models import Attendance, Episode, Session

WAY_LABELS = {"email": "By email link", "portal": "To the client portal"}
CHOOSE_INSTRUMENT = "Choose a questionnaire the practice uses."
CHOOSE_SESSION = "Choose one of this episode's sessions, or none."
CHOOSE_WAY = "Choose how to send it: by email link or to the portal."


class SendForm(forms.Form):
    instrument_id = forms.ChoiceField(
        label="Questionnaire",
        error_messages={"required": CHOOSE_INSTRUMENT, "invalid_choice": CHOOSE_INSTRUMENT},
    )
    session = forms.ModelChoiceField(
        queryset=Session.objects.none(),
        required=False,
        empty_label="On its own, for no session",
        label="For",
        error_messages={"invalid_choice": CHOOSE_SESSION},
    )
    way = forms.ChoiceField(
        label="How", error_messages={"required": CHOOSE_WAY, "invalid_choice": CHOOSE_WAY}
    )

    def __init__(
        self,
        data: object = None,
        *,
        episode: Episode,
        instruments: Sequence[tuple[str, str]],
        ways: Sequence[str],
    ) -> None:
        super().__init__(data)  # type: ignore[arg-type]
        self.fields["instrument_id"].choices = list(instruments)  # type: ignore[attr-defined]
        self.fields["session"].queryset = episode.sessions.exclude(  # type: ignore[attr-defined]
            attendance=Attendance.CANCELLED
        )
        self.fields["way"].choices = [(w, WAY_LABELS[w]) for w in ways]  # type: ignore[attr-defined]


def errors_of(form: forms.Form) -> str:
    return " ".join(str(message) for messages in form.errors.values() for message in messages)
