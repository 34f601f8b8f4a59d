"""notes.services: drafts, signing that locks, addenda after signing, sharing one process note, the
practice's templates. Every refusal changes nothing; every change writes its audit row."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from spacebetween import crypto
from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Episode, Session
from spacebetween.notes import services
from spacebetween.notes.models import NoteKind, NoteTemplate, ProcessAddendum, ProcessNote, ProgressNote
from spacebetween.notes.services import MAX_NOTE_LENGTH
from tests.conftest import FakeClock
from tests.notes.conftest import PROCESS, PROGRESS

pytestmark = pytest.mark.django_db


def _events(entity_type: str) -> list[tuple[str, str, str]]:
    rows = AuditEvent.objects.filter(entity_type=entity_type).order_by("seq")
    return [(e.action, e.event_type, e.detail) for e in rows]


def test_a_draft_is_saved_then_changed_then_signed(alice: User, session: Session, clock: FakeClock) -> None:
    note = services.note_save(actor=alice, session=session, kind=NoteKind.PROGRESS, body="first")
    clock.advance(minutes=5)
    services.note_save(actor=alice, session=session, kind=NoteKind.PROGRESS, body=PROGRESS, sign=True)
    note.refresh_from_db()
    assert note.body == PROGRESS and note.author == alice
    assert note.signed_at == clock.now and note.created_at == clock.now - dt.timedelta(minutes=5)
    assert _events("ProgressNote") == [("C", "rest", "draft"), ("U", "rest", "signed")]


def test_a_signed_note_cannot_be_changed(alice: User, session: Session) -> None:
    services.note_save(actor=alice, session=session, kind=NoteKind.PROGRESS, body=PROGRESS, sign=True)
    for sign in (False, True):
        with pytest.raises(ValidationError, match="signed and can no longer be changed"):
            services.note_save(
                actor=alice, session=session, kind=NoteKind.PROGRESS, body="rewritten", sign=sign
            )
    assert ProgressNote.objects.get().body == PROGRESS
    assert len(_events("ProgressNote")) == 1


@pytest.mark.parametrize(
    ("body", "sign", "message"),
    [("   ", True, "Write the note before signing"), ("x" * (MAX_NOTE_LENGTH + 1), False, "under 20,000")],
)
def test_bad_input_is_refused_and_writes_nothing(
    alice: User, session: Session, body: str, sign: bool, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        services.note_save(actor=alice, session=session, kind=NoteKind.PROCESS, body=body, sign=sign)
    assert not ProcessNote.objects.exists() and not _events("ProcessNote")


def test_a_session_still_to_come_has_no_notes_yet(alice: User, episode: Episode, clock: FakeClock) -> None:
    clock.set(dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.UTC))
    later = clinical.session_create(
        actor=alice, episode=episode, starts_at=dt.datetime(2026, 9, 2, tzinfo=dt.UTC)
    )
    with pytest.raises(ValidationError, match="not taken place yet"):
        services.note_save(actor=alice, session=later, kind=NoteKind.PROGRESS, body=PROGRESS)
    assert not ProgressNote.objects.exists()


@pytest.mark.parametrize("who", ["bob", "sam", "admin", "carol_user"])
def test_only_the_treating_therapist_writes_notes(
    who: str, session: Session, shared_episode: Episode, request: pytest.FixtureRequest
) -> None:
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        services.note_save(actor=actor, session=session, kind=NoteKind.PROCESS, body=PROCESS)
    assert not ProcessNote.objects.exists()
    denied = AuditEvent.objects.get(event_type="access-denied", actor_id=actor.pk)
    assert (denied.entity_type, denied.entity_id, denied.detail) == ("Session", str(session.pk), "notes")


def test_a_process_note_is_stored_encrypted_and_bound_to_its_session(alice: User, session: Session) -> None:
    note = services.note_save(actor=alice, session=session, kind=NoteKind.PROCESS, body=PROCESS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM notes_processnote WHERE id = %s", [note.pk])
        [(raw,)] = cursor.fetchall()
    assert PROCESS not in raw and "mirabilis" not in raw
    assert crypto.decrypt(raw, context=services.note_context(session.pk)) == PROCESS
    with pytest.raises(crypto.DecryptionError):  # a copy moved to another session's row is refused
        crypto.decrypt(raw, context=services.note_context(session.pk + 1))


def test_addenda_come_after_signing_and_are_signed_by_the_author(
    alice: User, session: Session, clock: FakeClock
) -> None:
    services.note_save(actor=alice, session=session, kind=NoteKind.PROCESS, body=PROCESS)
    with pytest.raises(ValidationError, match="Sign the note first"):
        services.addendum_add(actor=alice, session=session, kind=NoteKind.PROCESS, body="later thought")
    services.note_save(actor=alice, session=session, kind=NoteKind.PROCESS, body=PROCESS, sign=True)
    with pytest.raises(ValidationError, match="Write the addendum"):
        services.addendum_add(actor=alice, session=session, kind=NoteKind.PROCESS, body=" ")
    clock.advance(days=1)
    first = services.addendum_add(actor=alice, session=session, kind=NoteKind.PROCESS, body="later thought")
    second = services.addendum_add(actor=alice, session=session, kind=NoteKind.PROCESS, body="and another")
    assert (first.number, second.number) == (1, 2)
    assert first.author == alice and first.signed_at == clock.now
    assert "later thought" not in ProcessAddendum.objects.get(number=1).body  # encrypted too
    assert _events("ProcessNote")[-2:] == [("U", "rest", "addendum")] * 2


def test_sharing_one_process_note_needs_a_supervisor_and_is_audited(
    alice: User, bob: User, session: Session
) -> None:
    with pytest.raises(ValidationError, match="no note"):
        services.process_note_share(actor=alice, session=session, shared=True)
    services.note_save(actor=alice, session=session, kind=NoteKind.PROCESS, body=PROCESS)
    note = services.process_note_share(actor=alice, session=session, shared=True)
    assert note.shared_for_supervision
    services.process_note_share(actor=alice, session=session, shared=False)
    assert not ProcessNote.objects.get().shared_for_supervision
    assert [d for _, _, d in _events("ProcessNote")][-2:] == ["shared for supervision", "no longer shared"]
    with pytest.raises(ValidationError, match="Only a process note"):
        services.note_action(actor=alice, session=session, kind=NoteKind.PROGRESS, action="share")
    with pytest.raises(ValidationError, match="Choose what to do"):
        services.note_action(actor=alice, session=session, kind=NoteKind.PROCESS, action="delete")


def test_the_admin_edits_the_practice_template_and_bad_input_changes_nothing(
    admin: User, alice: User
) -> None:
    services.note_template_save(
        actor=admin, kind=NoteKind.PROCESS, name="CBT", headings=["Thoughts", "", " Tests "]
    )
    template = NoteTemplate.objects.get()
    assert (template.name, template.headings) == ("CBT", ["Thoughts", "Tests"])
    with pytest.raises(ValidationError) as refused:
        services.note_template_save(actor=admin, kind=NoteKind.PROCESS, name=" ", headings=[])
    assert set(refused.value.message_dict) == {"name", "headings"}
    with pytest.raises(PermissionDenied):
        services.note_template_save(actor=alice, kind=NoteKind.PROCESS, name="Mine", headings=["A"])
    template.refresh_from_db()
    assert (template.name, template.headings) == ("CBT", ["Thoughts", "Tests"])
    assert _events("NoteTemplate") == [("C", "rest", ""), ("U", "access-denied", "role")]
