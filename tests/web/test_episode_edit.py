from __future__ import annotations

import datetime as dt

import pytest

from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Episode

pytestmark = pytest.mark.django_db

KEEP = {
    "referral_reason": "Low mood after bereavement",
    "started_on": "2026-09-01",
    "ended_on": "",
    "end_reason": "",
}


def url(episode) -> str:
    return f"/episodes/{episode.pk}/edit/"


def test_it_shows_the_current_episode(as_user, alice, episode) -> None:
    response = as_user(alice).get(url(episode))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Low mood after bereavement" in body
    assert 'value="2026-09-01"' in body


def test_showing_the_form_audits_a_read(as_user, alice, episode) -> None:
    as_user(alice).get(url(episode))
    assert (
        AuditEvent.objects.filter(action="R", entity_type="Episode", entity_id=str(episode.pk)).count() == 1
    )


def test_it_ends_the_episode_with_a_date_and_reason(as_user, alice, episode) -> None:
    response = as_user(alice).post(
        url(episode), {**KEEP, "ended_on": "2026-12-01", "end_reason": "completed"}
    )
    assert response.status_code == 302
    assert response.url == f"/clients/{episode.client_id}/"
    episode.refresh_from_db()
    assert (episode.ended_on, episode.end_reason) == (dt.date(2026, 12, 1), "completed")
    assert AuditEvent.objects.filter(action="U", entity_type="Episode", entity_id=str(episode.pk)).exists()


def test_it_reopens_an_ended_episode_when_both_are_cleared(as_user, alice, episode) -> None:
    clinical.episode_close(
        actor=alice, episode=episode, ended_on=dt.date(2026, 12, 1), end_reason="completed"
    )
    as_user(alice).post(url(episode), KEEP)
    episode.refresh_from_db()
    assert (episode.ended_on, episode.end_reason) == (None, "")


def test_it_shares_the_episode_for_supervision(as_user, alice, episode) -> None:
    as_user(alice).post(url(episode), {**KEEP, "shared_for_supervision": "on"})
    episode.refresh_from_db()
    assert episode.shared_for_supervision


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ended_on": "2026-12-01"}, "end_reason"),  # an end date needs its reason
        ({"end_reason": "completed"}, "end_reason"),  # a reason needs its end date
        ({"ended_on": "2026-08-01", "end_reason": "completed"}, "ended_on"),  # before the start
        ({"end_reason": "vanished"}, "end_reason"),  # not a known reason
        ({"referral_reason": ""}, "referral_reason"),
        ({"started_on": "yesterday"}, "started_on"),
    ],
)
def test_wrong_input_gets_a_field_error_and_changes_nothing(
    as_user, alice, episode, record_counts, changes, field
) -> None:
    http = as_user(alice)
    before = record_counts()
    response = http.post(url(episode), {**KEEP, **changes})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert f'aria-describedby="id_{field}' in response.content.decode()
    assert record_counts() == before
    episode.refresh_from_db()
    assert (episode.ended_on, episode.end_reason, episode.started_on) == (None, "", dt.date(2026, 9, 1))


def test_it_hides_a_colleagues_episode(as_user, bob, episode) -> None:
    assert as_user(bob).get(url(episode)).status_code == 404


def test_supervisor_of_a_shared_episode_may_read_but_not_change(as_user, sam, shared_episode) -> None:
    ended = {**KEEP, "ended_on": "2026-12-01", "end_reason": "completed"}
    assert as_user(sam).post(url(shared_episode), ended).status_code == 403
    assert Episode.objects.get(pk=shared_episode.pk).ended_on is None


def test_supervisor_gets_404_for_an_unshared_episode(as_user, sam, episode) -> None:
    assert as_user(sam).get(url(episode)).status_code == 404


def test_it_forbids_admins(as_user, admin, episode) -> None:
    assert as_user(admin).get(url(episode)).status_code == 403


def test_it_forbids_clients(as_user, carol_user, episode) -> None:
    assert as_user(carol_user).get(url(episode)).status_code == 403


def test_another_practice_gets_404(as_user, oscar, episode) -> None:
    assert as_user(oscar).get(url(episode)).status_code == 404


def test_it_sends_anonymous_visitors_to_sign_in(client, episode) -> None:
    response = client.get(url(episode))
    assert response.status_code == 302
    assert response.url.startswith("/login/")
