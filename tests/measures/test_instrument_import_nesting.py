"""Deeply nested JSON in an instrument import (Go live, item 11.6): a clear refusal naming the
problem, not a RecursionError and a 500; nothing is stored."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.core import instruments as catalogue
from spacebetween.measures import services
from spacebetween.measures.models import ImportedInstrument
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def _nested(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def _phq9_with(extra: str) -> bytes:
    doc = catalogue.get("phq9").path.read_text(encoding="utf-8")  # type: ignore[union-attr]
    definition = json.loads(doc)
    definition["id"] = "practice-mood"
    text = json.dumps(definition)
    return (text[:-1] + f', "notes": {extra}}}').encode()


@pytest.mark.parametrize("depth", [2_000, 100_000, 499_999])
def test_a_deeply_nested_file_is_refused_by_name(admin: User, depth: int) -> None:
    with pytest.raises(ValidationError) as refused:
        services.instrument_import(actor=admin, filename="deep.json", content=_nested(depth))
    assert services.TOO_DEEP in refused.value.messages
    assert not ImportedInstrument.objects.exists()


def test_nesting_below_the_parsers_limit_is_refused_too(admin: User) -> None:
    # Parses, but deeper than any definition: refused before anything walks or stores it.
    content = _phq9_with("[" * 200 + "]" * 200)
    with pytest.raises(ValidationError) as refused:
        services.instrument_import(actor=admin, filename="deep.json", content=content)
    assert services.TOO_DEEP in refused.value.messages
    assert not ImportedInstrument.objects.exists()


def test_the_page_answers_the_refusal_not_a_server_error(admin: User) -> None:
    upload = SimpleUploadedFile("deep.json", _nested(200_000), content_type="application/json")
    response = signed_in(admin).post(reverse("instrument_import"), {"definition": upload})
    assert response.status_code == 400
    assert "nested" in response.content.decode()
    assert not ImportedInstrument.objects.exists()


def test_ordinary_nesting_still_imports(admin: User) -> None:
    imported = services.instrument_import(actor=admin, filename="mine.json", content=_phq9_with('["a note"]'))
    assert imported.instrument_id == "practice-mood"
