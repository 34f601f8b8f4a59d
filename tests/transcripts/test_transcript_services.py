"""transcripts.services: upload (encrypted), who is who (which codes it), delete. Every refusal
changes nothing and writes no text to the audit log; every change writes its audit row (ids only)."""

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
from spacebetween.core.transcript_formats import MAX_BYTES
from spacebetween.core.transcripts.model import Coder
from spacebetween.core.transcripts.table import Utterance, split_code
from spacebetween.transcripts import services
from spacebetween.transcripts.models import Transcript, Turn
from tests.transcripts.conftest import CLIENT, OTHER, ROLES, SECRET, THERAPIST, VTT

pytestmark = pytest.mark.django_db


def _events() -> list[tuple[str, str]]:
    return [(e.action, e.detail) for e in AuditEvent.objects.filter(entity_type="Transcript").order_by("seq")]


def test_an_upload_is_stored_encrypted_and_audited_without_its_words(alice: User, session: Session) -> None:
    transcript = services.transcript_upload(actor=alice, session=session, data=VTT, filename="s.vtt")
    turns = list(transcript.turns.order_by("number"))
    assert [t.speaker for t in turns] == [THERAPIST, CLIENT, THERAPIST, OTHER, CLIENT, THERAPIST]
    assert all(t.code == "" for t in turns) and transcript.coded_at is None
    # The raw columns hold ciphertext, bound to the row: neither the words nor the names are readable.
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM transcripts_turn")
        raw = " ".join(r[0] for r in cursor.fetchall())
        cursor.execute("SELECT speakers FROM transcripts_transcript")
        raw += cursor.fetchone()[0]
    assert SECRET not in raw and "Carol" not in raw and "Dr Ames" not in raw
    second = turns[1]
    assert SECRET in crypto.decrypt(second.text, context=services.turn_context(transcript.pk, 2))
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(second.text, context=services.turn_context(transcript.pk, 3))
    assert services.speaker_names(transcript) == ["Dr Ames", "Carol", "Interpreter"]
    assert _events() == [("C", "vtt, 6 turns, 3 speakers")]
    assert not AuditEvent.objects.filter(detail__contains=SECRET).exists()


def test_mapping_speakers_codes_with_the_shipped_model(alice: User, session: Session) -> None:
    services.transcript_upload(actor=alice, session=session, data=VTT, filename="s.vtt")
    transcript = services.transcript_code(actor=alice, session=session, roles=ROLES)
    turns = list(Turn.objects.filter(transcript=transcript).order_by("number"))
    kept = [t for t in turns if t.speaker != OTHER]
    texts = [crypto.decrypt(t.text, context=services.turn_context(transcript.pk, t.number)) for t in kept]
    speakers = [ROLES[t.speaker] for t in kept]
    expected = Coder.load().code(
        [Utterance("s", str(i), s, x, i) for i, (s, x) in enumerate(zip(speakers, texts, strict=True))],
        refine=True,
    )
    assert [t.code for t in kept] == expected
    assert turns[3].code == ""  # the interpreter, left out
    summary = transcript.summary
    therapist_codes = [split_code(c) for c, s in zip(expected, speakers, strict=True) if s == "therapist"]
    questions = [sub for main, sub in therapist_codes if main == "question"]
    reflections = [sub for main, sub in therapist_codes if main == "reflection"]
    assert questions and all(questions)  # each question stored with its subtype (open or closed)
    assert summary["reflection_to_question"] == round(len(reflections) / len(questions), 2)
    assert summary["percent_open_questions"] == round(100 * questions.count("open") / len(questions), 1)
    assert summary["turns"] == {"therapist": 3, "client": 2}
    assert summary["emotion_words"]["client"] >= 2  # "anxious", "sad"
    assert 0 < summary["lsm"] <= 1
    assert transcript.model_version.startswith("core.transcripts model.npz sha256:")
    assert [a for a, _ in _events()] == ["C", "U"]


def test_the_treating_therapist_alone_may_upload_code_or_delete(
    bob: User, sam: User, alice: User, session: Session, shared_episode: Episode
) -> None:
    for actor in (bob, sam):  # a colleague; the supervisor, even on a shared episode
        with pytest.raises(PermissionDenied):
            services.transcript_upload(actor=actor, session=session, data=VTT, filename="s.vtt")
    services.transcript_upload(actor=alice, session=session, data=VTT, filename="s.vtt")
    with pytest.raises(PermissionDenied):
        services.transcript_code(actor=sam, session=session, roles=ROLES)
    with pytest.raises(PermissionDenied):
        services.transcript_delete(actor=sam, session=session)
    assert Transcript.objects.get().coded_at is None
    assert AuditEvent.objects.filter(entity_type="Session", detail="transcript", outcome=4).count() >= 4


@pytest.mark.parametrize(
    ("data", "name", "field", "message"),
    [
        (b"", "s.vtt", "file", "Choose a transcript file"),
        (b"x" * (MAX_BYTES + 1), "s.txt", "file", "larger than 2 MB"),
        (b"WEBVTT\n\n00:01 --> 00:02\n<v A>hi</v>\n", "s.vtt", "file", "Line 3: expected a cue timing"),
    ],
)
def test_bad_files_are_refused_naming_the_field_and_write_nothing(
    alice: User, session: Session, data: bytes, name: str, field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.transcript_upload(actor=alice, session=session, data=data, filename=name)
    assert message in " ".join(caught.value.message_dict[field])
    assert not Transcript.objects.exists() and _events() == []


def test_a_session_to_come_or_with_a_transcript_is_refused(
    alice: User, episode: Episode, session: Session
) -> None:
    later = clinical.session_create(
        actor=alice, episode=episode, starts_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    )
    with pytest.raises(ValidationError, match="not taken place yet"):
        services.transcript_upload(actor=alice, session=later, data=VTT, filename="s.vtt")
    services.transcript_upload(actor=alice, session=session, data=VTT, filename="s.vtt")
    with pytest.raises(ValidationError, match="already has a transcript"):
        services.transcript_upload(actor=alice, session=session, data=VTT, filename="s.vtt")
    assert Transcript.objects.count() == 1


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        ({THERAPIST: "therapist", CLIENT: "client"}, "Say who “Interpreter” is"),
        ({THERAPIST: "therapist", CLIENT: "therapist", OTHER: "ignore"}, "one as the client"),
        ({THERAPIST: "boss", CLIENT: "client", OTHER: "ignore"}, "Say who “Dr Ames” is"),
    ],
)
def test_every_speaker_needs_a_role_and_both_sides_are_needed(
    alice: User, session: Session, roles: dict[int, str], message: str
) -> None:
    services.transcript_upload(actor=alice, session=session, data=VTT, filename="s.vtt")
    with pytest.raises(ValidationError) as caught:
        services.transcript_code(actor=alice, session=session, roles=roles)
    assert message in " ".join(caught.value.messages)
    transcript = Transcript.objects.get()
    assert transcript.coded_at is None and transcript.summary == {}
    assert not Turn.objects.exclude(code="").exists()


def test_delete_removes_words_and_codes(alice: User, session: Session, coded: Transcript) -> None:
    assert Turn.objects.exists()
    services.transcript_delete(actor=alice, session=session)
    assert not Transcript.objects.exists() and not Turn.objects.exists()
    assert [a for a, _ in _events()] == ["C", "U", "D"]
    with pytest.raises(ValidationError, match="no transcript"):
        services.transcript_delete(actor=alice, session=session)
