"""Rupture notes and transference themes: only the treating therapist writes; bad input names its field
and writes nothing; every write has its audit row; the note's texts are encrypted at rest."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from spacebetween import crypto
from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Attendance, Episode, Session
from spacebetween.relationship import selectors, services
from spacebetween.relationship.models import RuptureNote, SessionTheme, ThemeLabel

pytestmark = pytest.mark.django_db

WHAT = "Went silent when I mentioned the break over the holidays"
PART = "I hurried past it to the homework"
REPAIR = "Named the silence the week after; she said she felt dropped"


def _save(actor: User, session: Session, **kw: object) -> RuptureNote:
    args: dict[str, object] = {
        "kind": "withdrawal",
        "repaired": "partly",
        "what_happened": WHAT,
        "therapist_part": PART,
        "repair": REPAIR,
    }
    args.update(kw)
    return services.rupture_note_save(actor=actor, session=session, **args)  # type: ignore[arg-type]


def _writes() -> int:
    return AuditEvent.objects.exclude(event_type="access-denied").count()


def test_the_treating_therapist_writes_a_note_and_it_is_audited(alice: User, session: Session) -> None:
    note = _save(alice, session)
    assert (note.kind, note.repaired, note.therapist_id) == ("withdrawal", "partly", alice.pk)
    event = AuditEvent.objects.filter(entity_type="RuptureNote").get()
    assert (event.action, event.entity_id, event.actor_id) == ("C", str(note.pk), alice.pk)
    assert WHAT not in event.detail
    view = selectors.rupture_note_for(alice, session.pk)
    assert view is not None and view.texts == {
        "what_happened": WHAT,
        "therapist_part": PART,
        "repair": REPAIR,
    }

    _save(alice, session, repaired="yes", repair="")
    assert RuptureNote.objects.count() == 1
    assert AuditEvent.objects.filter(entity_type="RuptureNote", action="U").count() == 1
    corrected = selectors.rupture_note_for(alice, session.pk)
    assert corrected is not None and corrected.note.repaired == "yes" and corrected.texts["repair"] == ""


def test_the_texts_are_encrypted_in_the_database(alice: User, session: Session) -> None:
    note = _save(alice, session)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT what_happened, therapist_part, repair FROM relationship_rupturenote WHERE id = %s",
            [note.pk],
        )
        raw = cursor.fetchone()
    assert all(value for value in raw)
    for value, text in zip(raw, (WHAT, PART, REPAIR), strict=True):
        assert text not in value and "silent" not in value
    # Bound to its field: a ciphertext moved to another field does not decrypt.
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(raw[0], context=services.rupture_context("repair", session.pk))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "sulking"}, "kind"),
        ({"kind": ""}, "kind"),
        ({"repaired": "maybe"}, "repaired"),
        ({"what_happened": "   "}, "what_happened"),
        ({"therapist_part": "x" * (services.MAX_RUPTURE_TEXT + 1)}, "therapist_part"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    alice: User, session: Session, change: dict[str, object], field: str
) -> None:
    before = _writes()
    with pytest.raises(ValidationError) as raised:
        _save(alice, session, **change)
    assert field in raised.value.message_dict
    assert RuptureNote.objects.count() == 0 and _writes() == before


def test_a_colleague_and_a_supervisor_are_refused_and_the_refusal_is_audited(
    alice: User, bob: User, sam: User, episode: Episode, session: Session
) -> None:
    from tests.conftest import share_for_supervision

    share_for_supervision(alice, episode)
    before = _writes()
    for other in (bob, sam):
        with pytest.raises(PermissionDenied):
            _save(other, session)
        with pytest.raises(PermissionDenied):
            services.theme_tag(actor=other, session=session, kind="transference", label="feeling pushed away")
    assert RuptureNote.objects.count() == 0 and SessionTheme.objects.count() == 0 and _writes() == before
    denied = AuditEvent.objects.filter(event_type="access-denied", entity_type="Session")
    assert sorted(e.detail for e in denied if e.actor_id == bob.pk) == ["rupture-note", "theme"]
    # The supervisor reads the note on the shared episode; the colleague never.
    _save(alice, session)
    assert selectors.rupture_note_for(sam, session.pk) is not None
    assert selectors.rupture_note_for(bob, session.pk) is None


def test_a_supervisor_reads_nothing_on_an_episode_not_shared(
    alice: User, sam: User, session: Session
) -> None:
    _save(alice, session)
    assert selectors.rupture_note_for(alice, session.pk) is not None
    assert selectors.rupture_note_for(sam, session.pk) is None


def test_a_session_that_has_not_taken_place_has_no_rupture(alice: User, episode: Episode) -> None:
    future = clinical.session_create(
        actor=alice, episode=episode, starts_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    )
    cancelled = clinical.session_create(
        actor=alice,
        episode=episode,
        starts_at=dt.datetime(2026, 9, 1, 10, 0, tzinfo=dt.UTC),
        attendance=Attendance.CANCELLED,
    )
    for session in (future, cancelled):
        with pytest.raises(ValidationError):
            _save(alice, session)
    assert RuptureNote.objects.count() == 0


def test_themes_come_from_the_practice_list_and_are_audited(alice: User, session: Session) -> None:
    first = services.theme_tag(
        actor=alice, session=session, kind="counter_transference", label=" Wish  to rescue "
    )
    assert first.label.label == "Wish to rescue"
    # The same label in another case is the practice's existing one; the same theme twice is refused.
    services.theme_tag(actor=alice, session=session, kind="transference", label="wish to rescue")
    assert ThemeLabel.objects.count() == 1
    with pytest.raises(ValidationError) as raised:
        services.theme_tag(actor=alice, session=session, kind="counter_transference", label="WISH TO RESCUE")
    assert "label" in raised.value.message_dict
    assert selectors.theme_labels(alice.practice) == ["Wish to rescue"]
    assert AuditEvent.objects.filter(entity_type="ThemeLabel", action="C").count() == 1
    assert AuditEvent.objects.filter(entity_type="SessionTheme", action="C").count() == 2
    assert not AuditEvent.objects.filter(detail__icontains="rescue").exists()

    services.theme_untag(actor=alice, session=session, tag_id=first.pk)
    assert [t.kind for t in selectors.session_themes(alice, session.pk)] == ["transference"]
    assert AuditEvent.objects.filter(entity_type="SessionTheme", action="D", entity_id=str(first.pk)).exists()
    with pytest.raises(ValidationError):
        services.theme_untag(actor=alice, session=session, tag_id=first.pk)


@pytest.mark.parametrize(
    ("kind", "label", "field"),
    [
        ("projection", "feeling pushed away", "kind"),
        ("transference", "  ", "label"),
        ("transference", "x" * 61, "label"),
    ],
)
def test_a_bad_theme_names_its_field(
    alice: User, session: Session, kind: str, label: str, field: str
) -> None:
    before = _writes()
    with pytest.raises(ValidationError) as raised:
        services.theme_tag(actor=alice, session=session, kind=kind, label=label)
    assert field in raised.value.message_dict
    assert ThemeLabel.objects.count() == 0 and _writes() == before
