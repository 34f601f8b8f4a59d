from __future__ import annotations

import pytest

from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Client

pytestmark = pytest.mark.django_db

CHANGED = {
    "given_name": "Caroline",
    "family_name": "Jones",
    "preferred_name": "Carol",
    "date_of_birth": "",
    "email": "caroline@example.org",
    "phone": "",
}


def url(client_record) -> str:
    return f"/clients/{client_record.pk}/edit/"


def test_it_shows_the_current_details(as_user, alice, client_record) -> None:
    response = as_user(alice).get(url(client_record))
    assert response.status_code == 200
    assert 'value="carol@example.org"' in response.content.decode()


def test_showing_the_form_audits_a_read(as_user, alice, client_record) -> None:
    as_user(alice).get(url(client_record))
    assert (
        AuditEvent.objects.filter(action="R", entity_type="Client", entity_id=str(client_record.pk)).count()
        == 1
    )


def test_it_saves_the_changes(as_user, alice, client_record) -> None:
    response = as_user(alice).post(url(client_record), CHANGED)
    assert response.status_code == 302
    assert response.url == f"/clients/{client_record.pk}/"
    client_record.refresh_from_db()
    assert (client_record.given_name, client_record.preferred_name) == ("Caroline", "Carol")
    assert client_record.email == "caroline@example.org"
    assert AuditEvent.objects.filter(
        action="U", entity_type="Client", entity_id=str(client_record.pk)
    ).exists()


@pytest.mark.parametrize(
    ("field", "value"), [("family_name", ""), ("email", "caroline@"), ("date_of_birth", "soon")]
)
def test_wrong_input_gets_a_field_error_and_changes_nothing(
    as_user, alice, client_record, record_counts, field, value
) -> None:
    http = as_user(alice)
    before = record_counts()
    response = http.post(url(client_record), {**CHANGED, field: value})
    assert field in response.context["form"].errors
    assert record_counts() == before
    assert Client.objects.get(pk=client_record.pk).given_name == "Carol"


def test_it_hides_a_colleagues_client(as_user, bob, client_record) -> None:
    assert as_user(bob).post(url(client_record), CHANGED).status_code == 404
    assert Client.objects.get(pk=client_record.pk).given_name == "Carol"


def test_supervisor_of_a_shared_episode_may_read_but_not_change(
    as_user, sam, client_record, shared_episode
) -> None:
    assert as_user(sam).post(url(client_record), CHANGED).status_code == 403
    assert Client.objects.get(pk=client_record.pk).given_name == "Carol"


def test_supervisor_gets_404_without_a_shared_episode(as_user, sam, client_record, episode) -> None:
    assert as_user(sam).get(url(client_record)).status_code == 404


def test_it_forbids_admins(as_user, admin, client_record) -> None:
    assert as_user(admin).post(url(client_record), CHANGED).status_code == 403


def test_it_forbids_clients(as_user, carol_user, client_record) -> None:
    assert as_user(carol_user).post(url(client_record), CHANGED).status_code == 403
    assert Client.objects.get(pk=client_record.pk).given_name == "Carol"


def test_another_practice_gets_404(as_user, oscar, client_record) -> None:
    assert as_user(oscar).post(url(client_record), CHANGED).status_code == 404


def test_it_sends_anonymous_visitors_to_sign_in(client, client_record) -> None:
    response = client.post(url(client_record), CHANGED)
    assert response.status_code == 302
    assert response.url.startswith("/login/")
