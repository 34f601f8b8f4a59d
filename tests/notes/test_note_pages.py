"""GET/POST /sessions/<id>/progress-note/ and /process-note/, /practice/note-templates/, and the links on
the client page. A process note is the treating therapist's, unless they share that very note; a
supervisor's attempt at an unshared one is a 404, audited as denied."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Client, Episode, Session
from spacebetween.notes import services
from spacebetween.notes.defaults import DEFAULT_HEADINGS
from spacebetween.notes.models import NoteKind, NoteTemplate, ProcessNote, ProgressNote
from spacebetween.notes.views import SAVED
from tests.conftest import signed_in
from tests.notes.conftest import PROCESS, PROGRESS

pytestmark = pytest.mark.django_db


def _url(kind: str, session: Session) -> str:
    return reverse(f"{kind}_note", args=[session.pk])


def _write(
    alice: User, session: Session, kind: str, body: str, *, sign: bool = False, share: bool = False
) -> None:
    services.note_save(actor=alice, session=session, kind=kind, body=body, sign=sign)
    if share:
        services.process_note_share(actor=alice, session=session, shared=True)


def test_a_new_process_note_starts_with_the_psychodynamic_headings(alice: User, session: Session) -> None:
    body = signed_in(alice).get(_url("process", session)).content.decode()
    assert "Process note: Carol" in body
    for heading in DEFAULT_HEADINGS[NoteKind.PROCESS]:
        assert f"{heading}:" in body
    assert "Socratic questions asked and what they opened:" in body
    assert 'value="sign"' in body and 'value="save"' in body


def test_the_practice_template_prefills_a_new_note(admin: User, alice: User, session: Session) -> None:
    services.note_template_save(
        actor=admin, kind=NoteKind.PROGRESS, name="SOAP", headings=["Subjective", "Plan"]
    )
    body = signed_in(alice).get(_url("progress", session)).content.decode()
    assert "Subjective:\n\n\nPlan:" in body and "What happened:" not in body


def test_save_draft_then_sign_then_add_an_addendum(alice: User, session: Session) -> None:
    http, url = signed_in(alice), _url("progress", session)
    saved = http.post(url, {"action": "save", "body": "draft text"})
    assert saved.status_code == 302 and saved["Location"] == url
    assert http.post(url, {"action": "save", "body": PROGRESS, "autosave": "1"}).status_code == 204
    assert ProgressNote.objects.get().body == PROGRESS
    http.post(url, {"action": "sign", "body": PROGRESS})
    page = http.get(url).content.decode()
    assert SAVED["sign"] in page and 'data-note-status="signed"' in page and 'value="sign"' not in page
    assert 'value="addendum"' in page
    http.post(url, {"action": "addendum", "body": "Phoned her GP afterwards"})
    assert "Addendum 1, signed by Alice" in http.get(url).content.decode()
    # A signed note can no longer be edited through the page either: 400, nothing changed.
    refused = http.post(url, {"action": "save", "body": "rewritten"})
    assert refused.status_code == 400 and "add an addendum instead" in refused.content.decode()
    assert ProgressNote.objects.get().body == PROGRESS


def test_bad_input_gets_a_clear_error_and_changes_nothing(alice: User, session: Session) -> None:
    _write(alice, session, NoteKind.PROCESS, PROCESS)
    http, url = signed_in(alice), _url("process", session)
    for data, message in [
        ({"action": "sign", "body": " "}, "Write the note before signing"),
        ({"body": "x"}, "Choose what to do"),
    ]:
        response = http.post(url, data)
        assert response.status_code == 400 and message in response.content.decode()
        assert 'role="alert"' in response.content.decode()
    note = ProcessNote.objects.get()
    assert note.signed_at is None and services.note_context(session.pk)  # still the draft
    assert PROCESS in http.get(url).content.decode()


def test_every_read_of_a_process_note_is_audited(alice: User, session: Session) -> None:
    _write(alice, session, NoteKind.PROCESS, PROCESS)
    http = signed_in(alice)
    for _ in range(2):
        assert PROCESS in http.get(_url("process", session)).content.decode()
    note = ProcessNote.objects.get()
    reads = AuditEvent.objects.filter(
        entity_type="ProcessNote", entity_id=str(note.pk), action="R", actor_id=alice.pk
    )
    assert reads.count() == 2


def test_a_supervisor_reads_the_progress_note_of_a_shared_episode(
    alice: User, sam: User, session: Session, shared_episode: Episode
) -> None:
    _write(alice, session, NoteKind.PROGRESS, PROGRESS, sign=True)
    response = signed_in(sam).get(_url("progress", session))
    body = response.content.decode()
    assert response.status_code == 200 and PROGRESS in body and "<textarea" not in body
    assert signed_in(sam).post(_url("progress", session), {"action": "save", "body": "x"}).status_code == 403


def test_a_supervisor_cannot_open_an_unshared_process_note_and_the_attempt_is_audited(
    alice: User, sam: User, session: Session, shared_episode: Episode
) -> None:
    _write(alice, session, NoteKind.PROCESS, PROCESS)
    response = signed_in(sam).get(_url("process", session))
    assert response.status_code == 404 and PROCESS not in response.content.decode()
    note = ProcessNote.objects.get()
    denied = AuditEvent.objects.get(event_type="access-denied", actor_id=sam.pk)
    assert (denied.entity_type, denied.entity_id, denied.detail) == (
        "ProcessNote",
        str(note.pk),
        "process-note-not-shared",
    )
    assert not AuditEvent.objects.filter(
        entity_type="ProcessNote", event_type="rest", actor_id=sam.pk
    ).exists()


def test_a_supervisor_reads_a_process_note_shared_with_them_read_only(
    alice: User, sam: User, bob: User, session: Session, shared_episode: Episode
) -> None:
    _write(alice, session, NoteKind.PROCESS, PROCESS, share=True)
    response = signed_in(sam).get(_url("process", session))
    body = response.content.decode()
    assert response.status_code == 200 and PROCESS in body and "<textarea" not in body
    assert AuditEvent.objects.filter(entity_type="ProcessNote", action="R", actor_id=sam.pk).count() == 1
    assert signed_in(bob).get(_url("process", session)).status_code == 404  # not his supervisee


def test_the_client_page_links_each_note_for_the_therapist_and_only_shared_ones_for_the_supervisor(
    alice: User, sam: User, client_record: Client, session: Session, shared_episode: Episode
) -> None:
    page = reverse("client_detail", args=[client_record.pk])
    body = signed_in(alice).get(page).content.decode()
    assert _url("progress", session) in body and _url("process", session) in body
    assert "Session notes" in body
    _write(alice, session, NoteKind.PROGRESS, PROGRESS, sign=True)
    _write(alice, session, NoteKind.PROCESS, PROCESS)
    body = signed_in(sam).get(page).content.decode()
    assert "Session notes" in body and _url("progress", session) in body  # the right page, with the section
    assert _url("process", session) not in body and PROCESS not in body and PROGRESS not in body
    services.process_note_share(actor=alice, session=session, shared=True)
    assert _url("process", session) in signed_in(sam).get(page).content.decode()


def test_the_admin_edits_the_templates_page(admin: User) -> None:
    http, url = signed_in(admin), reverse("note_templates")
    page = http.get(url).content.decode()
    assert "Psychodynamic process note" in page and "Counter-transference" in page
    saved = http.post(url, {"kind": "process", "process-name": "Mine", "process-headings": "Dreams\nSlips"})
    assert saved.status_code == 302
    assert NoteTemplate.objects.get(kind="process").headings == ["Dreams", "Slips"]
    refused = http.post(url, {"kind": "progress", "progress-name": "", "progress-headings": ""})
    assert refused.status_code == 400 and "There is a problem" in refused.content.decode()
    assert http.post(url, {"kind": "other"}).status_code == 400
    assert NoteTemplate.objects.count() == 1


def test_only_staff_of_the_right_role_open_the_pages(carol_user: User, session: Session) -> None:
    assert signed_in(carol_user).get(_url("progress", session)).status_code == 403
    assert HttpClient().get(_url("process", session)).status_code == 302
