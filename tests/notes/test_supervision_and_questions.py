"""Supervision notes (the supervisor of a shared episode writes, the therapist reads, nobody else) and
Socratic questions (the practice's library, pinned to a session, ticked in the progress note)."""

from __future__ import annotations

import html

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from spacebetween import crypto
from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Client, Episode, Session
from spacebetween.notes import services
from spacebetween.notes.defaults import SOCRATIC_QUESTIONS
from spacebetween.notes.models import NoteKind, QuestionPurpose, SessionQuestion, SupervisionNote
from spacebetween.notes.services import supervision_context
from spacebetween.notes.views import SUPERVISION_SAVED
from tests.conftest import signed_in
from tests.notes.conftest import PROCESS, PROGRESS
from tests.notes.test_notes_kept_apart import _archive

pytestmark = pytest.mark.django_db

ADVICE = "Notice the rescuing pull before the breaks; bring it to the next session quidditas"


def test_the_supervisor_writes_encrypted_and_the_therapist_reads_it(
    alice: User, sam: User, shared_episode: Episode, session: Session
) -> None:
    note = services.supervision_note_add(actor=sam, episode=shared_episode, body=ADVICE)
    stored = SupervisionNote.objects.get()
    assert ADVICE not in stored.body and stored.number == 1 and stored.author == sam
    assert crypto.decrypt(stored.body, context=supervision_context(shared_episode.pk, 1)) == ADVICE
    assert AuditEvent.objects.filter(
        entity_type="SupervisionNote", entity_id=str(note.pk), action="C"
    ).exists()
    # The therapist sees it on the episode's supervision page and on the session's note page, audited.
    http = signed_in(alice)
    page = http.get(reverse("supervision_notes", args=[shared_episode.pk])).content.decode()
    assert "Supervision: Carol" in page and ADVICE in page and "Save supervision note" not in page
    note_page = http.get(reverse("progress_note", args=[session.pk])).content.decode()
    assert "Supervision notes on this episode" in note_page and ADVICE in note_page
    reads = AuditEvent.objects.filter(entity_type="SupervisionNote", action="R", actor_id=alice.pk)
    assert reads.count() == 2


def test_only_the_supervisor_of_a_shared_episode_writes(
    alice: User, sam: User, bob: User, episode: Episode
) -> None:
    for actor in (sam, alice, bob):  # not shared yet; then the therapist and a colleague
        with pytest.raises(PermissionDenied):
            services.supervision_note_add(actor=actor, episode=episode, body=ADVICE)
    assert not SupervisionNote.objects.exists()
    assert AuditEvent.objects.filter(detail="supervision-note", outcome=4).count() == 3


def test_an_empty_supervision_note_is_refused_on_the_page(sam: User, shared_episode: Episode) -> None:
    http, url = signed_in(sam), reverse("supervision_notes", args=[shared_episode.pk])
    refused = http.post(url, {"body": "  "})
    assert refused.status_code == 400 and "Write the supervision note" in refused.content.decode()
    assert not SupervisionNote.objects.exists()
    saved = http.post(url, {"body": ADVICE})
    assert saved.status_code == 302 and SupervisionNote.objects.count() == 1
    assert html.escape(SUPERVISION_SAVED) in http.get(url).content.decode()


def test_the_supervisor_sees_only_shared_process_notes_on_the_supervision_page(
    alice: User, sam: User, shared_episode: Episode, session: Session
) -> None:
    services.note_save(actor=alice, session=session, kind=NoteKind.PROGRESS, body=PROGRESS)
    services.note_save(actor=alice, session=session, kind=NoteKind.PROCESS, body=PROCESS)
    url = reverse("supervision_notes", args=[shared_episode.pk])
    page = signed_in(sam).get(url).content.decode()
    assert "What the therapist shared" in page and reverse("progress_note", args=[session.pk]) in page
    assert reverse("process_note", args=[session.pk]) not in page and PROCESS not in page
    services.process_note_share(actor=alice, session=session, shared=True)
    assert reverse("process_note", args=[session.pk]) in signed_in(sam).get(url).content.decode()


def test_a_colleague_and_the_admin_never_read_supervision_notes(
    sam: User, bob: User, admin: User, shared_episode: Episode
) -> None:
    services.supervision_note_add(actor=sam, episode=shared_episode, body=ADVICE)
    url = reverse("supervision_notes", args=[shared_episode.pk])
    assert signed_in(bob).get(url).status_code == 404
    refused = signed_in(admin).get(url)
    assert refused.status_code == 403 and ADVICE not in refused.content.decode()


