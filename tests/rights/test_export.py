"""The subject access archive: one ZIP with a FHIR R4 Bundle that parses, the client's progress
report as PDF and a readable summary; the treating therapist's or the admin's to download, audited."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.urls import reverse
from fhir.resources.R4B import get_fhir_model_class

from spacebetween.accounts.models import User
from spacebetween.answering import services as answering
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Client, Episode, Session
from spacebetween.consent.models import Purpose
from spacebetween.consent.services import consent_record
from spacebetween.core import instruments as catalogue
from spacebetween.relationship.models import SessionReflection
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(alice: User, client_record: Client, episode: Episode, session: Session) -> Client:
    clinical.client_update(actor=alice, client=client_record, phone="07700 900123")
    now = session.starts_at
    assignment = answering.assignment_create(
        actor=alice, episode=episode, instrument_id="phq9", due_at=now, now=now
    )
    answers = {item: 1 for item in catalogue.get("phq9").scored_item_ids} | {"phq9_9": 0}
    answering.response_submit(assignment=assignment, answers=answers, via="link", now=now)
    consent_record(actor=alice, client=client_record, purpose=Purpose.MEASUREMENT, given=True)
    return Client.objects.get(pk=client_record.pk)


def _download(user: User, client: Client, **data: str) -> zipfile.ZipFile:
    response = signed_in(user).post(reverse("client_export", args=[client.pk]), data)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="client-{client.pk}-records.zip"'
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_the_archive_holds_a_bundle_the_reports_and_a_summary(alice: User, answered: Client) -> None:
    archive = _download(alice, answered)
    names = archive.namelist()
    assert {"summary.html", "fhir-bundle.json"} <= set(names)
    reports = [n for n in names if n.startswith("reports/")]
    assert reports == [f"reports/progress-report-{answered.pk}-{alice.pk}.pdf"]
    assert archive.read(reports[0]).startswith(b"%PDF")

    bundle = json.loads(archive.read("fhir-bundle.json"))
    # The whole Bundle, and every resource in it, parses as FHIR R4 (fhir.resources, R4B models).
    get_fhir_model_class("Bundle").model_validate(bundle)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    types = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert types[:3] == ["Patient", "EpisodeOfCare", "Encounter"]
    assert types.count("QuestionnaireResponse") == 1 and "Observation" in types
    patient = bundle["entry"][0]
    assert patient["resource"]["name"][0] == {"use": "official", "family": "Jones", "given": ["Carol"]}
    assert {"system": "email", "value": "carol@example.org"} in patient["resource"]["telecom"]
    response = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"
    )
    assert response["subject"]["reference"] == patient["fullUrl"]  # references resolve inside the Bundle

    summary = archive.read("summary.html").decode()
    for held in ("Carol Jones", "carol@example.org", "07700 900123", "Low mood after bereavement", "Given"):
        assert held in summary
    assert "holds 0 session reflections" in summary

    event = AuditEvent.objects.filter(event_type="export").latest("seq")
    assert (event.entity_type, event.entity_id, event.actor_id) == ("Client", str(answered.pk), alice.pk)
    assert event.purpose == "PATRQT"
    assert "carol" not in event.detail.lower()


def test_the_admin_downloads_it_too_but_not_the_therapists_reflections(admin: User, answered: Client) -> None:
    archive = _download(admin, answered)
    assert "Low mood after bereavement" in archive.read("summary.html").decode()
    assert any(n.startswith("reports/") for n in archive.namelist())  # made as the treating therapist
    refused = signed_in(admin).post(
        reverse("client_export", args=[answered.pk]), {"include_reflections": "on"}
    )
    assert refused.status_code == 403


def test_reflections_are_withheld_unless_the_therapist_includes_them(
    alice: User, answered: Client, session: Session
) -> None:
    SessionReflection.objects.create(
        session=session,
        therapist=alice,
        recorded_at=session.starts_at,
        updated_at=session.starts_at,
        measure_kind="session_rating",
        measure_id="session_rating",
        measure_version="1",
        validated=False,
        answers={},
    )
    withheld = _download(alice, answered).read("summary.html").decode()
    assert "holds 1 session reflection " in withheld and "not in this archive" in withheld
    included = _download(alice, answered, include_reflections="on").read("summary.html").decode()
    assert "not in this archive" not in included and "session_rating" in included
    assert AuditEvent.objects.filter(detail="subject access archive with reflections").count() == 1


def test_outsiders_get_nothing(bob: User, sam: User, oscar: User, answered: Client) -> None:
    url = reverse("client_export", args=[answered.pk])
    assert signed_in(bob).post(url).status_code == 404
    assert signed_in(sam).post(url).status_code == 404
    assert signed_in(oscar).post(url).status_code == 404
    assert not AuditEvent.objects.filter(event_type="export").exists()
