from __future__ import annotations

import datetime as dt

import pytest

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Attendance
from spacebetween.insights.services import refresh_stale
from spacebetween.web import views

pytestmark = pytest.mark.django_db

URL = "/caseload/"
# 09:00 UTC in July is 10:00 in Europe/London (BST), the practice's time zone.
NEXT_SESSION_UTC = dt.datetime(2030, 7, 1, 9, 0, tzinfo=dt.UTC)


def test_it_shows_the_active_episode_with_sessions_attended_and_next_session(as_user, alice, session) -> None:
    clinical.session_update(
        actor=alice,
        session=session,
        starts_at=session.starts_at,
        duration_minutes=50,
        format=session.format,
        attendance=Attendance.ATTENDED,
        participants=[session.episode.client],
    )
    clinical.session_create(actor=alice, episode=session.episode, starts_at=NEXT_SESSION_UTC)
    response = as_user(alice).get(URL)
    assert response.status_code == 200
    row = response.context["page"].own[0]
    assert row.client.display_name == "Carol Jones"
    assert row.sessions_attended == 1
    assert row.next_session_at == NEXT_SESSION_UTC
    body = response.content.decode()
    assert "Carol Jones" in body
    assert "1 Sep 2026" in body
    assert "Mon 1 Jul 2030, 10:00" in body  # in the practice's time zone, not UTC


def test_it_lists_clients_without_an_open_episode(as_user, alice, episode) -> None:
    clinical.client_create(actor=alice, given_name="Erin", family_name="Walsh")
    page = as_user(alice).get(URL).context["page"]
    assert [c.display_name for c in page.without_episode] == ["Erin Walsh"]
    assert [e.client.display_name for e in page.own] == ["Carol Jones"]


def test_it_leaves_out_ended_episodes(as_user, alice, episode) -> None:
    clinical.episode_close(
        actor=alice, episode=episode, ended_on=dt.date(2026, 10, 1), end_reason="completed"
    )
    page = as_user(alice).get(URL).context["page"]
    assert page.own == []
    assert [c.display_name for c in page.without_episode] == ["Carol Jones"]


def test_it_hides_a_colleagues_clients(as_user, bob, episode) -> None:
    response = as_user(bob).get(URL)
    assert response.status_code == 200
    assert "Carol" not in response.content.decode()


def test_supervisor_sees_shared_episodes_in_their_own_section(as_user, sam, shared_episode) -> None:
    response = as_user(sam).get(URL)
    page = response.context["page"]
    assert page.own == []
    assert [e.pk for e in page.supervised] == [shared_episode.pk]
    assert "Shared for supervision" in response.content.decode()


def test_supervisor_does_not_see_unshared_episodes(as_user, sam, episode) -> None:
    response = as_user(sam).get(URL)
    assert response.context["page"].supervised == []
    assert "Carol" not in response.content.decode()


def test_it_forbids_admins(as_user, admin, episode) -> None:
    assert as_user(admin).get(URL).status_code == 403


def test_it_forbids_clients(as_user, carol_user, episode) -> None:
    assert as_user(carol_user).get(URL).status_code == 403


def test_another_practice_sees_none_of_ours(as_user, oscar, episode) -> None:
    response = as_user(oscar).get(URL)
    assert response.status_code == 200
    assert "Carol" not in response.content.decode()


def test_it_sends_anonymous_visitors_to_sign_in(client, episode) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_it_audits_the_read_without_content(as_user, alice, episode) -> None:
    as_user(alice).get(URL)
    event = AuditEvent.objects.filter(action="R", entity_type="Caseload").get()
    assert (event.actor_id, event.purpose, event.detail) == (alice.pk, "TREAT", "")


def _caseload_of(alice, n: int) -> None:
    for i in range(n):
        client = clinical.client_create(actor=alice, given_name=f"Client{i}", family_name="Test")
        episode = clinical.episode_open(
            actor=alice, client=client, referral_reason="Anxiety", started_on=dt.date(2026, 9, 1)
        )
        clinical.session_create(
            actor=alice, episode=episode, starts_at=NEXT_SESSION_UTC + dt.timedelta(days=i)
        )
        clinical.client_create(actor=alice, given_name=f"Waiting{i}", family_name="Test")


# The view alone, without the middleware (whose session bookkeeping is not this page's business):
# the user's practice for the time zone (1), the caseload's episodes (1) and clients without an
# episode (1), the open risk flags shown first (1; tests/safety pins it for many flags), the order
# of need (6: unacknowledged risk answers, episodes with changes not yet taken in, stored signals,
# the practice's insight rules, latest answers and latest sessions; tests/insights pins it with 60
# clients, and with stale episodes, whose signals are computed in memory), and the audit row (5:
# the view's transaction, chain head, insert, head update, commit). Nothing stale here: the worker
# has refreshed the episodes the new sessions marked.
CASELOAD_QUERIES = 15


@pytest.mark.parametrize("n", [1, 20])
def test_the_number_of_queries_does_not_grow_with_the_caseload(
    rf, alice, django_assert_num_queries, n: int
) -> None:
    _caseload_of(alice, n)
    refresh_stale()  # the worker's job: the new sessions marked their episodes stale
    request = rf.get(URL)
    request.user = User.objects.get(pk=alice.pk)
    with django_assert_num_queries(CASELOAD_QUERIES):
        response = views.caseload(request)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('<th scope="row" data-label="Client">') == n
    assert body.count("Open an episode<span") == n


def test_a_refused_role_is_audited(as_user, admin) -> None:
    as_user(admin).get(URL)
    denied = AuditEvent.objects.get(event_type="access-denied", actor_id=admin.pk)
    assert (denied.entity_type, denied.entity_id, denied.detail) == ("Page", "caseload", "role")
