"""The practice owner's pages: the audit log (filters, pages, CSV export, its own viewing audited, no
other practice's rows), the e-mail outbox (subjects and states, never bodies; held e-mails say why),
the settings page (current values gathered; the practice's details saved and audited, bad input
changing nothing), and the From header naming the practice."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as MemoryBackend
from django.test import Client as HttpClient
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.audit.models import Action, AuditEvent, Entity
from spacebetween.audit.services import record
from spacebetween.clients.models import Client, Episode
from spacebetween.notifications import services as outbox
from spacebetween.notifications.models import OutboxMessage, Status
from spacebetween.practice.models import Practice
from tests.conftest import FakeClock, signed_in

UTC = dt.UTC
SECRET_BODY = "Your link: https://example.test/a/SECRET-TOKEN"


@pytest.fixture
def as_admin(admin: User) -> HttpClient:
    return signed_in(admin)


def _ids(response: object) -> list[int]:
    return [row.seq for row in response.context["rows"]]  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------ the audit log


@pytest.mark.django_db
def test_the_log_filters_by_person_and_action(as_admin: HttpClient, admin: User, alice: User) -> None:
    mine = record(action=Action.UPDATE, actor=alice, entity_type=Entity.CLIENT, entity_id=1)
    record(action=Action.READ, actor=alice, entity_type=Entity.CLIENT, entity_id=1)
    response = as_admin.get(reverse("audit_log"), {"person": str(alice.pk), "action": "U"})
    assert response.status_code == 200
    assert _ids(response) == [mine.seq]
    assert "Alice" in response.content.decode()


@pytest.mark.django_db
def test_the_log_filters_by_client_record(
    as_admin: HttpClient, alice: User, client_record: Client, episode: Episode
) -> None:
    about_episode = AuditEvent.objects.filter(entity_type="Episode", entity_id=str(episode.pk)).get()
    record(action=Action.READ, actor=alice, entity_type=Entity.CLIENT, entity_id=client_record.pk + 1000)
    response = as_admin.get(reverse("audit_log"), {"client": client_record.pk})
    shown = _ids(response)
    assert about_episode.seq in shown
    assert all(
        e.entity_type in {"Client", "Episode"} and e.entity_id in {str(client_record.pk), str(episode.pk)}
        for e in AuditEvent.objects.filter(seq__in=shown)
    )


@pytest.mark.django_db
def test_the_log_filters_by_local_days(as_admin: HttpClient, alice: User, clock: FakeClock) -> None:
    clock.set(dt.datetime(2026, 6, 1, 22, 30, tzinfo=UTC))  # 23:30 BST on 1 June
    late = record(action=Action.READ, actor=alice, entity_type=Entity.CLIENT, entity_id=1)
    clock.set(dt.datetime(2026, 6, 1, 23, 30, tzinfo=UTC))  # 00:30 BST on 2 June
    next_day = record(action=Action.READ, actor=alice, entity_type=Entity.CLIENT, entity_id=1)
    response = as_admin.get(reverse("audit_log"), {"since": "2026-06-01", "until": "2026-06-01"})
    assert late.seq in _ids(response) and next_day.seq not in _ids(response)


@pytest.mark.django_db
def test_bad_filters_get_a_clear_error_and_show_nothing(as_admin: HttpClient, admin: User) -> None:
    before = AuditEvent.objects.filter(entity_type="AuditLog").count()
    response = as_admin.get(reverse("audit_log"), {"since": "2026-06-02", "until": "2026-06-01"})
    assert response.status_code == 400
    assert "must not be after" in response.content.decode()
    assert "rows" not in response.context
    response = as_admin.get(reverse("audit_log"), {"client": 999999})
    assert response.status_code == 400 and "no client with this number" in response.content.decode()
    assert AuditEvent.objects.filter(entity_type="AuditLog").count() == before


@pytest.mark.django_db
def test_viewing_the_log_is_audited(as_admin: HttpClient, admin: User) -> None:
    as_admin.get(reverse("audit_log"))
    viewed = AuditEvent.objects.filter(entity_type="AuditLog", actor_id=admin.pk, action="R")
    assert [e.detail for e in viewed] == ["viewed page 1"]


@pytest.mark.django_db
def test_another_practices_events_never_show(as_admin: HttpClient, oscar: User) -> None:
    theirs = record(action=Action.UPDATE, actor=oscar, entity_type=Entity.CLIENT, entity_id=1)
    response = as_admin.get(reverse("audit_log"))
    assert theirs.seq not in _ids(response)
    assert as_admin.get(reverse("audit_log"), {"person": oscar.pk}).status_code == 400


@pytest.mark.django_db
def test_the_log_pages(as_admin: HttpClient, alice: User) -> None:
    for _ in range(55):
        record(action=Action.READ, actor=alice, entity_type=Entity.CLIENT, entity_id=1)
    first = as_admin.get(reverse("audit_log"), {"person": alice.pk})
    second = as_admin.get(reverse("audit_log"), {"person": str(alice.pk), "page": "2"})
    assert len(_ids(first)) == 50
    assert not set(_ids(first)) & set(_ids(second))
    assert f"person={alice.pk}&amp;page=2" in first.content.decode()


@pytest.mark.django_db
def test_the_export_writes_the_filtered_rows_and_is_audited(
    as_admin: HttpClient, admin: User, alice: User
) -> None:
    wanted = record(
        action=Action.UPDATE, actor=alice, entity_type=Entity.EPISODE, entity_id=7, detail="=HYPERLINK"
    )
    record(action=Action.READ, actor=alice, entity_type=Entity.CLIENT, entity_id=1)
    response = as_admin.get(reverse("audit_log_export"), {"action": "U", "person": str(alice.pk)})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [int(r["seq"]) for r in rows] == [wanted.seq]
    assert rows[0]["entity_type"] == "Episode" and rows[0]["actor"].startswith("Alice")
    assert rows[0]["detail"] == "'=HYPERLINK"  # a formula is never passed to a spreadsheet
    export = AuditEvent.objects.get(entity_type="AuditLog", event_type="export")
    assert export.actor_id == admin.pk and export.detail == "exported 1 rows"


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["audit_log", "audit_log_export", "outbox", "practice_settings"])
@pytest.mark.parametrize("who", ["alice", "sam", "carol_user"])
def test_only_the_admin_opens_them(page: str, who: str, request: pytest.FixtureRequest) -> None:
    assert signed_in(request.getfixturevalue(who)).get(reverse(page)).status_code == 403


# ------------------------------------------------------------------------------ the outbox


def _queue(practice: Practice, **kw: object) -> OutboxMessage:
    return outbox.outbox_enqueue(
        practice_id=practice.pk,
        to_address="carol@example.test",
        subject="A questionnaire is waiting for you",
        body_text=SECRET_BODY,
        kind="reminder",
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.django_db
def test_the_outbox_shows_what_waits_and_what_was_sent_never_bodies(
    as_admin: HttpClient, admin: User, clock: FakeClock
) -> None:
    clock.set(dt.datetime(2026, 6, 1, 21, 0, tzinfo=UTC))  # 22:00 BST: in the quiet hours
    held = _queue(admin.practice, not_before=dt.datetime(2026, 6, 2, 7, 0, tzinfo=UTC))  # 08:00 BST
    sent = _queue(admin.practice)
    OutboxMessage.objects.filter(pk=sent.pk).update(status=Status.SENT, sent_at=clock(), body_text="")
    response = as_admin.get(reverse("outbox"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "held until 2 Jun 08:00 (quiet hours)" in body
    assert "carol@example.test" in body and "A questionnaire is waiting for you" in body
    assert "SECRET-TOKEN" not in body
    states = {row.pk: row.state for row in response.context["rows"]}
    assert states == {held.pk: "Held", sent.pk: "Sent"}
    assert AuditEvent.objects.filter(entity_type="Outbox", actor_id=admin.pk).exists()


@pytest.mark.django_db
def test_the_outbox_lists_one_practice_and_filters(as_admin: HttpClient, admin: User, oscar: User) -> None:
    mine = _queue(admin.practice)
    theirs = _queue(oscar.practice)
    shown = {row.pk for row in as_admin.get(reverse("outbox")).context["rows"]}
    assert mine.pk in shown and theirs.pk not in shown
    assert as_admin.get(reverse("outbox"), {"show": "sent"}).context["rows"] == []


# ------------------------------------------------------------------------------ the sender


@pytest.mark.django_db
def test_the_sender_is_the_practice_by_name(admin: User, settings: object) -> None:
    settings.DEFAULT_FROM_EMAIL = "Space Between <no-reply@clinic.example>"  # type: ignore[attr-defined]
    Practice.objects.filter(pk=admin.practice_id).update(name="Riverside\r\nBcc: x@evil.test Therapy")
    message = _queue(admin.practice)
    [claimed] = outbox.outbox_claim(worker_id="w1", now=message.not_before)
    assert outbox.outbox_send_one(claimed, MemoryBackend()).sent
    [email] = mail.outbox
    # One line, quoted: the name cannot add a header or an address.
    assert email.from_email == '"Riverside Bcc: x@evil.test Therapy" <no-reply@clinic.example>'
    assert outbox.sender("Riverside Therapy") == "Riverside Therapy <no-reply@clinic.example>"
    assert "\n" not in email.message()["From"]


# ------------------------------------------------------------------------------ the settings


@pytest.mark.django_db
def test_the_settings_page_gathers_the_current_values(as_admin: HttpClient, admin: User) -> None:
    body = as_admin.get(reverse("practice_settings")).content.decode()
    for shown in ("Escalation of risk flags", "Quiet hours", "21:00", "08:00", "Retention", "Time zone"):
        assert shown in body
    assert reverse("risk_settings") in body and reverse("instrument_settings") in body


@pytest.mark.django_db
def test_the_practice_details_are_saved_and_audited(as_admin: HttpClient, admin: User) -> None:
    data = {"name": "Riverside Therapy", "country": "IE", "time_zone": "Europe/Dublin"}
    assert as_admin.post(reverse("practice_settings"), data).status_code == 302
    practice = Practice.objects.get(pk=admin.practice_id)
    assert (practice.name, practice.country, practice.time_zone) == (
        "Riverside Therapy",
        "IE",
        "Europe/Dublin",
    )
    assert AuditEvent.objects.filter(entity_type="Practice", action="U", actor_id=admin.pk).count() == 1


@pytest.mark.django_db
def test_bad_practice_details_change_nothing(as_admin: HttpClient, admin: User) -> None:
    before = Practice.objects.get(pk=admin.practice_id)
    data = {"name": "Riverside", "country": "XX", "time_zone": "Mars/Olympus"}
    response = as_admin.post(reverse("practice_settings"), data)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    after = Practice.objects.get(pk=admin.practice_id)
    assert (after.name, after.country, after.time_zone) == (before.name, before.country, before.time_zone)
