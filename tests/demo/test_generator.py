"""The synthetic demo practice and the bulk benchmark fixtures."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.password_validation import validate_password

from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import AuditEvent
from spacebetween.audit.selectors import verify_chain
from spacebetween.clients.access import clients_for, episodes_for
from spacebetween.clients.models import Attendance, Client, EndReason, Episode, Session, SessionFormat
from spacebetween.clients.selectors import caseload
from spacebetween.demo.generator import (
    DEMO_LOGINS,
    DEMO_PASSWORD,
    DEMO_TIME_ZONE,
    DemoPractice,
    generate_bulk,
    generate_demo_practice,
    plan_demo_cases,
)
from spacebetween.practice.models import Practice

TODAY = dt.date(2026, 11, 23)
LONDON = ZoneInfo(DEMO_TIME_ZONE)
NOW = dt.datetime.combine(TODAY, dt.time(0, 0), tzinfo=LONDON)


@pytest.fixture
def demo(db: None) -> DemoPractice:
    return generate_demo_practice(seed=7, today=TODAY)


def _snapshot(practice: Practice) -> str:
    """Everything the generator decided, by natural keys (no ids or creation times)."""
    users = User.objects.filter(practice=practice).select_related("supervisor").order_by("email")
    clients = Client.objects.filter(practice=practice).select_related("primary_therapist", "portal_user")

    def who(c: Client) -> str:
        return f"{c.given_name} {c.family_name} {c.date_of_birth}"

    episodes = Episode.objects.filter(client__practice=practice).select_related("client", "therapist")
    sessions = Session.objects.filter(episode__client__practice=practice).prefetch_related("participants")
    by_episode: dict[int, list[object]] = {}
    for s in sessions.order_by("starts_at", "id"):
        people = sorted(who(p) for p in s.participants.all())
        by_episode.setdefault(s.episode_id, []).append(
            [s.starts_at.isoformat(), s.duration_minutes, s.format, s.attendance, people]
        )
    emails = dict(User.objects.filter(practice=practice).values_list("pk", "email"))
    audit = AuditEvent.objects.filter(practice_id=practice.pk).order_by("seq")
    dump = {
        "practice": [practice.name, practice.time_zone, practice.country],
        "users": [
            [u.email, u.full_name, u.role, u.supervisor.email if u.supervisor else None, u.is_demo_account]
            for u in users
        ],
        "clients": sorted(
            [
                who(c),
                c.preferred_name,
                c.email,
                c.phone,
                c.primary_therapist.email,
                c.portal_user.email if c.portal_user else None,
            ]
            for c in clients
        ),  # fmt: skip
        "episodes": sorted(
            [
                who(e.client),
                e.therapist.email,
                e.referral_reason,
                str(e.started_on),
                str(e.ended_on),
                e.end_reason,
                e.shared_for_supervision,
                by_episode.get(e.pk, []),
            ]
            for e in episodes
        ),  # fmt: skip
        "audit": [[a.action, a.entity_type, emails.get(a.actor_id, a.actor_role), a.purpose] for a in audit],
    }
    return json.dumps(dump, sort_keys=True, default=str)


def _delete_practice_data() -> None:
    # The audit log is append-only and stays; everything the generator wrote through the services goes.
    Session.objects.all().delete()
    Episode.objects.all().delete()
    Client.objects.all().delete()
    User.objects.all().delete()
    Practice.objects.all().delete()


@pytest.mark.django_db
def test_the_same_seed_and_day_make_an_identical_practice() -> None:
    first = _snapshot(generate_demo_practice(seed=7, today=TODAY).practice)
    _delete_practice_data()
    second = _snapshot(generate_demo_practice(seed=7, today=TODAY).practice)
    assert first == second
    assert len(first) > 50_000  # the dump really holds the sessions


def test_another_seed_plans_another_practice() -> None:
    def plan(seed: int) -> list[object]:
        return [
            (c.people[0].given_name, c.started_on, c.end_reason, len(c.sessions))
            for c in plan_demo_cases(seed, TODAY)
        ]

    assert plan(7) == plan(7)
    assert plan(8) != plan(7)


def test_it_makes_the_cast_and_about_forty_clients(demo: DemoPractice) -> None:
    assert demo.practice.time_zone == "Europe/London"
    roles = Counter(User.objects.filter(practice=demo.practice).values_list("role", flat=True))
    assert roles == {Role.ADMIN: 1, Role.SUPERVISOR: 1, Role.THERAPIST: 3, Role.CLIENT: 1}
    assert demo.demo_therapist.supervisor_id == demo.supervisor.pk
    assert 35 <= Client.objects.filter(practice=demo.practice).count() == demo.clients <= 45
    assert Episode.objects.count() == demo.episodes
    assert Session.objects.count() == demo.sessions > 10 * demo.episodes


def test_every_demo_account_signs_in_with_the_demo_password(demo: DemoPractice) -> None:
    users = User.objects.filter(practice=demo.practice)
    assert {u.email for u in users} == {login.email for login in DEMO_LOGINS}
    assert all(u.is_demo_account and u.check_password(DEMO_PASSWORD) for u in users)
    assert all(u.email.endswith(".test") for u in users)
    validate_password(DEMO_PASSWORD, users.get(role=Role.THERAPIST, supervisor__isnull=False))


def test_only_the_designated_demo_client_has_a_portal_login(demo: DemoPractice) -> None:
    with_login = Client.objects.filter(portal_user__isnull=False)
    assert list(with_login) == [demo.demo_client]
    assert demo.demo_client.portal_user == demo.demo_client_user
    assert demo.demo_client_user.role == Role.CLIENT


def test_the_demo_client_is_in_the_demo_therapists_caseload(demo: DemoPractice) -> None:
    active = caseload(demo.demo_therapist, now=NOW)
    assert demo.demo_client.pk in {e.client_id for e in active}
    assert clients_for(demo.demo_client_user).get() == demo.demo_client
    mine = next(e for e in active if e.client_id == demo.demo_client.pk)
    assert mine.next_session_at is not None and mine.next_session_at >= NOW


def test_every_session_falls_within_its_episode(demo: DemoPractice) -> None:
    for episode in Episode.objects.prefetch_related("sessions"):
        assert episode.sessions.all(), episode
        for session in episode.sessions.all():
            day = session.starts_at.astimezone(LONDON).date()
            assert day >= episode.started_on
            assert episode.ended_on is None or day <= episode.ended_on
            assert (session.attendance == Attendance.SCHEDULED) == (day >= TODAY)


def test_episodes_start_within_nine_months_and_ended_ones_have_reasons(demo: DemoPractice) -> None:
    episodes = list(Episode.objects.all())
    assert min(e.started_on for e in episodes) >= TODAY - dt.timedelta(days=275)
    ended = [e for e in episodes if e.ended_on is not None]
    assert all(e.end_reason and e.ended_on < TODAY for e in ended)
    assert {e.end_reason for e in ended} == {
        EndReason.COMPLETED,
        EndReason.DROPPED_OUT,
        EndReason.REFERRED_ON,
    }
    assert all(not e.end_reason for e in episodes if e.ended_on is None)


def test_attendance_is_mostly_attended_with_some_cancelled_and_missed(demo: DemoPractice) -> None:
    past = Counter(
        Session.objects.exclude(attendance=Attendance.SCHEDULED).values_list("attendance", flat=True)
    )
    total = sum(past.values())
    assert past[Attendance.ATTENDED] / total > 0.75
    assert past[Attendance.CANCELLED] > 0 and past[Attendance.DID_NOT_ATTEND] > 0


def test_every_open_episode_has_its_next_session_booked_within_three_weeks(demo: DemoPractice) -> None:
    soon = NOW + dt.timedelta(weeks=3)
    for episode in Episode.objects.filter(ended_on__isnull=True):
        upcoming = episode.sessions.filter(starts_at__gte=NOW, attendance=Attendance.SCHEDULED)
        assert upcoming.exists() and upcoming.first().starts_at < soon, episode  # type: ignore[union-attr]
    assert not Session.objects.filter(
        episode__ended_on__isnull=False, attendance=Attendance.SCHEDULED
    ).exists()


def test_couple_and_family_sessions_have_several_participants(demo: DemoPractice) -> None:
    joint = Session.objects.filter(format__in=[SessionFormat.COUPLE, SessionFormat.FAMILY])
    assert {s.format for s in joint} == {SessionFormat.COUPLE, SessionFormat.FAMILY}
    assert all(s.participants.count() >= 2 for s in joint)
    assert any(s.participants.count() >= 3 for s in joint.filter(format=SessionFormat.FAMILY))
    individual = Session.objects.filter(format=SessionFormat.INDIVIDUAL).prefetch_related("participants")
    assert all([p.pk for p in s.participants.all()] == [s.episode.client_id] for s in individual)


def test_the_supervisor_sees_only_the_episodes_shared_for_supervision(demo: DemoPractice) -> None:
    shared = set(Episode.objects.filter(shared_for_supervision=True).values_list("pk", flat=True))
    assert len(shared) >= 2
    assert set(Episode.objects.filter(pk__in=shared).values_list("therapist", flat=True)) == {
        demo.demo_therapist.pk
    }
    assert set(episodes_for(demo.supervisor).values_list("pk", flat=True)) == shared


def test_the_audit_chain_verifies_and_holds_every_write(demo: DemoPractice) -> None:
    report = verify_chain()
    assert report.intact, report.problems
    ended = Episode.objects.filter(ended_on__isnull=False).count()
    users = User.objects.count()
    # practice + accounts + clients + episodes + sessions + closings + the portal link
    expected = 1 + users + demo.clients + demo.episodes + demo.sessions + ended + 1
    assert AuditEvent.objects.filter(practice_id=demo.practice.pk).count() == report.events == expected


@pytest.mark.django_db
def test_bulk_makes_the_requested_counts() -> None:
    counts = generate_bulk(
        seed=1,
        practices=2,
        therapists_per_practice=3,
        clients_per_therapist=4,
        sessions_per_episode=5,
        batch_size=5,
    )
    assert (counts.practices, counts.therapists, counts.clients, counts.episodes) == (2, 6, 24, 24)
    assert counts.sessions == counts.participants == 120
    assert (Practice.objects.count(), User.objects.count(), Client.objects.count()) == (2, 6, 24)
    assert (Episode.objects.count(), Session.objects.count()) == (24, 120)
    assert Session.participants.through.objects.count() == 120


@pytest.mark.django_db
def test_bulk_sessions_fall_within_their_episodes_and_ended_ones_have_reasons() -> None:
    generate_bulk(
        seed=2,
        practices=1,
        therapists_per_practice=2,
        clients_per_therapist=25,
        sessions_per_episode=6,
        today=TODAY,
    )
    for episode in Episode.objects.prefetch_related("sessions"):
        days = [s.starts_at.date() for s in episode.sessions.all()]
        assert len(days) == 6 and min(days) == episode.started_on and max(days) < TODAY
        assert episode.ended_on is None or (episode.ended_on == max(days) and episode.end_reason)
    assert Episode.objects.filter(ended_on__isnull=False).exists()
    assert Episode.objects.filter(ended_on__isnull=True).exists()


@pytest.mark.django_db
def test_bulk_accounts_cannot_sign_in_and_write_no_audit_events() -> None:
    generate_bulk(
        seed=3, practices=1, therapists_per_practice=2, clients_per_therapist=2, sessions_per_episode=2
    )
    assert not any(u.has_usable_password() or u.is_demo_account for u in User.objects.all())
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_bulk_refuses_a_count_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        generate_bulk(
            seed=1, practices=1, therapists_per_practice=0, clients_per_therapist=1, sessions_per_episode=1
        )
