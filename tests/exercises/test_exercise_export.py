"""The subject access archive carries the client's exercise entries, decrypted, private ones included
(they are the client's own words; docs/data-rights.md)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.clients.models import Client, Episode
from spacebetween.exercises import services
from spacebetween.exercises.export import FILENAME, exercise_entries_html
from spacebetween.exercises.models import ExerciseAssignment
from tests.conftest import signed_in
from tests.exercises.conftest import THOUGHT_RECORD

pytestmark = pytest.mark.django_db


def test_no_page_when_nothing_was_ever_set(client_record: Client, episode: Episode) -> None:
    assert exercise_entries_html(client_record) is None


def test_the_archive_holds_every_entry_private_ones_too(
    alice: User, carol_user: User, client_record: Client, assignment: ExerciseAssignment, today: dt.date
) -> None:
    services.entry_record(actor=carol_user, assignment=assignment, answers=THOUGHT_RECORD)
    services.entry_record(
        actor=carol_user,
        assignment=assignment,
        answers={**THOUGHT_RECORD, "thought": "Nobody likes me"},
        private=True,
    )
    response = signed_in(alice).post(reverse("client_export", args=[client_record.pk]))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    page = archive.read(FILENAME).decode()
    assert "Thought record" in page
    assert "She is angry with me" in page and "Nobody likes me" in page
    assert "(private)" in page and "80 out of 100" in page
