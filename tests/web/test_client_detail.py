from __future__ import annotations

import datetime as dt

import pytest

from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical

pytestmark = pytest.mark.django_db

SEPT_15 = dt.datetime(2026, 9, 15, 10, 0, tzinfo=dt.UTC)


def url(client_record) -> str:
    return f"/clients/{client_record.pk}/"


def test_it_shows_details_episodes_and_sessions_to_the_therapist(
    as_user, alice, client_record, session
) -> None:
    response = as_user(alice).get(url(client_record))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Carol Jones" in body
    assert "carol@example.org" in body
    assert "Low mood after bereavement" in body
    # Stored 10:00 UTC; the practice is in Europe/London, on summer time in September.
    assert "Tue 8 Sep 2026, 11:00" in body
    assert "Individual" in body and "Scheduled" in body


def test_it_offers_edit_links_to_the_therapist(as_user, alice, client_record, session) -> None:
    body = as_user(alice).get(url(client_record)).content.decode()
    assert f"/clients/{client_record.pk}/edit/" in body
    assert f"/episodes/{session.episode_id}/edit/" in body
    assert f"/episodes/{session.episode_id}/sessions/new/" in body
    assert f"/sessions/{session.pk}/edit/" in body


def test_it_lists_the_participants_of_a_couple_session(as_user, alice, client_record, episode, dan) -> None:
    clinical.session_create(
        actor=alice, episode=episode, starts_at=SEPT_15, format="couple", participants=[client_record, dan]
    )
    body = as_user(alice).get(url(client_record)).content.decode()
    assert "Carol Jones, Dan Jones" in body


def test_it_audits_the_read_of_the_client_and_each_episode(as_user, alice, client_record, episode) -> None:
    as_user(alice).get(url(client_record))
    reads = AuditEvent.objects.filter(action="R", actor_id=alice.pk, purpose="TREAT")
    expected = {("Client", str(client_record.pk)), ("Episode", str(episode.pk))}
    assert {(e.entity_type, e.entity_id) for e in reads} == expected
    assert all(e.detail == "" for e in reads)


def test_it_hides_a_colleagues_client(as_user, bob, client_record) -> None:
    assert as_user(bob).get(url(client_record)).status_code == 404


def test_it_audits_the_refusal(as_user, bob, client_record) -> None:
    as_user(bob).get(url(client_record))
    denied = AuditEvent.objects.get(event_type="access-denied", actor_id=bob.pk)
    assert (denied.entity_type, denied.entity_id, denied.outcome) == ("Client", str(client_record.pk), 4)


def test_supervisor_reads_a_shared_episode_without_edit_links(
    as_user, sam, client_record, shared_episode
) -> None:
    response = as_user(sam).get(url(client_record))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Low mood after bereavement" in body
    assert "you can read this episode but not change it" in body
    assert "/edit/" not in body
    assert "/sessions/new/" not in body


def test_supervisor_does_not_see_the_clients_contact_details(
    as_user, sam, client_record, shared_episode
) -> None:
    body = as_user(sam).get(url(client_record)).content.decode()
    assert client_record.email and client_record.email not in body
    assert "treating therapist only" in body


def test_the_treating_therapist_sees_the_contact_details(as_user, alice, client_record) -> None:
    assert client_record.email in as_user(alice).get(url(client_record)).content.decode()


def test_supervisor_gets_404_for_an_unshared_episode(as_user, sam, client_record, episode) -> None:
    assert as_user(sam).get(url(client_record)).status_code == 404


def test_it_forbids_admins(as_user, admin, client_record) -> None:
    assert as_user(admin).get(url(client_record)).status_code == 403


def test_it_forbids_clients_even_their_own_record(as_user, carol_user, client_record) -> None:
    # Clients have their own page (/me/) without the clinician's record.
    assert as_user(carol_user).get(url(client_record)).status_code == 403


