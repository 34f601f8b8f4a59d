"""Key rotation: after `field_values_reencrypt` under [new, old], the new key alone reads every
encrypted field, and the old key alone reads none."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command

from spacebetween import crypto
from spacebetween.accounts import signin
from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.backup.archive import key_fingerprint
from spacebetween.backup.services import (
    ENCRYPTED_FIELDS,
    ERROR_DECRYPT,
    BackupError,
    encrypted_values_decrypt,
)
from spacebetween.clients.models import Session
from spacebetween.exercises import services as exercises
from spacebetween.formulation import services as formulation
from spacebetween.formulation.models import MarkerCheck
from spacebetween.notes import services as notes
from spacebetween.notifications.services import outbox_enqueue
from spacebetween.relationship import services as relationship
from spacebetween.transcripts import services as transcripts
from tests.backup.conftest import KEY, OTHER_KEY
from tests.conftest import FakeClock, share_for_supervision
from tests.exercises.conftest import THOUGHT_RECORD, assign
from tests.relationship.conftest import NOTE, RATING

pytestmark = pytest.mark.django_db
NEW_KEY = OTHER_KEY


@pytest.fixture
def encrypted_everywhere(
    settings: Any, alice: User, session: Session, carol_user: User, clock: FakeClock
) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [KEY]
    clock.set(dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC))
    exercise = assign(alice, session.episode, dt.date(2026, 10, 5))
    exercises.entry_record(actor=carol_user, assignment=exercise, answers=THOUGHT_RECORD)
    relationship.reflection_record(
        actor=alice, session=session, answers=RATING, note=NOTE, feelings=["bored"], intensity=2
    )
    relationship.rupture_note_save(
        actor=alice,
        session=session,
        kind="withdrawal",
        repaired="partly",
        what_happened="Went quiet after the holiday was mentioned",
        therapist_part="I pressed on with the plan",
        repair="Named it the next week",
    )
    signin.totp_enrolment(user=alice)
    notes.note_save(actor=alice, session=session, kind="process", body="A process note", sign=True)
    notes.addendum_add(actor=alice, session=session, kind="process", body="Its addendum")
    share_for_supervision(alice, session.episode)
    supervisor = alice.supervisor
    assert supervisor is not None  # sam (tests/conftest.py)
    notes.supervision_note_add(actor=supervisor, episode=session.episode, body="A supervision note")
    # One turn, one speaker: one value of each transcript field.
    transcripts.transcript_upload(actor=alice, session=session, data=b"Ames: hello", filename="s.txt")
    # One value of each of the workspace's encrypted fields.
    formulation.formulation_revise(actor=alice, episode=session.episode, fields={"ccrt_wish": "To be seen"})
    formulation.goal_add(actor=alice, episode=session.episode, text="Sleep through")
    work = formulation.reconsolidation_start(
        actor=alice, episode=session.episode, symptom="Freezes", emotional_truth="Anger means leaving"
    )
    formulation.reconsolidation_step_add(
        actor=alice, work=work, step="retrieval", occurred_on=dt.date(2026, 10, 5), text="Felt it"
    )
    check = MarkerCheck(  # straight to the table: the service would want steps C and D (more values)
        work=work,
        number=1,
        occasion="session",
        checked_on=dt.date(2026, 10, 5),
        recorded_by=alice,
        recorded_at=clock.now,
        no_retrigger="yes",
        symptom_ceased="yes",
        effortless="yes",
    )
    check.seal("Calm")
    check.save()
    outbox_enqueue(
        practice_id=alice.practice_id,
        to_address="carol@example.org",
        subject="A questionnaire is waiting for you",
        body_text="Sign in to Space Between.",
        kind="reminder",
    )


def test_after_reencrypting_the_new_key_alone_reads_every_field(
    settings: Any, encrypted_everywhere: None
) -> None:
    assert encrypted_values_decrypt() == len(ENCRYPTED_FIELDS)
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, KEY]
    call_command("reencrypt")

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert encrypted_values_decrypt() == len(ENCRYPTED_FIELDS)
    settings.FIELD_ENCRYPTION_KEYS = [KEY]
    with pytest.raises(BackupError, match=ERROR_DECRYPT):
        encrypted_values_decrypt()
    event = AuditEvent.objects.filter(event_type="key-rotation").get()
    assert event.detail == f"{len(ENCRYPTED_FIELDS)} values re-encrypted under key {key_fingerprint(NEW_KEY)}"
    assert NOTE not in event.detail


def test_without_reencrypting_the_old_key_is_still_needed(settings: Any, encrypted_everywhere: None) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(BackupError, match=ERROR_DECRYPT):
        encrypted_values_decrypt()
    assert crypto.encrypt("x", context="c")  # the new key itself works
