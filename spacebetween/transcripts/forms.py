from __future__ import annotations

from collections.abc import Sequence

from django import forms

from spacebetween.core.transcript_formats import MAX_BYTES
from spacebetween.transcripts.models import Role
from spacebetween.ui.forms import ServiceErrors


class UploadForm(ServiceErrors):
    """The file is read and checked by the service (`transcripts.services.transcript_upload`)."""

    file = forms.FileField(
        label="Transcript file",
        required=False,
        help_text=(
            "WebVTT (.vtt) or SRT (.srt) with speaker names, plain text (.txt) with one “Name: words” "
            f"line a turn, or CSV (.csv); at most {MAX_BYTES // (1024 * 1024)} MB."
        ),
    )

    def read(self) -> tuple[bytes | None, str]:
        upload = self.cleaned_data.get("file")
        if upload is None:
            return None, ""
        # One byte over the limit is enough for the service to refuse it; never more in memory.
        return upload.read(MAX_BYTES + 1), upload.name


class SpeakersForm(ServiceErrors):
    """One choice per speaker name found in the file: therapist, client, or leave out."""

    def __init__(
        self, *args: object, speakers: Sequence[tuple[int, str, str, str]] = (), **kwargs: object
    ) -> None:
        """`speakers`: (index, name in the file, role saved before or "", what helps tell who it is)."""
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for index, name, role, about in speakers:
            self.fields[f"speaker_{index}"] = forms.ChoiceField(
                label=name,
                choices=Role.choices,
                required=False,
                initial=role or None,
                help_text=about,
                widget=forms.RadioSelect,
            )

    def roles(self) -> dict[int, str]:
        return {int(k.removeprefix("speaker_")): v for k, v in self.cleaned_data.items() if v}
