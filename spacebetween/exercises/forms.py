"""The page forms. Rules live in `exercises.services`: the entry form only carries what was typed."""

from __future__ import annotations

from typing import Any

from django import forms

from spacebetween.exercises import catalogue, own, own_pages
from spacebetween.exercises.models import Frequency
from spacebetween.ui.forms import PageForm

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AssignForm(PageForm):
    exercise = forms.ChoiceField(label="Exercise", widget=forms.RadioSelect)
    frequency = forms.ChoiceField(label="How often", choices=Frequency.choices, widget=forms.RadioSelect)
    starts_on = forms.DateField(label="First day", widget=DATE)
    ends_on = forms.DateField(
        label="Last day", widget=DATE, help_text="The client sees it from the first day to the last."
    )

    def __init__(self, *args: Any, practice_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [
            (e.id, f"{e.title} (written in this practice)" if e.practice_written else e.title)
            for e in own.assignable(practice_id).values()
        ]
        self.fields["exercise"].choices = choices  # type: ignore[attr-defined]


class ShareForm(PageForm):
    page = forms.ChoiceField(label="Page to share")

    def __init__(self, *args: Any, practice_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "Choose a page")] + [
            (p.id, f"{p.title} (written in this practice)" if p.practice_written else p.title)
            for p in own_pages.shareable(practice_id).values()
        ]
        self.fields["page"].choices = choices  # type: ignore[attr-defined]


class PracticePageForm(PageForm):
    # Not required here: the service says what is missing in its own words (exercises.own_pages).
    title = forms.CharField(label="Title", max_length=own_pages.MAX_TITLE, required=False)
    summary = forms.CharField(
        label="In one line",
        max_length=own_pages.MAX_SUMMARY,
        required=False,
        help_text="What the page is about.",
    )
    body = forms.CharField(
        label="The page",
        required=False,
        widget=forms.Textarea(attrs={"rows": 14}),
        max_length=own_pages.MAX_BODY,
        help_text=(
            "Markdown: a blank line between paragraphs, # for a heading, - for a list, [words](https://...) "
            "for a link. HTML is shown as text; only http, https and mailto links work; images are shown "
            "as links. Write for a reading age of about twelve."
        ),
    )
    sources = forms.CharField(
        label="Sources",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text='One per line; shown under the page as "Where this comes from".',
    )


class EntryForm(PageForm):
    private = forms.BooleanField(
        label="Keep this entry private",
        required=False,
        help_text="Your therapist will see that you did the exercise, but not what you wrote.",
    )

    def __init__(self, *args: Any, exercise: catalogue.Exercise, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        asked: dict[str, forms.Field] = {}
        for f in exercise.fields:
            widget: forms.Widget
            help_text = "" if f.required else "You can leave this empty."
            if f.kind == "feeling":
                choices = [("", "Choose a feeling")] + [(v, v.capitalize()) for v in catalogue.feelings()]
                asked[f.name] = forms.ChoiceField(
                    label=f.label, choices=choices, required=False, help_text=help_text
                )
            elif f.kind == "choice":
                choices = [("", "Choose one")] + [(v, v) for v in f.options]
                asked[f.name] = forms.ChoiceField(
                    label=f.label, choices=choices, required=False, help_text=help_text
                )
            elif f.kind == "text":
                widget = forms.Textarea(attrs={"rows": 3, "maxlength": catalogue.MAX_TEXT})
                asked[f.name] = forms.CharField(
                    label=f.label, required=False, widget=widget, help_text=help_text
                )
            else:
                widget = forms.TextInput(
                    attrs={"inputmode": "numeric", "autocomplete": "off", "class": "number"}
                )
                asked[f.name] = forms.CharField(
                    label=f.label, required=False, widget=widget, help_text=help_text
                )
        self.fields = {**asked, **self.fields}
        self.asked = list(asked)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"answers": {name: data.get(name, "") for name in self.asked}, "private": data["private"]}


class PracticeExerciseForm(PageForm):
    """Title, reason, steps, a suggested length, and up to `own.MAX_BLOCKS` questions, each a row of
    question, kind of answer, options (a list only) and whether it must be answered. Rows left empty
    are skipped; the checks are the service's (`own.clean_exercise`), each error beside its field."""

    title = forms.CharField(label="Title", max_length=own.MAX_TITLE, required=False)
    why = forms.CharField(
        label="Why this can help",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="In plain words, for the client (a reading age of about twelve).",
    )
    steps = forms.CharField(
        label="Steps",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"One step per line, at most {own.MAX_STEPS}.",
    )
    minutes = forms.CharField(
        label="Suggested length in minutes",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "class": "number"}),
        help_text="For a timed exercise. You can leave this empty.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = [("", "Not used")] + list(own.BLOCKS.items())
        for n in range(1, own.MAX_BLOCKS + 1):
            self.fields[f"block_{n}_label"] = forms.CharField(
                label=f"Question {n}", required=False, max_length=own.MAX_LABEL
            )
            self.fields[f"block_{n}_kind"] = forms.ChoiceField(
                label=f"Answer to question {n}", choices=kinds, required=False
            )
            self.fields[f"block_{n}_options"] = forms.CharField(
                label=f"Options for question {n}",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text="Only for a list: one option per line.",
            )
            self.fields[f"block_{n}_required"] = forms.BooleanField(
                label=f"Question {n} must be answered", required=False
            )

    def blocks(self) -> list[list[forms.BoundField]]:
        """The question rows, for the page to lay out as one group each."""
        parts = ("label", "kind", "options", "required")
        return [[self[f"block_{n}_{p}"] for p in parts] for n in range(1, own.MAX_BLOCKS + 1)]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        rows = [
            {p: data.get(f"block_{n}_{p}") for p in ("label", "kind", "options", "required")}
            for n in range(1, own.MAX_BLOCKS + 1)
        ]
        return {
            "title": data["title"],
            "why": data["why"],
            "steps": data["steps"],
            "minutes": data["minutes"],
            "blocks": rows,
        }
