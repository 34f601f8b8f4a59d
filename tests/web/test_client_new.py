from __future__ import annotations

import re

import pytest

from spacebetween.audit.models import AuditEvent
from spacebetween.clients.forms import DATE_OF_BIRTH_IN_FUTURE
from spacebetween.clients.models import Client

pytestmark = pytest.mark.django_db

URL = "/clients/new/"
GOOD = {
    "given_name": "Erin",
    "family_name": "Walsh",
    "preferred_name": "",
    "date_of_birth": "1990-04-02",
    "email": "erin@example.org",
    "phone": "+44 20 7946 0000",
}


def test_it_shows_the_form_with_labels(as_user, alice) -> None:
    response = as_user(alice).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert '<label for="id_given_name">Given name</label>' in body
    assert 'aria-describedby="id_email_helptext"' in body


def test_it_adds_a_client_with_the_therapist_as_primary(as_user, alice) -> None:
    response = as_user(alice).post(URL, GOOD)
    client = Client.objects.get(given_name="Erin")
    assert response.status_code == 302
    assert response.url == f"/clients/{client.pk}/"
    assert (client.family_name, client.primary_therapist_id, client.practice_id) == (
        "Walsh",
        alice.pk,
        alice.practice_id,
    )
    assert str(client.date_of_birth) == "1990-04-02"
    assert AuditEvent.objects.filter(action="C", entity_type="Client", entity_id=str(client.pk)).exists()


def test_a_supervisor_can_add_their_own_client(as_user, sam) -> None:
    as_user(sam).post(URL, GOOD)
    assert Client.objects.get(given_name="Erin").primary_therapist_id == sam.pk


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("given_name", ""),
        ("family_name", ""),
        ("email", "not-an-email"),
        ("date_of_birth", "02/31/1990"),
        ("given_name", "x" * 101),
    ],
)
def test_wrong_input_gets_a_field_error_and_writes_nothing(
    as_user, alice, record_counts, field, value
) -> None:
    http = as_user(alice)
    before = record_counts()
    response = http.post(URL, {**GOOD, field: value})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    body = response.content.decode()
    described_by = re.search(rf'<input [^>]*aria-describedby="([^"]*)"[^>]*id="id_{field}"', body)
    assert described_by is not None and f"id_{field}_error" in described_by.group(1).split()
    assert f'id="id_{field}_error"' in body
    assert f'<a href="#id_{field}">' in body  # the summary at the top links to the field
    assert record_counts() == before


def test_a_date_of_birth_in_the_future_is_refused(as_user, alice, record_counts) -> None:
    http = as_user(alice)
    before = record_counts()
    response = http.post(URL, {**GOOD, "date_of_birth": "2999-01-01"})
    assert response.context["form"].errors["date_of_birth"] == [DATE_OF_BIRTH_IN_FUTURE]
    assert record_counts() == before


def test_an_empty_post_is_refused_field_by_field(as_user, alice, record_counts) -> None:
    http = as_user(alice)
    before = record_counts()
    errors = http.post(URL, {}).context["form"].errors
    assert set(errors) == {"given_name", "family_name"}
    assert record_counts() == before


def test_it_forbids_admins(as_user, admin) -> None:
    assert as_user(admin).post(URL, GOOD).status_code == 403
    assert not Client.objects.exists()


def test_it_forbids_clients(as_user, carol_user) -> None:
    assert as_user(carol_user).post(URL, GOOD).status_code == 403
    assert not Client.objects.exists()


def test_it_sends_anonymous_visitors_to_sign_in(client, practice) -> None:
    response = client.post(URL, GOOD)
    assert response.status_code == 302
    assert response.url.startswith("/login/")
    assert not Client.objects.exists()
