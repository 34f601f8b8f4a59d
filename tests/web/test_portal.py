from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from spacebetween.accounts.models import Role
from spacebetween.accounts.services import user_create
from spacebetween.answering import services as answering
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.core import instruments as catalogue

pytestmark = pytest.mark.django_db

URL = "/me/"
# Far enough ahead to stay upcoming; 09:00 UTC in July is 10:00 in London.
UPCOMING = dt.datetime(2030, 7, 1, 9, 0, tzinfo=dt.UTC)


def test_it_shows_the_client_their_name_and_upcoming_sessions(as_user, alice, carol_user, episode) -> None:
    clinical.session_create(actor=alice, episode=episode, starts_at=UPCOMING)
    response = as_user(carol_user).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Hello, Carol" in body
    assert "Mon 1 Jul 2030, 10:00" in body
    assert "Alice" in body  # who the session is with


def test_it_leaves_out_past_and_cancelled_sessions(as_user, alice, carol_user, session) -> None:
    cancelled = clinical.session_create(actor=alice, episode=session.episode, starts_at=UPCOMING)
    clinical.session_update(
        actor=alice,
        session=cancelled,
        starts_at=UPCOMING,
        duration_minutes=50,
        format="individual",
        attendance="cancelled",
        participants=[session.episode.client],
    )
    assert as_user(carol_user).get(URL).context["own"].upcoming == []


def test_it_shows_nothing_clinical(as_user, carol_user, session) -> None:
    body = as_user(carol_user).get(URL).content.decode()
    assert "bereavement" not in body
    assert "Referral" not in body


def test_it_shows_nothing_of_other_clients(as_user, alice, carol_user, dan, episode) -> None:
    dans_episode = dan.episodes.get()
    clinical.session_create(actor=alice, episode=dans_episode, starts_at=UPCOMING + dt.timedelta(days=1))
    body = as_user(carol_user).get(URL).content.decode()
    assert "Dan" not in body
    assert "Tue 2 Jul 2030" not in body


def test_a_client_without_a_linked_record_sees_a_notice(as_user, practice) -> None:
    lone = user_create(
        practice=practice, email="lone@example.org", full_name="Lone", role=Role.CLIENT, password=None
    )
    response = as_user(lone).get(URL)
    assert response.status_code == 200
    assert "not linked to a record yet" in response.content.decode()


def test_it_audits_the_read_as_patient_requested(as_user, carol_user, client_record) -> None:
    as_user(carol_user).get(URL)
    event = AuditEvent.objects.get(action="R", entity_type="Client", entity_id=str(client_record.pk))
    assert (event.actor_id, event.purpose) == (carol_user.pk, "PATRQT")


def test_it_forbids_therapists(as_user, alice, client_record) -> None:
    assert as_user(alice).get(URL).status_code == 403


def test_it_forbids_supervisors(as_user, sam, client_record) -> None:
    assert as_user(sam).get(URL).status_code == 403


def test_it_forbids_admins(as_user, admin, client_record) -> None:
    assert as_user(admin).get(URL).status_code == 403


def test_it_sends_anonymous_visitors_to_sign_in(client, client_record) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_it_lists_the_clients_open_questionnaires_with_links(as_user, alice, carol_user, episode) -> None:
    now = timezone.now()
    open_one = answering.assignment_create(
        actor=alice, episode=episode, instrument_id="phq9", due_at=now, now=now
    )
    body = as_user(carol_user).get("/me/").content.decode()
    assert reverse("portal_answer", args=[open_one.pk]) in body
    assert catalogue.get("phq9").title in body


def test_it_leaves_out_answered_and_future_questionnaires(as_user, alice, carol_user, episode) -> None:
    now = timezone.now()
    answered = answering.assignment_create(
        actor=alice, episode=episode, instrument_id="gad7", due_at=now, now=now
    )
    answers = {item: 0 for item in catalogue.get("gad7").scored_item_ids}
    answering.response_submit(assignment=answered, answers=answers, via="portal", actor=carol_user, now=now)
    later = now + dt.timedelta(days=3)
    future = answering.assignment_create(
        actor=alice, episode=episode, instrument_id="phq9", due_at=later, now=now
    )
    body = as_user(carol_user).get("/me/").content.decode()
    assert reverse("portal_answer", args=[answered.pk]) not in body
    assert reverse("portal_answer", args=[future.pk]) not in body
    assert "Nothing to answer at the moment." in body
