"""Process notes never leave the practice: not in the subject access archive (progress notes are), not
read by any module outside spacebetween/notes, and not in the database file as text."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.clients.models import Client, Session
from spacebetween.notes import services
from spacebetween.notes.export import FILENAME
from spacebetween.notes.models import NoteKind
from tests.conftest import signed_in
from tests.notes.conftest import PROCESS, PROGRESS

PACKAGE = Path(__file__).resolve().parent.parent.parent / "spacebetween"


def _archive(user: User, client: Client) -> zipfile.ZipFile:
    response = signed_in(user).post(reverse("client_export", args=[client.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


@pytest.mark.django_db
def test_the_archive_holds_signed_progress_notes_and_never_a_process_note(
    alice: User, client_record: Client, session: Session
) -> None:
    services.note_save(actor=alice, session=session, kind=NoteKind.PROGRESS, body=PROGRESS, sign=True)
    services.addendum_add(
        actor=alice, session=session, kind=NoteKind.PROGRESS, body="Phoned her GP afterwards"
    )
    services.note_save(actor=alice, session=session, kind=NoteKind.PROCESS, body=PROCESS, sign=True)
    services.process_note_share(actor=alice, session=session, shared=True)  # shared, still never exported
    archive = _archive(alice, client_record)
    notes = archive.read(FILENAME).decode()
    assert PROGRESS in notes and "Phoned her GP afterwards" in notes and "Addendum 1" in notes
    for name in archive.namelist():
        data = archive.read(name)
        assert PROCESS.encode() not in data and b"mirabilis" not in data, name


@pytest.mark.django_db
def test_a_draft_progress_note_is_not_yet_part_of_the_archive(
    alice: User, client_record: Client, session: Session
) -> None:
    services.note_save(actor=alice, session=session, kind=NoteKind.PROGRESS, body=PROGRESS)
    archive = _archive(alice, client_record)
    assert "summary.html" in archive.namelist() and FILENAME not in archive.namelist()


def test_no_module_outside_the_notes_package_reads_process_notes() -> None:
    """A report, the API, an export or another page would have to name the model (or its table) to
    read a process note; only spacebetween/notes does."""
    pattern = re.compile(r"ProcessNote|ProcessAddendum|notes_process")
    outside = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "notes" not in path.relative_to(PACKAGE).parts[:1]
        and pattern.search(path.read_text(encoding="utf-8"))
    )
    # The audit vocabulary names it, and backups test-decrypt and key rotation re-encrypt its ciphertext;
    # neither shows or sends its text anywhere.
    assert outside == ["audit/models.py", "backup/services.py"], outside
    inside = [p for p in (PACKAGE / "notes").rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert inside  # the search finds the model where it is (the test can fail)


@pytest.fixture
def audit_triggers_lifted_after() -> Iterator[None]:
    """A transactional test's teardown empties every table: the audit log's triggers must let it."""
    from tests.browser.conftest import _lift_audit_triggers

    yield
    _lift_audit_triggers()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the bytes of an SQLite file")
def test_the_database_file_holds_no_process_note_text(
    alice: User, session: Session, tmp_path: Path, audit_triggers_lifted_after: None
) -> None:
    services.note_save(actor=alice, session=session, kind=NoteKind.PROCESS, body=PROCESS, sign=True)
    services.addendum_add(actor=alice, session=session, kind=NoteKind.PROCESS, body="addendum mirabilis")
    services.note_save(actor=alice, session=session, kind=NoteKind.PROGRESS, body=PROGRESS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM notes_processnote")
        [(raw,)] = cursor.fetchall()
        cursor.execute("SELECT body FROM notes_processaddendum")
        [(raw_addendum,)] = cursor.fetchall()
        copy = tmp_path / "copy.sqlite3"
        cursor.execute("VACUUM INTO %s", [str(copy)])
    assert raw and "mirabilis" not in raw and "mirabilis" not in raw_addendum
    data = copy.read_bytes()
    assert b"mirabilis" not in data and PROCESS.encode() not in data
    assert PROGRESS.encode() in data  # the search reads real content: the progress note is plain text
