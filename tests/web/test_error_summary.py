"""The error summary is one template, web/forms/error_summary.html, that every page with errors
includes: announced (role="alert"), named by its heading, and each field's error a link to the field."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.template.loader import render_to_string

from spacebetween.ui.forms import PageFormMixin

PACKAGE = Path(__file__).resolve().parent.parent.parent / "spacebetween"
PARTIAL = "web/forms/error_summary.html"


class _Form(PageFormMixin, forms.Form):
    name = forms.CharField(label="Name")
    mood = forms.ChoiceField(label="Mood", choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)


def test_no_page_keeps_its_own_copy() -> None:
    copies = [
        path.relative_to(PACKAGE).as_posix()
        for path in sorted(PACKAGE.rglob("*.html"))
        if 'class="error-summary"' in path.read_text(encoding="utf-8")
    ]
    assert copies == ["ui/templates/" + PARTIAL]


def test_a_form_s_errors_link_to_their_fields() -> None:
    form = _Form(data={})
    form.add_error(None, "Something about the whole form.")
    html = render_to_string(PARTIAL, {"form": form})
    assert 'role="alert" aria-labelledby="error-summary-title"' in html
    assert '<h2 id="error-summary-title">There is a problem</h2>' in html
    assert "<li>Something about the whole form.</li>" in html
    assert '<a href="#id_name">Name: This field is required.</a>' in html
    assert '<a href="#id_mood">Mood: This field is required.</a>' in html
    assert str(form).count("error-summary-title") == 2  # the page form template includes it


def test_messages_and_one_error_with_a_link() -> None:
    html = render_to_string(PARTIAL, {"errors": ["Answer question 3."]})
    assert 'role="alert"' in html and "<li>Answer question 3.</li>" in html
    html = render_to_string(PARTIAL, {"error": "Choose an answer.", "href": "#answer-1"})
    assert '<li><a href="#answer-1">Choose an answer.</a></li>' in html


def test_nothing_without_errors() -> None:
    assert render_to_string(PARTIAL, {"form": _Form()}).strip() == ""
    assert render_to_string(PARTIAL, {"errors": []}).strip() == ""
