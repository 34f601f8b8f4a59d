from __future__ import annotations

import datetime as dt

import pytest

from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Episode

pytestmark = pytest.mark.django_db

GOOD = {"referral_reason": "Panic attacks at work", "started_on": "2026-10-05"}


def url(client_record) -> str:
    return f"/clients/{client_record.pk}/episodes/new/"


def test_it_shows_the_form(as_user, alice, client_record) -> None:
    response = as_user(alice).get(url(client_record))
    assert response.status_code == 200
    assert "Open an episode for Carol Jones" in response.content.decode()


def test_it_opens_an_episode_with_the_therapist(as_user, alice, client_record) -> None:
    response = as_user(alice).post(url(client_record), {**GOOD, "shared_for_supervision": "on"})
    assert response.status_code == 302
    assert response.url == f"/clients/{client_record.pk}/"
    episode = Episode.objects.get(client=client_record)
    assert (episode.therapist_id, episode.started_on, episode.ended_on) == (
        alice.pk,
        dt.date(2026, 10, 5),
        None,
    )
    assert episode.shared_for_supervision
    assert AuditEvent.objects.filter(action="C", entity_type="Episode", entity_id=str(episode.pk)).exists()


@pytest.mark.parametrize(
    ("field", "value"), [("referral_reason", ""), ("started_on", ""), ("started_on", "2026-13-01")]
)
def test_wrong_input_gets_a_field_error_and_writes_nothing(
    as_user, alice, client_record, record_counts, field, value
) -> None:
    http = as_user(alice)
    before = record_counts()
    response = http.post(url(client_record), {**GOOD, field: value})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert record_counts() == before


def test_it_hides_a_colleagues_client(as_user, bob, client_record) -> None:
    assert as_user(bob).post(url(client_record), GOOD).status_code == 404
    assert not Episode.objects.exists()


def test_supervisor_of_a_shared_episode_cannot_open_another(
    as_user, sam, client_record, shared_episode
) -> None:
    assert as_user(sam).post(url(client_record), GOOD).status_code == 403
    assert Episode.objects.count() == 1


def test_supervisor_gets_404_without_a_shared_episode(as_user, sam, client_record, episode) -> None:
    assert as_user(sam).post(url(client_record), GOOD).status_code == 404
    assert Episode.objects.count() == 1


def test_it_forbids_admins(as_user, admin, client_record) -> None:
    assert as_user(admin).post(url(client_record), GOOD).status_code == 403
    assert not Episode.objects.exists()


def test_it_forbids_clients(as_user, carol_user, client_record) -> None:
    assert as_user(carol_user).post(url(client_record), GOOD).status_code == 403
    assert not Episode.objects.exists()


def test_another_practice_gets_404(as_user, oscar, client_record) -> None:
    assert as_user(oscar).post(url(client_record), GOOD).status_code == 404
    assert not Episode.objects.exists()


def test_it_sends_anonymous_visitors_to_sign_in(client, client_record) -> None:
    response = client.post(url(client_record), GOOD)
    assert response.status_code == 302
    assert response.url.startswith("/login/")
