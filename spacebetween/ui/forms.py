"""The one way page forms render and take errors: a summary on top (linked to each field) and the
error next to the field, announced to screen readers (templates in web/forms/; a page that lays out
its own form includes the same summary, web/forms/error_summary.html)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorList

T = TypeVar("T")


class FieldErrors(ErrorList):
    """Error lists that say "Error:" to screen readers and carry the id the field's aria-describedby names."""

    template_name = "web/forms/errors.html"


class PageFormMixin:
    """Mixed into any Django form (including Django's own auth forms) to render it our way."""

    template_name = "web/forms/form.html"
    error_css_class = "has-error"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("error_class", FieldErrors)
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def add_service_errors(self, exc: ValidationError) -> None:
        service_errors_shown(self, exc)


class PageForm(PageFormMixin, forms.Form):
    pass


class ServiceErrors(forms.Form):
    """A form rendered Django's own way that still shows a service's refusal on the fields it names."""

    def add_service_errors(self, exc: ValidationError) -> None:
        service_errors_shown(self, exc)


def service_errors_shown(form: Any, exc: ValidationError) -> None:
    """Put a service's ValidationError on the fields it names; the rest above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def submit(form: PageFormMixin, operation: Callable[..., T], **context: Any) -> T | None:
    """Validate the form, then run the service on its data; None, with errors on the form, if refused."""
    if not form.is_valid():  # type: ignore[attr-defined]
        return None
    try:
        return operation(**context, **form.cleaned_data)  # type: ignore[attr-defined]
    except ValidationError as exc:
        form.add_service_errors(exc)
        return None
