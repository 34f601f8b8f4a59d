"""The practice admin's crisis resources (/practice/crisis-resources/): who may change them, what a
bad entry does (nothing), and that an added entry reaches the crisis page a client sees after a
risk answer, beside the built-in entries that cannot be removed."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client as HttpClient
from django.urls import reverse

from spacebetween.accounts.models import Role, User
from spacebetween.accounts.services import user_create
from spacebetween.audit.models import Action, AuditEvent
from spacebetween.measures.models import Assignment
from spacebetween.practice.models import Practice
from spacebetween.safety import crisis
from spacebetween.safety.models import CrisisResource
from tests.conftest import PASSWORD, signed_in
from tests.delivery.helpers import CALM, answer_all

PAGE = reverse("crisis_resources")
ITEM_9 = {**CALM, "phq9_9": 1}
DUTY_LINE = {
    "country": "GB",
    "name": "Riverside duty line",
    "phone": "020 7946 0000",
    "url": "https://riverside.example.org/urgent",
    "text": "Weekdays 9 to 5, a clinician calls you back the same day.",
}


def _delete_url(resource: CrisisResource) -> str:
    return reverse("crisis_resource_delete", kwargs={"resource_id": resource.pk})


@pytest.fixture
def duty_line(admin: User) -> CrisisResource:
    return crisis.crisis_resource_add(actor=admin, **DUTY_LINE)


@pytest.fixture
def other_admin(other_practice: Practice) -> User:
    return user_create(
        practice=other_practice,
        email="hilltop-admin@example.org",
        full_name="Hilltop Admin",
        role=Role.ADMIN,
        password=PASSWORD,
    )


# ------------------------------------------------------------------------------ the page


def test_the_admin_sees_own_entries_and_the_built_in_ones_marked_as_always_shown(
    admin: User, duty_line: CrisisResource
) -> None:
    response = signed_in(admin).get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Riverside duty line" in body and "020 7946 0000" in body
    assert "Samaritans" in body and "116 123" in body and "NHS 111, mental health option" in body
    assert "always shown" in body and "cannot be" in body and "switched off" in body
    assert _delete_url(duty_line) in body


def test_crisis_resources_are_in_the_admin_navigation(admin: User) -> None:
    body = signed_in(admin).get(reverse("practice_overview")).content.decode()
    assert f'href="{PAGE}"' in body and "Crisis resources" in body


def test_the_admin_adds_an_entry(admin: User) -> None:
    response = signed_in(admin).post(PAGE, {**DUTY_LINE, "country": "gb"})
    assert response.status_code == 302 and response["Location"] == PAGE
    resource = CrisisResource.objects.get(practice=admin.practice)
    assert (resource.country, resource.name, resource.phone) == ("GB", "Riverside duty line", "020 7946 0000")
    assert AuditEvent.objects.filter(
        action=Action.CREATE, entity_type="CrisisResource", entity_id=str(resource.pk), actor_id=admin.pk
    ).exists()


def test_the_admin_removes_an_entry(admin: User, duty_line: CrisisResource) -> None:
    response = signed_in(admin).post(_delete_url(duty_line))
    assert response.status_code == 302 and response["Location"] == PAGE
    assert not CrisisResource.objects.filter(pk=duty_line.pk).exists()
    assert AuditEvent.objects.filter(
        action=Action.DELETE, entity_type="CrisisResource", entity_id=str(duty_line.pk), actor_id=admin.pk
    ).exists()


# ------------------------------------------------------------------------------ who may


def test_a_therapist_gets_403_and_adds_nothing(alice: User) -> None:
    http = signed_in(alice)
    assert http.get(PAGE).status_code == 403
    assert http.post(PAGE, DUTY_LINE).status_code == 403
    assert not CrisisResource.objects.exists()


def test_a_therapist_cannot_remove_an_entry(alice: User, duty_line: CrisisResource) -> None:
    assert signed_in(alice).post(_delete_url(duty_line)).status_code == 403
    assert CrisisResource.objects.filter(pk=duty_line.pk).exists()


def test_a_client_gets_403_and_adds_nothing(carol_user: User) -> None:
    http = signed_in(carol_user)
    assert http.get(PAGE).status_code == 403
    assert http.post(PAGE, DUTY_LINE).status_code == 403
    assert not CrisisResource.objects.exists()


def test_a_client_cannot_remove_an_entry(carol_user: User, duty_line: CrisisResource) -> None:
    assert signed_in(carol_user).post(_delete_url(duty_line)).status_code == 403
    assert CrisisResource.objects.filter(pk=duty_line.pk).exists()


def test_another_practices_admin_cannot_delete_ours_404(other_admin: User, duty_line: CrisisResource) -> None:
    assert signed_in(other_admin).post(_delete_url(duty_line)).status_code == 404
    assert CrisisResource.objects.filter(pk=duty_line.pk).exists()


def test_another_practices_admin_does_not_see_ours(other_admin: User, duty_line: CrisisResource) -> None:
    body = signed_in(other_admin).get(PAGE).content.decode()
    assert "Riverside duty line" not in body


def test_an_anonymous_visitor_is_sent_to_sign_in(duty_line: CrisisResource) -> None:
    http = HttpClient()
    assert http.post(PAGE, DUTY_LINE).status_code == 302
    assert http.post(_delete_url(duty_line)).status_code == 302
    assert CrisisResource.objects.count() == 1


def test_the_services_refuse_anyone_but_an_admin_of_the_practice(
    alice: User, other_admin: User, duty_line: CrisisResource
) -> None:
    with pytest.raises(PermissionDenied):
        crisis.crisis_resource_add(actor=alice, **DUTY_LINE)
    with pytest.raises(PermissionDenied):
        crisis.crisis_resource_remove(actor=alice, resource=duty_line)
    with pytest.raises(PermissionDenied):
        crisis.crisis_resource_remove(actor=other_admin, resource=duty_line)
    assert list(CrisisResource.objects.all()) == [duty_line]


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"country": "G"}, "country"),
        ({"country": "GBR"}, "country"),
        ({"country": "G1"}, "country"),
        ({"country": ""}, "country"),
        ({"name": "   "}, "name"),
        ({"text": ""}, "text"),
        ({"phone": "0800 CALL NOW"}, "phone"),
        ({"phone": "999; drop"}, "phone"),
        ({"url": "http://riverside.example.org"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"phone": "", "url": ""}, "phone"),
    ],
)
def test_bad_input_writes_nothing_and_says_which_field(
    admin: User, change: dict[str, str], field: str
) -> None:
    response = signed_in(admin).post(PAGE, {**DUTY_LINE, **change})
    assert response.status_code == 400
    assert field in response.context["form"].errors, response.context["form"].errors
    assert not CrisisResource.objects.exists()
    assert AuditEvent.objects.filter(entity_type="CrisisResource").count() == 0


def test_the_service_reports_every_bad_field_at_once(admin: User) -> None:
    with pytest.raises(ValidationError) as caught:
        crisis.crisis_resource_add(
            actor=admin, country="GBR", name="", phone="call me", url="http://x.example", text=""
        )
    assert set(caught.value.error_dict) == {"country", "name", "phone", "url", "text"}
    assert not CrisisResource.objects.exists()


def test_a_url_alone_is_enough(admin: User) -> None:
    resource = crisis.crisis_resource_add(
        actor=admin, country="GB", name="Web chat", url="https://chat.example.org", text="Any time."
    )
    assert resource.phone == "" and resource.url == "https://chat.example.org"


# ------------------------------------------------------------------------------ the crisis page


def _crisis_page_body(carol_user: User, assignment: Assignment) -> str:
    kw = {"assignment_id": assignment.pk}
    http = signed_in(carol_user)
    answer_all(http, reverse("portal_answer", kwargs=kw), ITEM_9)
    done = reverse("portal_done", kwargs=kw)
    assert http.post(reverse("portal_review", kwargs=kw))["Location"] == done
    body = http.get(done).content.decode()
    assert "If you need help now" in body
    return body


def test_an_added_entry_appears_on_the_clients_crisis_page(
    admin: User, carol_user: User, assignment: Assignment
) -> None:
    assert signed_in(admin).post(PAGE, DUTY_LINE).status_code == 302
    body = _crisis_page_body(carol_user, assignment)
    assert "Riverside duty line" in body and 'href="tel:02079460000"' in body
    assert "https://riverside.example.org/urgent" in body
    assert body.index("Riverside duty line") < body.index("Samaritans")


def test_the_built_in_gb_entries_are_still_shown_after_the_practice_adds_its_own(
    admin: User, carol_user: User, assignment: Assignment, duty_line: CrisisResource
) -> None:
    crisis.crisis_resource_add(
        actor=admin, country="GB", name="Riverside evening line", phone="020 7946 0001", text="Evenings."
    )
    body = _crisis_page_body(carol_user, assignment)
    for built_in in ("Emergency services", "999", "Samaritans", "116 123", "NHS 111, mental health option"):
        assert built_in in body
    assert body.index("Riverside duty line") < body.index("Riverside evening line") < body.index("Samaritans")


def test_an_entry_for_another_country_is_not_shown_to_a_gb_practices_client(
    admin: User, carol_user: User, assignment: Assignment
) -> None:
    crisis.crisis_resource_add(actor=admin, **{**DUTY_LINE, "country": "IE", "name": "Dublin line"})
    assert "Dublin line" not in _crisis_page_body(carol_user, assignment)
    assert "not shown" in signed_in(admin).get(PAGE).content.decode()


def test_a_removed_entry_leaves_the_client_page(
    admin: User, carol_user: User, assignment: Assignment, duty_line: CrisisResource
) -> None:
    crisis.crisis_resource_remove(actor=admin, resource=duty_line)
    body = _crisis_page_body(carol_user, assignment)
    assert "Riverside duty line" not in body and "Samaritans" in body
