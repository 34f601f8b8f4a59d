"""The instruments page: each licensed instrument is off until the admin accepts its own terms
(and, where they ask for it, confirms the authors' permission), and a practice's own definition file
is checked exactly like the shipped ones."""

from __future__ import annotations

import importlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.core import instruments as catalogue
from spacebetween.measures import services
from spacebetween.measures.models import ImportedInstrument, InstrumentAcceptance, PackAcceptance
from spacebetween.measures.selectors import (
    instrument_terms_digest,
    instruments_for,
    licensed_pack,
    pack_terms_digest,
)
from tests.conftest import signed_in

PAGE = "instrument_settings"
ACCEPT = "instrument_terms_accept"


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


def _accept_data(instrument_id: str, **extra: str) -> dict[str, str]:
    [inst] = [i for i in licensed_pack() if i.id == instrument_id]
    data = {f"{instrument_id}-terms_digest": instrument_terms_digest(inst), f"{instrument_id}-accepted": "on"}
    data.update({f"{instrument_id}-{k}": v for k, v in extra.items()})
    return data


def _licensed_on(user: User) -> set[str]:
    return {i.id for i in licensed_pack()} & set(instruments_for(user.practice))


def test_the_wai_sr_alone_needs_no_separate_permission() -> None:
    # The terms as the definition files quote them: the WAI-SR is open access for clinical use (SPR);
    # the DERS-16 and FFMQ-15 terms ask for the authors' permission (docs/operations.md).
    needs = {i.id: i.licence.needs_permission for i in licensed_pack()}
    assert needs["wai-sr"] is False
    assert needs["ders16"] is True and needs["ffmq15"] is True


@pytest.mark.django_db
def test_accepting_the_wai_sr_switches_on_the_wai_sr_only(as_admin: HttpClient, admin: User) -> None:
    assert _licensed_on(admin) == set()
    response = as_admin.post(reverse(ACCEPT, args=["wai-sr"]), _accept_data("wai-sr"))
    assert response.status_code == 302
    assert _licensed_on(admin) == {"wai-sr"}
    acceptance = InstrumentAcceptance.objects.get()
    assert (acceptance.instrument_id, acceptance.accepted_by_id) == ("wai-sr", admin.pk)
    assert AuditEvent.objects.filter(
        entity_type="InstrumentAcceptance", action="C", actor_id=admin.pk, entity_id=str(acceptance.pk)
    ).exists()


@pytest.mark.django_db
def test_the_whole_pack_acceptance_never_switches_on_what_needs_permission(admin: User) -> None:
    services.licensed_pack_accept(actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True)
    assert _licensed_on(admin) == {"wai-sr"}
    assert "ders16" not in instruments_for(admin.practice) and "ffmq15" not in instruments_for(admin.practice)


@pytest.mark.django_db
def test_terms_asking_for_permission_need_it_confirmed(as_admin: HttpClient, admin: User) -> None:
    response = as_admin.post(reverse(ACCEPT, args=["ders16"]), _accept_data("ders16"))
    assert response.status_code == 400
    assert services.PERMISSION_NOT_CONFIRMED.replace("'", "&#x27;") in response.content.decode()
    assert not InstrumentAcceptance.objects.exists()
    response = as_admin.post(reverse(ACCEPT, args=["ders16"]), _accept_data("ders16", permission_held="on"))
    assert response.status_code == 302
    assert _licensed_on(admin) == {"ders16"}
    assert InstrumentAcceptance.objects.get().permission_held is True


@pytest.mark.django_db
def test_the_page_shows_every_licensed_instruments_terms(as_admin: HttpClient) -> None:
    response = as_admin.get(reverse(PAGE))
    assert response.status_code == 200
    body = response.content.decode()
    for inst in licensed_pack():
        assert inst.title in body and reverse(ACCEPT, args=[inst.id]) in body
    assert "Needed before use" in body and "Not needed for clinical use" in body


@pytest.mark.django_db
def test_it_refuses_without_the_box_ticked(as_admin: HttpClient) -> None:
    data = _accept_data("wai-sr")
    del data["wai-sr-accepted"]
    response = as_admin.post(reverse(ACCEPT, args=["wai-sr"]), data)
    assert response.status_code == 400
    assert services.NOT_ACCEPTED in response.content.decode()
    assert not InstrumentAcceptance.objects.exists()


@pytest.mark.django_db
def test_it_refuses_terms_that_changed_since_they_were_shown(as_admin: HttpClient) -> None:
    data = {**_accept_data("wai-sr"), "wai-sr-terms_digest": "0" * 64}
    response = as_admin.post(reverse(ACCEPT, args=["wai-sr"]), data)
    assert response.status_code == 400
    assert "terms changed" in response.content.decode()
    assert not InstrumentAcceptance.objects.exists()


@pytest.mark.django_db
def test_an_unknown_instrument_is_not_found(as_admin: HttpClient) -> None:
    assert as_admin.post(reverse(ACCEPT, args=["phq9"]), _accept_data("wai-sr")).status_code == 404
    assert not InstrumentAcceptance.objects.exists()


@pytest.mark.django_db
def test_withdrawing_switches_that_instrument_off(as_admin: HttpClient, admin: User) -> None:
    services.licensed_pack_accept(actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True)
    assert as_admin.post(reverse("instrument_terms_withdraw", args=["wai-sr"])).status_code == 302
    assert _licensed_on(admin) == set()
    assert AuditEvent.objects.filter(entity_type="InstrumentAcceptance", action="U").count() == 1


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
def test_a_therapist_cannot_switch_an_instrument_on(alice: User) -> None:
    http = signed_in(alice)
    assert http.post(reverse(ACCEPT, args=["wai-sr"]), _accept_data("wai-sr")).status_code == 403
    assert not InstrumentAcceptance.objects.exists()


@pytest.mark.django_db
def test_another_practices_acceptance_does_not_count(admin: User, oscar: User) -> None:
    services.licensed_pack_accept(actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True)
    assert not {i.id for i in licensed_pack()} & set(instruments_for(oscar.practice))


@pytest.mark.django_db
def test_the_migration_keeps_a_pack_acceptance_only_for_what_needs_no_permission(
    admin: User, oscar: User
) -> None:
    from django.apps import apps

    migration = importlib.import_module("spacebetween.measures.migrations.0006_instrument_acceptances")
    now = timezone.now()
    in_force = PackAcceptance.objects.create(
        practice=admin.practice,
        terms_digest=pack_terms_digest(licensed_pack()),
        accepted_by=admin,
        accepted_at=now,
    )
    # Another practice's acceptance of terms that have changed since was already off: it stays off.
    PackAcceptance.objects.create(
        practice=oscar.practice, terms_digest="0" * 64, accepted_by=oscar, accepted_at=now
    )
    migration.pack_to_instruments(apps, None)
    assert _licensed_on(admin) == {"wai-sr"}
    assert _licensed_on(oscar) == set()
    carried = InstrumentAcceptance.objects.get()
    assert (carried.accepted_by_id, carried.accepted_at, carried.permission_held) == (
        admin.pk,
        in_force.accepted_at,
        False,
    )
