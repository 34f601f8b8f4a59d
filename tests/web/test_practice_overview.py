from __future__ import annotations

import datetime as dt

import pytest

from spacebetween.accounts.models import Role
from spacebetween.accounts.services import user_create
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.selectors import practice_overview

pytestmark = pytest.mark.django_db

URL = "/practice/"


@pytest.fixture
def busy_month(alice, bob, episode, dan):
    """Alice: Carol and Dan in open episodes, two sessions this month and one cancelled.
    Bob: one ended episode."""
    now = dt.datetime.now(dt.UTC)
    clinical.session_create(actor=alice, episode=episode, starts_at=now)
    clinical.session_create(actor=alice, episode=dan.episodes.get(), starts_at=now)
    cancelled = clinical.session_create(actor=alice, episode=episode, starts_at=now)
    clinical.session_update(
        actor=alice,
        session=cancelled,
        starts_at=now,
        duration_minutes=50,
        format="individual",
        attendance="cancelled",
        participants=[episode.client],
    )
    erin = clinical.client_create(actor=bob, given_name="Erin", family_name="Walsh")
    ended = clinical.episode_open(
        actor=bob, client=erin, referral_reason="Insomnia", started_on=dt.date(2026, 1, 5)
    )
    clinical.episode_close(actor=bob, episode=ended, ended_on=dt.date(2026, 3, 1), end_reason="completed")


def test_it_counts_active_clients_episodes_and_sessions_per_clinician(as_user, admin, busy_month) -> None:
    overview = as_user(admin).get(URL).context["overview"]
    rows = {
        r.therapist_name: (r.active_clients, r.active_episodes, r.sessions_this_month)
        for r in overview.therapists
    }
    assert rows == {"Alice": (2, 2, 2), "Bob": (0, 0, 0), "Sam": (0, 0, 0)}
    assert (overview.active_clients, overview.active_episodes, overview.sessions_this_month) == (2, 2, 2)


def test_it_shows_no_client_names_or_clinical_content(as_user, admin, busy_month) -> None:
    body = as_user(admin).get(URL).content.decode()
    for secret in ("Carol", "Dan", "Erin", "Jones", "Walsh", "bereavement", "Conflict", "Insomnia"):
        assert secret not in body


def test_it_counts_only_its_own_practice(as_user, other_practice, busy_month, oscar) -> None:
    other_admin = user_create(
        practice=other_practice, email="hq@example.org", full_name="Hq", role=Role.ADMIN, password=None
    )
    overview = as_user(other_admin).get(URL).context["overview"]
    assert [r.therapist_name for r in overview.therapists] == ["Oscar"]
    assert (overview.active_clients, overview.active_episodes, overview.sessions_this_month) == (0, 0, 0)


def test_the_month_follows_the_practice_time_zone(admin, alice, episode) -> None:
    # 23:30 UTC on 31 Aug is already 1 Sep in London: it belongs to September there.
    clinical.session_create(
        actor=alice, episode=episode, starts_at=dt.datetime(2026, 8, 31, 23, 30, tzinfo=dt.UTC)
    )
    september = practice_overview(admin, now=dt.datetime(2026, 9, 15, tzinfo=dt.UTC))
    august = practice_overview(admin, now=dt.datetime(2026, 8, 15, tzinfo=dt.UTC))
    assert (september.sessions_this_month, august.sessions_this_month) == (1, 0)


def test_it_audits_the_read_for_operations(as_user, admin, practice) -> None:
    as_user(admin).get(URL)
    event = AuditEvent.objects.get(action="R", entity_type="PracticeOverview")
    assert (event.actor_id, event.purpose) == (admin.pk, "HOPERAT")


def test_it_forbids_therapists(as_user, alice) -> None:
    assert as_user(alice).get(URL).status_code == 403


def test_it_forbids_supervisors(as_user, sam) -> None:
    assert as_user(sam).get(URL).status_code == 403


def test_it_forbids_clients(as_user, carol_user) -> None:
    assert as_user(carol_user).get(URL).status_code == 403


def test_it_sends_anonymous_visitors_to_sign_in(client, practice) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith("/login/")