def test_another_practice_gets_404(as_user, oscar, client_record) -> None:
    assert as_user(oscar).get(url(client_record)).status_code == 404


def test_a_missing_client_is_404_like_a_hidden_one(as_user, alice, client_record) -> None:
    assert as_user(alice).get(f"/clients/{client_record.pk + 1000}/").status_code == 404


def test_it_sends_anonymous_visitors_to_sign_in(client, client_record) -> None:
    response = client.get(url(client_record))
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def _weekly_sessions(alice, episode, n: int) -> list:
    return [
        clinical.session_create(actor=alice, episode=episode, starts_at=SEPT_15 + dt.timedelta(weeks=w))
        for w in range(n)
    ]


def test_a_long_course_shows_its_latest_sessions_and_the_episode_page_all(
    as_user, alice, client_record, episode
) -> None:
    from spacebetween.web.views import RECENT_ROWS

    sessions = _weekly_sessions(alice, episode, RECENT_ROWS + 3)
    http = as_user(alice)
    body = http.get(url(client_record)).content.decode()
    assert "Carol Jones" in body  # the client page
    assert f"The latest {RECENT_ROWS} of the {RECENT_ROWS + 3} sessions in this episode" in body
    shown = [s for s in sessions if f"/sessions/{s.pk}/edit/" in body]
    assert shown == sessions[-RECENT_ROWS:]  # the newest ones, the three oldest not
    assert f'href="/episodes/{episode.pk}/"' in body

    history = http.get(f"/episodes/{episode.pk}/")
    assert history.status_code == 200
    page = history.content.decode()
    assert "All sessions" in page and "Carol Jones" in page
    assert all(f"/sessions/{s.pk}/edit/" in page for s in sessions)
    assert "The latest" not in page


def test_a_short_course_shows_every_session(as_user, alice, client_record, episode) -> None:
    sessions = _weekly_sessions(alice, episode, 3)
    body = as_user(alice).get(url(client_record)).content.decode()
    assert "Sessions in this episode;" in body
    assert all(f"/sessions/{s.pk}/edit/" in body for s in sessions)


def test_the_page_reads_the_same_number_of_rows_whatever_the_course_length(
    as_user, alice, client_record, episode
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    http = as_user(alice)
    counts = []
    for n in (2, 12):
        _weekly_sessions(alice, episode, n)
        with CaptureQueriesContext(connection) as captured:
            assert http.get(url(client_record)).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_the_episode_page_is_audited_and_hidden_from_a_colleague(as_user, alice, bob, episode) -> None:
    assert as_user(bob).get(f"/episodes/{episode.pk}/").status_code == 404
    as_user(alice).get(f"/episodes/{episode.pk}/")
    reads = AuditEvent.objects.filter(action="R", actor_id=alice.pk, entity_type="Episode")
    assert [e.entity_id for e in reads] == [str(episode.pk)]


def test_the_latest_questionnaires_on_the_client_page_all_on_the_episode_page(
    as_user, alice, client_record, episode
) -> None:
    from spacebetween.answering.services import assignment_create
    from spacebetween.web.views import RECENT_ROWS

    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    due = [soon + dt.timedelta(weeks=w) for w in range(RECENT_ROWS + 2)]
    made = [assignment_create(actor=alice, episode=episode, instrument_id="phq9", due_at=d) for d in due]
    http = as_user(alice)
    body = http.get(url(client_record)).content.decode()
    assert f"Questionnaires in this episode ({RECENT_ROWS + 2})" in body
    assert f"The latest {RECENT_ROWS} of the {RECENT_ROWS + 2} questionnaires" in body
    shown = [a for a in made if f"/assignments/{a.pk}/withdraw/" in body]
    assert shown == made[-RECENT_ROWS:]
    page = http.get(f"/episodes/{episode.pk}/").content.decode()
    assert "All sessions" in page
    assert all(f"/assignments/{a.pk}/withdraw/" in page for a in made)
