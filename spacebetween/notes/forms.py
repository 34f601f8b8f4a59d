from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from spacebetween.notes.services import MAX_NOTE_LENGTH


class ServiceErrors(forms.Form):
    def add_service_errors(self, exc: ValidationError) -> None:
        """A service's refusal, shown on its field, or above the form."""
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, exc)


class NoteForm(ServiceErrors):
    """One of the note page's forms: the draft (save, sign), an addendum, the share button. An
    unknown action is refused by the service (`notes.services.note_action`)."""

    action = forms.CharField(required=False, max_length=16)
    body = forms.CharField(required=False, strip=False, max_length=MAX_NOTE_LENGTH, widget=forms.Textarea)

    @property
    def messages(self) -> list[str]:
        """Every error, whichever field it is on: all of them are about the note's text."""
        return [str(message) for errors in self.errors.values() for message in errors]


class TemplateForm(ServiceErrors):
    """One kind's template; the page shows one per kind, each with the kind as its prefix."""

    name = forms.CharField(max_length=100)
    headings = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}), help_text="One heading a line, in the order they appear."
    )

    def service_kwargs(self) -> dict[str, object]:
        data = self.cleaned_data
        return {"kind": self.prefix, "name": data["name"], "headings": data["headings"].splitlines()}
