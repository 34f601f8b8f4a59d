from __future__ import annotations

import datetime as dt

import pytest

from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.forms import (
    AMBIGUOUS_TIME,
    COUPLE_NEEDS_ONE,
    INDIVIDUAL_WITH_OTHERS,
    OTHERS_REQUIRED,
)
from spacebetween.clients.models import Session
from spacebetween.clients.services import EPISODE_ALREADY_ENDED, SESSION_BEFORE_EPISODE

pytestmark = pytest.mark.django_db

# Typed in the practice's time zone (Europe/London): summer time in October, one hour ahead of UTC.
GOOD = {
    "starts_at": "2026-10-06T14:30",
    "duration_minutes": "50",
    "format": "individual",
    "attendance": "scheduled",
}


def url(episode) -> str:
    return f"/episodes/{episode.pk}/sessions/new/"


def test_it_shows_the_form_with_a_datetime_local_input(as_user, alice, episode) -> None:
    response = as_user(alice).get(url(episode))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'type="datetime-local"' in body
    assert "Europe/London" in body


def test_it_stores_the_practice_local_time_in_utc(as_user, alice, episode) -> None:
    response = as_user(alice).post(url(episode), GOOD)
    assert response.status_code == 302
    session = Session.objects.get(episode=episode)
    assert session.starts_at == dt.datetime(2026, 10, 6, 13, 30, tzinfo=dt.UTC)
    assert [p.pk for p in session.participants.all()] == [episode.client_id]
    assert AuditEvent.objects.filter(action="C", entity_type="Session", entity_id=str(session.pk)).exists()


def test_in_winter_local_time_is_utc(as_user, alice, episode) -> None:
    as_user(alice).post(url(episode), {**GOOD, "starts_at": "2026-12-01T09:00"})
    assert Session.objects.get(episode=episode).starts_at == dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def test_it_stores_a_couple_session_with_both_partners(as_user, alice, episode, dan) -> None:
    as_user(alice).post(url(episode), {**GOOD, "format": "couple", "participants": [dan.pk]})
    session = Session.objects.get(episode=episode)
    assert session.format == "couple"
    assert {p.pk for p in session.participants.all()} == {episode.client_id, dan.pk}


def test_it_offers_only_the_therapists_own_clients_as_participants(as_user, alice, bob, episode, dan) -> None:
    bobs = clinical.client_create(actor=bob, given_name="Bea", family_name="Other")
    form = as_user(alice).get(url(episode)).context["form"]
    assert list(form.fields["participants"].queryset) == [dan]
    assert bobs not in form.fields["participants"].queryset


def _refused(http, episode, record_counts, data, field):
    before = record_counts()
    response = http.post(url(episode), data)
    assert response.status_code == 200
    assert record_counts() == before
    return response.context["form"].errors[field]


def test_a_colleagues_client_cannot_be_a_participant(as_user, alice, bob, episode, record_counts) -> None:
    bobs = clinical.client_create(actor=bob, given_name="Bea", family_name="Other")
    errors = _refused(
        as_user(alice),
        episode,
        record_counts,
        {**GOOD, "format": "couple", "participants": [bobs.pk]},
        "participants",
    )
    assert "not one of the available choices" in errors[0]


def test_an_individual_session_has_no_other_participants(as_user, alice, episode, dan, record_counts) -> None:
    data = {**GOOD, "participants": [dan.pk]}
    assert _refused(as_user(alice), episode, record_counts, data, "participants") == [INDIVIDUAL_WITH_OTHERS]


def test_a_group_session_needs_other_participants(as_user, alice, episode, record_counts) -> None:
    data = {**GOOD, "format": "group"}
    assert _refused(as_user(alice), episode, record_counts, data, "participants") == [OTHERS_REQUIRED]


def test_a_couple_session_has_exactly_one_other(as_user, alice, episode, dan, record_counts) -> None:
    third = clinical.client_create(actor=alice, given_name="Finn", family_name="Jones")
    data = {**GOOD, "format": "couple", "participants": [dan.pk, third.pk]}
    assert _refused(as_user(alice), episode, record_counts, data, "participants") == [COUPLE_NEEDS_ONE]


def test_a_session_before_the_episode_is_refused_on_its_field(as_user, alice, episode, record_counts) -> None:
    data = {**GOOD, "starts_at": "2026-08-01T10:00"}
    assert _refused(as_user(alice), episode, record_counts, data, "starts_at") == [SESSION_BEFORE_EPISODE]


def test_an_ended_episode_takes_no_new_sessions(as_user, alice, episode, record_counts) -> None:
    clinical.episode_close(
        actor=alice, episode=episode, ended_on=dt.date(2026, 11, 1), end_reason="completed"
    )
    http = as_user(alice)
    assert "This episode has ended" in http.get(url(episode)).content.decode()
    assert _refused(http, episode, record_counts, GOOD, "starts_at") == [EPISODE_ALREADY_ENDED]


@pytest.mark.parametrize(
    "local_time",
    [
        "2030-03-31T01:30",  # clocks go forward at 01:00: this time never happens in London
        "2030-10-27T01:30",  # clocks go back at 02:00: this time happens twice
    ],
)
def test_a_time_that_the_clock_change_makes_ambiguous_is_refused(
    as_user, alice, episode, record_counts, local_time
) -> None:
    data = {**GOOD, "starts_at": local_time}
    expected = AMBIGUOUS_TIME.format(time_zone="Europe/London")
    assert _refused(as_user(alice), episode, record_counts, data, "starts_at") == [expected]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("starts_at", ""),
        ("starts_at", "next tuesday"),
        ("duration_minutes", "4"),
        ("duration_minutes", "481"),
        ("duration_minutes", "fifty"),
        ("format", "hypnosis"),
        ("attendance", "maybe"),
        ("participants", "999999"),
    ],
)
def test_wrong_input_gets_a_field_error_and_writes_nothing(
    as_user, alice, episode, record_counts, field, value
) -> None:
    _refused(as_user(alice), episode, record_counts, {**GOOD, field: value}, field)


def test_it_hides_a_colleagues_episode(as_user, bob, episode) -> None:
    assert as_user(bob).post(url(episode), GOOD).status_code == 404
    assert not Session.objects.exists()


def test_supervisor_of_a_shared_episode_cannot_add_sessions(as_user, sam, shared_episode) -> None:
    assert as_user(sam).post(url(shared_episode), GOOD).status_code == 403
    assert not Session.objects.exists()


def test_supervisor_gets_404_for_an_unshared_episode(as_user, sam, episode) -> None:
    assert as_user(sam).post(url(episode), GOOD).status_code == 404


def test_it_forbids_admins(as_user, admin, episode) -> None:
    assert as_user(admin).post(url(episode), GOOD).status_code == 403
    assert not Session.objects.exists()


def test_it_forbids_clients(as_user, carol_user, episode) -> None:
    assert as_user(carol_user).post(url(episode), GOOD).status_code == 403
    assert not Session.objects.exists()


def test_another_practice_gets_404(as_user, oscar, episode) -> None:
    assert as_user(oscar).post(url(episode), GOOD).status_code == 404


def test_it_sends_anonymous_visitors_to_sign_in(client, episode) -> None:
    response = client.post(url(episode), GOOD)
    assert response.status_code == 302
    assert response.url.startswith("/login/")
    assert not Session.objects.exists()
