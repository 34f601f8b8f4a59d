"""Erasure and anonymisation: refused with a reason before the practice's retention period ends
(unless anonymisation is chosen); afterwards none of the client's identifying text is left in any text
column of any table (searched through the ORM, so on SQLite and PostgreSQL alike) nor, on SQLite, in
the database file's bytes; the audit log keeps that it happened, ids only."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection, models
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.answering import services as answering
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Client, EndReason, Episode, Session
from spacebetween.consent.models import ConsentRecord, Purpose
from spacebetween.consent.services import consent_record
from spacebetween.core import instruments as catalogue
from spacebetween.delivery.models import QuestionnaireLink
from spacebetween.delivery.services import link_send
from spacebetween.measures.models import Response
from spacebetween.notifications.models import OutboxMessage
from spacebetween.rights import erasure
from spacebetween.rights.erasure import ErasureRefused, client_erase
from spacebetween.rights.models import Erasure
from spacebetween.rights.selectors import retention_for
from spacebetween.rights.services import retention_set
from spacebetween.safety.plans import plan_save
from tests.conftest import FakeClock, signed_in

T0 = dt.datetime(2026, 9, 7, 12, 0, tzinfo=dt.UTC)
ENDED = dt.date(2026, 10, 30)
# What identifies Carol, and must be gone after erasure. (Her portal login is carol@example.org too.)
IDENTIFYING = (
    "Carol",
    "Jones",
    "carol@example.org",
    "07700 900123",
    "Mark Jones",
    "07700 900456",
    "Low mood after bereavement",
)


def text_holding(values: tuple[str, ...]) -> list[str]:
    """Every (table.column, value) where a text column of any table still holds one of `values`: the
    ORM's icontains, so the same search runs on SQLite and PostgreSQL."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.CharField | models.TextField):
                continue
            for value in values:
                if model._base_manager.filter(**{f"{field.attname}__icontains": value}).exists():
                    found.append(f"{model._meta.db_table}.{field.column}: {value}")
    return found


@pytest.fixture
def carol(alice: User, client_record: Client, episode: Episode, session: Session, clock: FakeClock) -> Client:
    """Carol with every kind of identifying text, an answered questionnaire, a link e-mailed, a safety
    plan naming her brother, consent given; her episode ended on 30 Oct 2026."""
    clock.set(T0)
    clinical.client_update(
        actor=alice,
        client=client_record,
        preferred_name="Caz",
        phone="07700 900123",
        date_of_birth=dt.date(1990, 5, 17),
        emergency_contact_name="Mark Jones",
        emergency_contact_relationship="Brother",
        emergency_contact_phone="07700 900456",
    )
    answered = answering.assignment_create(
        actor=alice, episode=episode, instrument_id="phq9", due_at=T0, now=T0
    )
    answers = {item: 1 for item in catalogue.get("phq9").scored_item_ids} | {"phq9_9": 0}
    answering.response_submit(assignment=answered, answers=answers, via="link", now=T0)
    open_one = answering.assignment_create(
        actor=alice, episode=episode, instrument_id="gad7", due_at=T0, now=T0
    )
    link_send(actor=alice, assignment=open_one, now=T0)
    plan_save(
        actor=alice,
        client=client_record,
        sections={"people_to_ask": "My brother Mark Jones, 07700 900456"},
        now=T0,
    )
    consent_record(actor=alice, client=client_record, purpose=Purpose.EMAIL, given=True)
    clinical.episode_update(
        actor=alice,
        episode=episode,
        referral_reason=episode.referral_reason,
        started_on=episode.started_on,
        ended_on=ENDED,
        end_reason=EndReason.COMPLETED,
        shared_for_supervision=False,
    )
    return Client.objects.get(pk=client_record.pk)


@pytest.mark.django_db
def test_erasure_before_the_retention_period_ends_is_refused_and_changes_nothing(
    alice: User, carol: Client, clock: FakeClock
) -> None:
    assert text_holding(IDENTIFYING)  # the search finds her before (the test can fail)
    before = AuditEvent.objects.count()
    with pytest.raises(ErasureRefused, match="kept until 30 October 2034 .8 years"):
        client_erase(actor=alice, client=carol, mode="erase", confirm=str(carol.pk))
    with pytest.raises(ErasureRefused, match="record number"):
        client_erase(actor=alice, client=carol, mode="anonymise", confirm="999")
    with pytest.raises(ErasureRefused, match="Choose erasure or anonymisation"):
        client_erase(actor=alice, client=carol, mode="shred", confirm=str(carol.pk))
    assert Client.objects.get(pk=carol.pk).given_name == "Carol"
    assert not Erasure.objects.exists() and AuditEvent.objects.count() == before
    clock.set(dt.datetime(2034, 10, 29, 12, 0, tzinfo=dt.UTC))  # the day before the period ends
    with pytest.raises(ErasureRefused):
        client_erase(actor=alice, client=carol, mode="erase", confirm=str(carol.pk))


@pytest.mark.django_db
def test_an_open_episode_blocks_both(alice: User, client_record: Client, episode: Episode) -> None:
    for mode in ("erase", "anonymise"):
        with pytest.raises(ErasureRefused, match="open episode"):
            client_erase(actor=alice, client=client_record, mode=mode, confirm=str(client_record.pk))


@pytest.mark.django_db
def test_the_retention_period_is_the_practices_setting(admin: User, carol: Client) -> None:
    assert retention_for(carol).kept_until == dt.date(2034, 10, 30)  # the default, 8 years
    retention_set(actor=admin, years_after_last_episode=20)
    assert retention_for(carol).kept_until == dt.date(2046, 10, 30)


