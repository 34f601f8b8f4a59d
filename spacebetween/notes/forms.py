from __future__ import annotations

from django import forms
from django.http import QueryDict

from spacebetween.notes.services import MAX_NOTE_LENGTH
from spacebetween.ui.forms import ServiceErrors


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


class SupervisionNoteForm(ServiceErrors):
    body = forms.CharField(
        label="Supervision note",
        required=False,
        strip=False,
        max_length=MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
    )


class SocraticQuestionsForm(ServiceErrors):
    """One purpose's questions; the page shows one per purpose, each with the purpose as its prefix."""

    questions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="One question a line, in the order they appear.",
    )


class SessionQuestionsForm(ServiceErrors):
    """The session plan's forms: pin questions of the library ("pick", "purpose:index"), tick the asked
    ones ("asked", ids) with what each opened ("opened-<id>"), or take one off ("unpin", an id)."""

    action = forms.ChoiceField(choices=[("pin", "pin"), ("tick", "tick"), ("unpin", "unpin")])
    back = forms.ChoiceField(choices=[("plan", "plan"), ("note", "note")], required=False)

    def __init__(self, data: QueryDict | None = None) -> None:
        super().__init__(data)
        self.post = data if data is not None else QueryDict()

    @staticmethod
    def _ids(values: list[str]) -> list[int]:
        return [int(v) for v in values if v.isdigit()]

    def service_call(self) -> tuple[str, dict[str, object]]:
        """Which service to call and its arguments (besides actor, session, request)."""
        post, action = self.post, self.cleaned_data["action"]
        if action == "pin":
            return "session_questions_pin", {"picks": post.getlist("pick")}
        if action == "unpin":
            return "session_question_unpin", {"question_id": ([*self._ids([post.get("unpin", "")]), 0])[0]}
        opened = {
            int(key.removeprefix("opened-")): value
            for key, value in post.items()
            if key.startswith("opened-") and key.removeprefix("opened-").isdigit()
        }
        return "session_questions_tick", {"asked": self._ids(post.getlist("asked")), "opened": opened}
