from __future__ import annotations

import datetime as dt

import pytest

from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Session

pytestmark = pytest.mark.django_db

# The fixture session starts at 10:00 UTC on 8 Sep 2026: 11:00 in London.
KEEP = {
    "starts_at": "2026-09-08T11:00",
    "duration_minutes": "50",
    "format": "individual",
    "attendance": "scheduled",
}


def url(session) -> str:
    return f"/sessions/{session.pk}/edit/"


def test_it_shows_the_time_in_the_practice_time_zone(as_user, alice, session) -> None:
    response = as_user(alice).get(url(session))
    assert response.status_code == 200
    assert 'value="2026-09-08T11:00"' in response.content.decode()


def test_showing_the_form_audits_a_read(as_user, alice, session) -> None:
    as_user(alice).get(url(session))
    assert (
        AuditEvent.objects.filter(action="R", entity_type="Session", entity_id=str(session.pk)).count() == 1
    )


def test_it_records_attendance(as_user, alice, session) -> None:
    response = as_user(alice).post(url(session), {**KEEP, "attendance": "attended"})
    assert response.status_code == 302
    assert response.url == f"/clients/{session.episode.client_id}/"
    session.refresh_from_db()
    assert session.attendance == "attended"
    assert session.starts_at == dt.datetime(2026, 9, 8, 10, 0, tzinfo=dt.UTC)
    assert AuditEvent.objects.filter(action="U", entity_type="Session", entity_id=str(session.pk)).exists()


def test_it_moves_the_session(as_user, alice, session) -> None:
    as_user(alice).post(url(session), {**KEEP, "starts_at": "2026-09-09T16:15", "duration_minutes": "90"})
    session.refresh_from_db()
    assert session.starts_at == dt.datetime(2026, 9, 9, 15, 15, tzinfo=dt.UTC)
    assert session.duration_minutes == 90


def test_it_turns_a_session_into_a_couple_session(as_user, alice, session, dan) -> None:
    as_user(alice).post(url(session), {**KEEP, "format": "couple", "participants": [dan.pk]})
    session.refresh_from_db()
    assert {p.pk for p in session.participants.all()} == {session.episode.client_id, dan.pk}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("starts_at", "2026-02-30T10:00"),
        ("starts_at", "2026-08-01T10:00"),
        ("duration_minutes", "0"),
        ("format", "couple"),
        ("attendance", ""),
    ],
)
def test_wrong_input_gets_a_field_error_and_changes_nothing(
    as_user, alice, session, record_counts, field, value
) -> None:
    http = as_user(alice)
    before = record_counts()
    response = http.post(url(session), {**KEEP, field: value})
    assert response.status_code == 200
    # A couple session without a partner is the participants' field's error.
    assert ("participants" if value == "couple" else field) in response.context["form"].errors
    assert record_counts() == before
    fresh = Session.objects.get(pk=session.pk)
    assert (fresh.starts_at, fresh.duration_minutes, fresh.format) == (session.starts_at, 50, "individual")


def test_it_hides_a_colleagues_session(as_user, bob, session) -> None:
    assert as_user(bob).get(url(session)).status_code == 404


def test_supervisor_of_a_shared_episode_may_read_but_not_change(
    as_user, sam, shared_episode, session
) -> None:
    assert as_user(sam).post(url(session), {**KEEP, "attendance": "attended"}).status_code == 403
    assert Session.objects.get(pk=session.pk).attendance == "scheduled"


def test_supervisor_gets_404_for_an_unshared_episode(as_user, sam, session) -> None:
    assert as_user(sam).get(url(session)).status_code == 404


def test_it_forbids_admins(as_user, admin, session) -> None:
    assert as_user(admin).get(url(session)).status_code == 403


def test_it_forbids_clients(as_user, carol_user, session) -> None:
    assert as_user(carol_user).post(url(session), {**KEEP, "attendance": "cancelled"}).status_code == 403
    assert Session.objects.get(pk=session.pk).attendance == "scheduled"


def test_another_practice_gets_404(as_user, oscar, session) -> None:
    assert as_user(oscar).get(url(session)).status_code == 404


def test_it_sends_anonymous_visitors_to_sign_in(client, session) -> None:
    response = client.get(url(session))
    assert response.status_code == 302
    assert response.url.startswith("/login/")
