"""reflection_record: the treating therapist's view of the session and counter-transference
check-in; refused input writes nothing; the note is encrypted at rest."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from spacebetween import crypto
from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Attendance, Episode, Session
from spacebetween.measures import services as measures
from spacebetween.relationship import services
from spacebetween.relationship.measures import SESSION_RATING, therapist_alliance_instrument
from spacebetween.relationship.models import MeasureKind, SessionReflection
from tests.relationship.conftest import NOTE, RATING, therapist_form_definition

pytestmark = pytest.mark.django_db


def _record(actor: User, session: Session, **kw: object) -> SessionReflection:
    args: dict[str, object] = {
        "answers": RATING,
        "feelings": ["protective", "overwhelmed"],
        "intensity": 3,
        "note": NOTE,
    }
    args.update(kw)
    return services.reflection_record(actor=actor, session=session, **args)  # type: ignore[arg-type]


def _nothing_written(audit_before: int) -> None:
    assert SessionReflection.objects.count() == 0
    assert AuditEvent.objects.exclude(event_type="access-denied").count() == audit_before


def test_it_records_a_session_rating_marked_as_not_validated(alice: User, session: Session) -> None:
    _record(alice, session)
    saved = SessionReflection.objects.get()
    assert (saved.session_id, saved.therapist_id) == (session.pk, alice.pk)
    assert (saved.measure_kind, saved.measure_id, saved.validated) == (
        MeasureKind.SESSION_RATING,
        SESSION_RATING.id,
        False,
    )
    assert saved.answers == RATING
    assert saved.scores == {}
    assert (saved.feelings, saved.intensity) == (["protective", "overwhelmed"], 3)
    event = AuditEvent.objects.get(entity_type="SessionReflection")
    assert (event.action, event.actor_id, event.entity_id, event.detail) == ("C", alice.pk, str(saved.pk), "")


def test_the_note_is_encrypted_at_rest(alice: User, session: Session) -> None:
    saved = _record(alice, session)
    with connection.cursor() as cursor:
        cursor.execute("SELECT feelings_note FROM relationship_sessionreflection WHERE id = %s", [saved.pk])
        (raw,) = cursor.fetchone()
    assert NOTE not in raw
    assert "rescue" not in raw
    assert crypto.decrypt(raw, context=services.note_context(session.pk)) == NOTE


def test_the_note_cannot_be_read_as_another_sessions(alice: User, session: Session) -> None:
    saved = _record(alice, session)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(saved.feelings_note, context=services.note_context(session.pk + 1))


def test_no_note_stores_nothing_to_decrypt(alice: User, session: Session) -> None:
    assert _record(alice, session, note="  ").feelings_note == ""


def test_recording_again_corrects_the_same_reflection(alice: User, session: Session) -> None:
    first = _record(alice, session)
    second = _record(alice, session, answers={**RATING, "bond": 2}, feelings=[], intensity=None, note="")
    assert SessionReflection.objects.get().pk == first.pk == second.pk
    assert (second.answers["bond"], second.feelings, second.feelings_note) == (2, [], "")
    assert second.recorded_at == first.recorded_at
    assert list(
        AuditEvent.objects.filter(entity_type="SessionReflection").values_list("action", flat=True)
    ) == [
        "C",
        "U",
    ]


def test_feelings_are_kept_in_the_lists_order(alice: User, session: Session) -> None:
    assert _record(alice, session, feelings=["distant", "protective", "distant"]).feelings == [
        "protective",
        "distant",
    ]


def test_a_colleague_cannot_record_and_the_attempt_is_audited(bob: User, session: Session) -> None:
    with pytest.raises(PermissionDenied):
        _record(bob, session)
    assert SessionReflection.objects.count() == 0
    denied = AuditEvent.objects.get(event_type="access-denied")
    assert (denied.actor_id, denied.entity_type, denied.entity_id) == (bob.pk, "Session", str(session.pk))


def test_a_supervisor_of_a_shared_episode_cannot_record(
    sam: User, shared_episode: Episode, session: Session
) -> None:
    with pytest.raises(PermissionDenied):
        _record(sam, session)
    assert SessionReflection.objects.count() == 0


def test_another_practice_cannot_record(oscar: User, session: Session) -> None:
    with pytest.raises(PermissionDenied):
        _record(oscar, session)
    assert SessionReflection.objects.count() == 0


def test_the_client_cannot_record(carol_user: User, session: Session) -> None:
    with pytest.raises(PermissionDenied):
        _record(carol_user, session)
    assert SessionReflection.objects.count() == 0


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({**RATING, "bond": 11}, "bond"),
        ({**RATING, "goals": -1}, "goals"),
        ({k: v for k, v in RATING.items() if k != "tasks"}, "tasks"),
        ({**RATING, "overall": True}, "overall"),
        ({**RATING, "overall": 7.5}, "overall"),
    ],
)
def test_a_rating_out_of_range_writes_nothing(
    alice: User, session: Session, answers: dict[str, object], field: str
) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        _record(alice, session, answers=answers)
    assert field in caught.value.message_dict
    _nothing_written(before)


def test_an_unknown_feeling_writes_nothing(alice: User, session: Session) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        _record(alice, session, feelings=["protective", "furious"])
    assert caught.value.message_dict == {"feelings": [services.UNKNOWN_FEELING.format(value="furious")]}
    _nothing_written(before)


def test_feelings_without_an_intensity_write_nothing(alice: User, session: Session) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        _record(alice, session, intensity=None)
    assert caught.value.message_dict == {"intensity": [services.INTENSITY_REQUIRED]}
    _nothing_written(before)


def test_an_intensity_without_feelings_writes_nothing(alice: User, session: Session) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        _record(alice, session, feelings=[], intensity=2)
    _nothing_written(before)


def test_an_intensity_out_of_range_writes_nothing(alice: User, session: Session) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        _record(alice, session, intensity=6)
    _nothing_written(before)


def test_a_session_still_to_come_is_refused(alice: User, episode: Episode) -> None:
    later = clinical.session_create(
        actor=alice, episode=episode, starts_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    )
    with pytest.raises(ValidationError) as caught:
        _record(alice, later)
    assert caught.value.messages == [services.NOT_YET]
    assert SessionReflection.objects.count() == 0


def test_a_cancelled_session_is_refused(alice: User, session: Session) -> None:
    Session.objects.filter(pk=session.pk).update(attendance=Attendance.CANCELLED)
    with pytest.raises(ValidationError) as caught:
        _record(alice, session)
    assert caught.value.messages == [services.NO_SESSION]
    assert SessionReflection.objects.count() == 0


# ------------------------------------------------------------------------------ a licensed form


def test_without_the_licensed_pack_an_imported_therapist_form_is_not_used(
    admin: User, alice: User, session: Session
) -> None:
    measures.instrument_import(
        actor=admin, filename="t.json", content=json.dumps(therapist_form_definition()).encode()
    )
    assert therapist_alliance_instrument(alice.practice) is None
    assert _record(alice, session).measure_kind == MeasureKind.SESSION_RATING


def test_a_licensed_therapist_alliance_form_is_used_and_scored(
    alice: User, session: Session, therapist_alliance_form: str
) -> None:
    instrument = therapist_alliance_instrument(alice.practice)
    assert instrument is not None and instrument.id == therapist_alliance_form
    answers = {item.id: 4 for item in instrument.items}
    saved = _record(alice, session, answers=answers)
    assert (saved.measure_kind, saved.measure_id, saved.validated) == (
        MeasureKind.INSTRUMENT,
        therapist_alliance_form,
        True,
    )
    assert saved.scores["total"] == 48  # 12 items x 4, summed as the definition says


def test_a_licensed_form_refuses_an_answer_that_is_not_an_option(
    alice: User, session: Session, therapist_alliance_form: str
) -> None:
    instrument = therapist_alliance_instrument(alice.practice)
    assert instrument is not None
    answers: dict[str, object] = {item.id: 4 for item in instrument.items}
    answers[instrument.items[0].id] = 9
    with pytest.raises(ValidationError) as caught:
        _record(alice, session, answers=answers)
    assert instrument.items[0].id in caught.value.message_dict
    assert SessionReflection.objects.count() == 0