@pytest.mark.django_db
def test_anonymising_leaves_no_identifying_text_and_keeps_the_clinical_record(
    alice: User, carol: Client, carol_user: User
) -> None:
    client_erase(actor=alice, client=carol, mode="anonymise", confirm=str(carol.pk))
    assert text_holding(IDENTIFYING) == []
    anonymous = Client.objects.get(pk=carol.pk)
    assert (anonymous.given_name, anonymous.family_name, anonymous.date_of_birth) == (
        "Anonymised",
        f"client {carol.pk}",
        None,
    )
    assert anonymous.portal_user_id is None
    carol_user.refresh_from_db()
    assert not carol_user.is_active and not carol_user.has_usable_password()
    assert not QuestionnaireLink.objects.exists()
    assert set(OutboxMessage.objects.values_list("to_address", "body_text")) == {
        ("erased@erased.invalid", "")
    }
    assert Response.objects.filter(assignment__episode__client=anonymous).count() == 1  # de-identified, kept
    assert ConsentRecord.objects.filter(client=anonymous).count() == 1
    event = AuditEvent.objects.get(event_type="erasure")
    assert (event.action, event.entity_id, event.detail) == ("U", str(carol.pk), "anonymised")
    with pytest.raises(ErasureRefused, match="already anonymised"):
        client_erase(actor=alice, client=anonymous, mode="anonymise", confirm=str(carol.pk))


@pytest.mark.django_db
def test_erasing_after_the_retention_period_deletes_the_record(
    alice: User, carol: Client, clock: FakeClock
) -> None:
    clock.set(dt.datetime(2034, 10, 30, 9, 0, tzinfo=dt.UTC))
    result = client_erase(actor=alice, client=carol, mode="erase", confirm=str(carol.pk))
    assert result.mode == "erase" and not result.vacuumed  # inside the test's transaction: no VACUUM
    assert not Client.objects.filter(pk=carol.pk).exists()
    assert not Episode.objects.filter(pk__in=[e.pk for e in carol.episodes.all()]).exists()
    assert not Response.objects.exists() and not ConsentRecord.objects.exists()
    assert text_holding(IDENTIFYING) == []
    assert Erasure.objects.get().client_id == carol.pk
    event = AuditEvent.objects.get(event_type="erasure")
    assert (event.action, event.entity_type, event.entity_id, event.detail) == (
        "D",
        "Client",
        str(carol.pk),
        "erased",
    )


@pytest.mark.django_db
def test_the_admin_erases_from_the_page_and_bad_input_changes_nothing(
    admin: User, bob: User, carol: Client, clock: FakeClock
) -> None:
    url = reverse("client_erasure", args=[carol.pk])
    refused = signed_in(admin).post(url, {"mode": "erase", "confirm": str(carol.pk)})
    assert refused.status_code == 400 and b"cannot be erased yet" in refused.content
    assert signed_in(bob).post(url, {"mode": "anonymise", "confirm": str(carol.pk)}).status_code == 404
    assert Client.objects.get(pk=carol.pk).given_name == "Carol"
    clock.set(dt.datetime(2035, 1, 1, 9, 0, tzinfo=dt.UTC))
    done = signed_in(admin).post(url, {"mode": "erase", "confirm": str(carol.pk)})
    assert done.status_code == 302 and done["Location"] == reverse("practice_overview")
    assert not Client.objects.filter(pk=carol.pk).exists()


# --- SQLite keeps deleted text in free pages and the write-ahead log ----------------------------


@pytest.fixture
def audit_triggers_lifted_after() -> Iterator[None]:
    """A transactional test's teardown empties every table: the audit log's triggers must let it."""
    from tests.browser.conftest import _lift_audit_triggers

    yield
    _lift_audit_triggers()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the bytes of an SQLite file")
def test_after_erasure_the_database_bytes_hold_no_name(
    alice: User, carol: Client, clock: FakeClock, tmp_path: Path, audit_triggers_lifted_after: None
) -> None:
    copy = tmp_path / "copy.sqlite3"
    clock.set(dt.datetime(2035, 1, 1, 9, 0, tzinfo=dt.UTC))
    result = client_erase(actor=alice, client=carol, mode="erase", confirm=str(carol.pk))
    assert result.vacuumed
    with connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(copy)])
    data = copy.read_bytes()
    for value in IDENTIFYING:
        assert value.encode() not in data, value
    assert b"Riverside Therapy" in data  # the search reads real content (the test can fail)


@pytest.mark.parametrize("purged", [False, True])
def test_secure_delete_and_vacuum_clear_deleted_text_from_the_file(tmp_path: Path, purged: bool) -> None:
    """The statements the erasure runs on SQLite, on a real file in WAL mode: without them the deleted
    name is still in the file's bytes; with them it is gone from the file and the log."""
    path = tmp_path / "db.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE client (id INTEGER PRIMARY KEY, name TEXT)")
    db.executemany("INSERT INTO client (name) VALUES (?)", [(f"Carol Jones {i}",) for i in range(200)])
    db.execute("INSERT INTO client (name) VALUES ('Someone Else')")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # The control turns secure_delete off: some builds (Debian's) have it on by default.
    db.execute(erasure.SECURE_DELETE if purged else "PRAGMA secure_delete = OFF")
    db.execute("DELETE FROM client WHERE name LIKE 'Carol%'")
    if purged:
        for statement in erasure.SQLITE_PURGE:
            db.execute(statement)
    else:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    wal = Path(f"{path}-wal")
    data = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    db.close()
    assert b"Someone Else" in path.read_bytes()
    assert (b"Carol Jones" in data) is not purged
