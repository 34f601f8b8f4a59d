"""The instruments page: the licensed pack is off until the admin accepts its terms, and a
practice's own definition file is checked exactly like the shipped ones."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.core import instruments as catalogue
from spacebetween.measures import services
from spacebetween.measures.models import ImportedInstrument, PackAcceptance
from spacebetween.measures.selectors import instruments_for, licensed_pack, pack_terms_digest
from tests.conftest import signed_in

PAGE = "instrument_settings"


@pytest.fixture
def as_admin(admin: User) -> HttpClient:
    return signed_in(admin)


def _own_definition(instrument_id: str = "practice-mood", version: str = "1.0.0") -> dict[str, object]:
    """A practice's own instrument: the PHQ-9 file re-labelled, standing in for a licensed text."""
    doc = json.loads(catalogue.get("phq9").path.read_text(encoding="utf-8"))  # type: ignore[union-attr]
    doc["id"], doc["version"], doc["title"] = instrument_id, version, "Our practice mood check"
    return doc


def _upload(doc: object, name: str = "mine.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, json.dumps(doc).encode(), content_type="application/json")


def test_the_licensed_pack_ships_only_class_c_instruments() -> None:
    pack = licensed_pack()
    assert pack, "the licensed pack should not be empty"
    assert {i.licence.licence_class for i in pack} == {"C"}
    assert all(i.licence.terms for i in pack), "every licensed instrument shows terms to accept"


@pytest.mark.django_db
def test_licensed_instruments_are_off_until_the_terms_are_accepted(admin: User) -> None:
    pack_ids = {i.id for i in licensed_pack()}
    assert not pack_ids & set(instruments_for(admin.practice))
    services.licensed_pack_accept(actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True)
    assert pack_ids <= set(instruments_for(admin.practice))


@pytest.mark.django_db
def test_the_page_shows_every_licensed_instruments_terms(as_admin: HttpClient) -> None:
    response = as_admin.get(reverse(PAGE))
    assert response.status_code == 200
    body = response.content.decode()
    for inst in licensed_pack():
        assert inst.title in body
    assert "Not enabled" in body


@pytest.mark.django_db
def test_accepting_enables_the_pack_and_is_audited(as_admin: HttpClient, admin: User) -> None:
    digest = pack_terms_digest(licensed_pack())
    response = as_admin.post(reverse("licensed_pack_accept"), {"terms_digest": digest, "accept": "on"})
    assert response.status_code == 302
    acceptance = PackAcceptance.objects.get()
    assert acceptance.accepted_by_id == admin.pk and acceptance.terms_digest == digest
    assert AuditEvent.objects.filter(entity_type="PackAcceptance", action="C", actor_id=admin.pk).count() == 1


@pytest.mark.django_db
def test_it_refuses_without_the_box_ticked(as_admin: HttpClient) -> None:
    digest = pack_terms_digest(licensed_pack())
    response = as_admin.post(reverse("licensed_pack_accept"), {"terms_digest": digest})
    assert response.status_code == 400
    assert services.NOT_ACCEPTED in response.content.decode()
    assert not PackAcceptance.objects.exists()


@pytest.mark.django_db
def test_it_refuses_terms_that_changed_since_they_were_shown(as_admin: HttpClient) -> None:
    response = as_admin.post(reverse("licensed_pack_accept"), {"terms_digest": "0" * 64, "accept": "on"})
    assert response.status_code == 400
    assert "terms changed" in response.content.decode()
    assert not PackAcceptance.objects.exists()


@pytest.mark.django_db
def test_withdrawing_switches_the_pack_off(as_admin: HttpClient, admin: User) -> None:
    services.licensed_pack_accept(actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True)
    assert as_admin.post(reverse("licensed_pack_withdraw")).status_code == 302
    assert not {i.id for i in licensed_pack()} & set(instruments_for(admin.practice))


@pytest.mark.django_db
def test_it_imports_a_valid_definition(as_admin: HttpClient, admin: User) -> None:
    response = as_admin.post(reverse("instrument_import"), {"definition": _upload(_own_definition())})
    assert response.status_code == 302
    imported = ImportedInstrument.objects.get()
    assert (imported.instrument_id, imported.version, imported.imported_by_id) == (
        "practice-mood",
        "1.0.0",
        admin.pk,
    )
    assert instruments_for(admin.practice)["practice-mood"].title == "Our practice mood check"


@pytest.mark.django_db
def test_it_refuses_a_broken_definition_naming_file_field_and_problem(as_admin: HttpClient) -> None:
    doc = _own_definition()
    doc["scoring"]["scales"][0]["items"].append("no_such_item")  # type: ignore[index]
    response = as_admin.post(reverse("instrument_import"), {"definition": _upload(doc, "broken.json")})
    assert response.status_code == 400
    body = response.content.decode()
    assert "broken.json" in body and "/scoring/scales/0/items" in body and "no_such_item" in body
    assert not ImportedInstrument.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_file_that_is_not_json(as_admin: HttpClient) -> None:
    upload = SimpleUploadedFile("notes.json", b"PHQ-9, but in prose", content_type="application/json")
    response = as_admin.post(reverse("instrument_import"), {"definition": upload})
    assert response.status_code == 400
    assert "not a JSON instrument definition" in response.content.decode()
    assert not ImportedInstrument.objects.exists()


@pytest.mark.django_db
def test_it_refuses_the_id_of_a_shipped_instrument(as_admin: HttpClient) -> None:
    response = as_admin.post(reverse("instrument_import"), {"definition": _upload(_own_definition("phq9"))})
    assert response.status_code == 400
    assert "ships with Space Between" in response.content.decode()
    assert not ImportedInstrument.objects.exists()


@pytest.mark.django_db
def test_it_refuses_the_same_version_twice(admin: User) -> None:
    services.instrument_import(actor=admin, filename="a.json", content=json.dumps(_own_definition()).encode())
    with pytest.raises(Exception, match="already been imported"):
        services.instrument_import(
            actor=admin, filename="a.json", content=json.dumps(_own_definition()).encode()
        )
    assert ImportedInstrument.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["alice", "sam", "carol_user", "oscar"])
def test_only_the_practice_admin_may_see_it(who: str, request: pytest.FixtureRequest) -> None:
    http = signed_in(request.getfixturevalue(who))
    assert http.get(reverse(PAGE)).status_code == 403


@pytest.mark.django_db
def test_a_therapist_cannot_enable_the_pack(alice: User) -> None:
    http = signed_in(alice)
    digest = pack_terms_digest(licensed_pack())
    assert (
        http.post(reverse("licensed_pack_accept"), {"terms_digest": digest, "accept": "on"}).status_code
        == 403
    )
    assert not PackAcceptance.objects.exists()


@pytest.mark.django_db
def test_another_practices_acceptance_does_not_count(admin: User, oscar: User) -> None:
    services.licensed_pack_accept(actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True)
    assert not {i.id for i in licensed_pack()} & set(instruments_for(oscar.practice))