def test_supervision_notes_are_not_in_the_clients_export(
    alice: User, sam: User, admin: User, client_record: Client, shared_episode: Episode
) -> None:
    services.supervision_note_add(actor=sam, episode=shared_episode, body=ADVICE)
    archive = _archive(alice, client_record)
    assert "summary.html" in archive.namelist()  # the archive is there
    assert not any(ADVICE.encode() in archive.read(name) for name in archive.namelist())


def test_the_library_starts_with_the_built_in_questions_and_the_admin_edits_it(admin: User) -> None:
    http, url = signed_in(admin), reverse("socratic_questions")
    page = http.get(url).content.decode()
    assert "The here-and-now of the relationship" in page
    assert SOCRATIC_QUESTIONS[QuestionPurpose.PATTERNS][0] in page
    mine = "What keeps coming back, whoever you are with?"
    saved = http.post(url, {"purpose": "patterns", "patterns-questions": f"{mine}\n\n{mine}\n"})
    assert saved.status_code == 302
    page = http.get(url).content.decode()
    assert mine in page and SOCRATIC_QUESTIONS[QuestionPurpose.PATTERNS][0] not in page
    # Bad input: a clear error on the field, nothing changed.
    refused = http.post(url, {"purpose": "patterns", "patterns-questions": " "})
    assert refused.status_code == 400 and "Give between 1 and 12 questions" in refused.content.decode()
    assert mine in http.get(url).content.decode()
    with pytest.raises(ValidationError):
        services.socratic_questions_save(actor=admin, purpose="nonsense", questions=[mine])


def test_a_therapist_cannot_change_the_library(alice: User) -> None:
    with pytest.raises(PermissionDenied):
        services.socratic_questions_save(actor=alice, purpose="patterns", questions=["Why?"])


def test_questions_pinned_to_a_session_are_ticked_in_the_progress_note(
    alice: User, admin: User, session: Session
) -> None:
    http, plan = signed_in(alice), reverse("session_questions", args=[session.pk])
    assert "The practice's questions" in http.get(plan).content.decode()
    assert http.post(plan, {"action": "pin", "pick": ["patterns:0", "here-and-now:1"]}).status_code == 302
    pinned = list(SessionQuestion.objects.order_by("position"))
    assert [q.text for q in pinned] == [
        SOCRATIC_QUESTIONS[QuestionPurpose.PATTERNS][0],
        SOCRATIC_QUESTIONS[QuestionPurpose.HERE_AND_NOW][1],
    ]
    # A later edit of the library leaves the plan's wording as it was.
    services.socratic_questions_save(actor=admin, purpose="patterns", questions=["Something else?"])
    note = reverse("progress_note", args=[session.pk])
    page = http.get(note).content.decode()
    assert SOCRATIC_QUESTIONS[QuestionPurpose.PATTERNS][0] in page and "Tick the questions you asked" in page
    ticked = http.post(
        plan,
        {
            "action": "tick",
            "back": "note",
            "asked": [str(pinned[0].pk)],
            f"opened-{pinned[0].pk}": "Her father",
        },
    )
    assert ticked.status_code == 302 and ticked["Location"] == note
    first, second = SessionQuestion.objects.order_by("position")
    assert first.asked and first.opened == "Her father" and not second.asked
    # Once the progress note is signed, the ticks are part of it and locked.
    services.note_save(actor=alice, session=session, kind=NoteKind.PROGRESS, body=PROGRESS, sign=True)
    refused = http.post(plan, {"action": "tick", "asked": []})
    assert refused.status_code == 400 and SessionQuestion.objects.get(pk=first.pk).asked


def test_an_unknown_question_is_refused_and_nothing_is_pinned(
    alice: User, sam: User, session: Session
) -> None:
    http, plan = signed_in(alice), reverse("session_questions", args=[session.pk])
    refused = http.post(plan, {"action": "pin", "pick": ["patterns:0", "patterns:99"]})
    assert refused.status_code == 400 and "Choose at least one question" in refused.content.decode()
    assert not SessionQuestion.objects.exists()
    with pytest.raises(PermissionDenied):
        services.session_questions_pin(actor=sam, session=session, picks=["patterns:0"])


def test_the_questions_asked_go_with_the_signed_progress_note_into_the_export(
    alice: User, client_record: Client, session: Session
) -> None:
    services.session_questions_pin(actor=alice, session=session, picks=["evidence:1", "patterns:0"])
    first, second = SessionQuestion.objects.order_by("position")
    services.session_questions_tick(
        actor=alice, session=session, asked=[first.pk], opened={first.pk: "She laughed at herself"}
    )
    services.note_save(actor=alice, session=session, kind=NoteKind.PROGRESS, body=PROGRESS, sign=True)
    page = _archive(alice, client_record).read("progress-notes.html").decode()
    assert PROGRESS in page and "Questions asked" in page
    assert f"{html.escape(first.text)}: She laughed at herself" in page
    assert html.escape(second.text) not in page  # pinned, never asked
