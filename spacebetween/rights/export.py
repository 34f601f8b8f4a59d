"""The subject access archive: everything held about a client, as one ZIP.

- `fhir-bundle.json`: a FHIR R4 Bundle (collection): the Patient, each EpisodeOfCare, each session as
  an Encounter, each questionnaire as a QuestionnaireResponse with its score Observations
  (`spacebetween.core.fhir` builds these last two, exactly as the research export does).
- `reports/progress-report-<client>-<therapist>.pdf`: the client's copy of the progress report
  (`insights.pdf`), one per therapist who treated them.
- `progress-notes.html`: the signed progress notes and their addenda (`spacebetween.notes`); the
  therapist's process notes (psychotherapy notes) are never in the archive.
- `exercise-entries.html`: the exercises set between sessions and every entry the client wrote,
  decrypted, private ones included (`spacebetween.exercises.export`).
- `summary.html`: the same in words, plus what the FHIR Bundle does not carry: contact details, the
  consent history, safety plans and risk flags, and what was withheld.

The therapist's own session reflections (session ratings, counter-transference check-ins and their
encrypted notes) are left out unless the treating therapist chooses to include them after review:
the summary says how many there are and that they were withheld (docs/data-rights.md says why).
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from spacebetween import clock, crypto
from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record
from spacebetween.clients.access import clients_for
from spacebetween.clients.models import Attendance, Client, Episode, Session
from spacebetween.consent.selectors import consent_history
from spacebetween.core import fhir
from spacebetween.core import instruments as catalogue
from spacebetween.core.instruments import Instrument
from spacebetween.core.scoring import score_response
from spacebetween.exercises.export import FILENAME as EXERCISES_FILE
from spacebetween.exercises.export import exercise_entries_html
from spacebetween.formulation.export import FILENAME as WORKSPACE_FILE
from spacebetween.formulation.export import workspace_html
from spacebetween.insights.pdf import render_pdf
from spacebetween.insights.report import report_html
from spacebetween.measures.models import Response
from spacebetween.measures.selectors import assignment_instrument
from spacebetween.notes.export import FILENAME as PROGRESS_NOTES_FILE
from spacebetween.notes.export import progress_notes_html
from spacebetween.relationship.models import SessionReflection
from spacebetween.relationship.services import note_context
from spacebetween.safety.models import RiskFlag, SafetyPlan

NOT_ALLOWED = "Only the client's treating therapist or the practice admin can export the record."
REFLECTIONS_TREATING_ONLY = "Only the treating therapist can include their session reflections."

_NS = uuid.UUID("4f2b9a8e-7c1d-4e55-9a41-5b0f3c2d6e10")
ENCOUNTER_STATUS = {
    Attendance.SCHEDULED: "planned",
    Attendance.ATTENDED: "finished",
    Attendance.CANCELLED: "cancelled",
    Attendance.DID_NOT_ATTEND: "cancelled",
}
# HL7 v3 ActCode "AMB" (ambulatory): https://terminology.hl7.org/ValueSet-v3-ActEncounterCode.html
ENCOUNTER_CLASS = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
    "code": "AMB",
    "display": "ambulatory",
}
RECORD_SYSTEM = "urn:spacebetween:client-record"


def _id(kind: str, pk: object) -> str:
    return str(uuid.uuid5(_NS, f"{kind}|{pk}"))


def _instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def patient_resource(client: Client) -> dict[str, Any]:
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": _id("patient", client.pk),
        "identifier": [{"system": RECORD_SYSTEM, "value": str(client.pk)}],
        "name": [{"use": "official", "family": client.family_name, "given": [client.given_name]}],
    }
    if client.preferred_name:
        patient["name"].append({"use": "usual", "given": [client.preferred_name]})
    telecom = [{"system": "email", "value": client.email}] if client.email else []
    telecom += [{"system": "phone", "value": client.phone}] if client.phone else []
    if telecom:
        patient["telecom"] = telecom
    if client.date_of_birth:
        patient["birthDate"] = client.date_of_birth.isoformat()
    if client.country:
        patient["address"] = [{"country": client.country}]
    if client.emergency_contact_name:
        contact: dict[str, Any] = {"name": {"text": client.emergency_contact_name}}
        if client.emergency_contact_relationship:
            contact["relationship"] = [{"text": client.emergency_contact_relationship}]
        if client.emergency_contact_phone:
            contact["telecom"] = [{"system": "phone", "value": client.emergency_contact_phone}]
        patient["contact"] = [contact]
    return patient


def episode_resource(episode: Episode, patient_ref: str) -> dict[str, Any]:
    period = {"start": episode.started_on.isoformat()}
    if episode.ended_on:
        period["end"] = episode.ended_on.isoformat()
    return {
        "resourceType": "EpisodeOfCare",
        "id": _id("episode", episode.pk),
        "status": "finished" if episode.ended_on else "active",
        "patient": {"reference": patient_ref},
        "period": period,
    }


def encounter_resource(session: Session, patient_ref: str, episode_ref: str) -> dict[str, Any]:
    start = session.starts_at
    return {
        "resourceType": "Encounter",
        "id": _id("session", session.pk),
        "status": ENCOUNTER_STATUS.get(Attendance(session.attendance), "unknown"),
        "class": ENCOUNTER_CLASS,
        "subject": {"reference": patient_ref},
        "episodeOfCare": [{"reference": episode_ref}],
        "period": {
            "start": _instant(start),
            "end": _instant(start + dt.timedelta(minutes=session.duration_minutes)),
        },
    }


def _instrument(response: Response, practice_id: int) -> Instrument | None:
    found = assignment_instrument(response.assignment, practice_id)
    if found is not None:
        return found
    shipped = catalogue.registry(include_licensed=True).get(response.instrument_id)
    return shipped if shipped is not None and shipped.version == response.instrument_version else None


@dataclass
class Answered:
    response: Response
    instrument: Instrument | None
    in_bundle: bool


@dataclass
class Archive:
    client: Client
    episodes: list[Episode]
    answered: list[Answered] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)


def _collect(client: Client) -> Archive:
    episodes = list(
        Episode.objects.filter(client=client).select_related("therapist").prefetch_related("sessions")
    )
    archive = Archive(client=client, episodes=episodes)
    patient = patient_resource(client)
    patient_ref = f"Patient/{patient['id']}"
    archive.resources.append(patient)
    for episode in episodes:
        ep = episode_resource(episode, patient_ref)
        archive.resources.append(ep)
        for session in episode.sessions.all():
            archive.resources.append(encounter_resource(session, patient_ref, f"EpisodeOfCare/{ep['id']}"))
    responses = Response.objects.filter(assignment__episode__client=client).select_related("assignment")
    for response in responses.order_by("submitted_at", "id"):
        instrument = _instrument(response, client.practice_id)
        in_bundle = False
        if instrument is not None:
            rid = f"response-{response.pk}"
            try:
                archive.resources.append(
                    fhir.questionnaire_response(
                        instrument,
                        response.answers,
                        response_id=rid,
                        subject_reference=patient_ref,
                        authored=response.submitted_at,
                    )
                )
                score = score_response(instrument, response.answers, rid, incomplete="nan")
                archive.resources += fhir.score_observations(
                    instrument,
                    score,
                    response_id=rid,
                    subject_reference=patient_ref,
                    effective=response.submitted_at,
                )
                in_bundle = True
            except (fhir.FhirError, ValueError):
                in_bundle = False  # listed in the summary with its stored scores
        archive.answered.append(Answered(response=response, instrument=instrument, in_bundle=in_bundle))
    return archive


def fhir_bundle(archive: Archive) -> dict[str, Any]:
    return fhir.collection_bundle(archive.resources, validate_resources=False)


def _reflections(client: Client) -> list[SessionReflection]:
    return list(
        SessionReflection.objects.filter(session__episode__client=client)
        .select_related("session")
        .order_by("session__starts_at", "id")
    )


def _reflection_rows(reflections: list[SessionReflection]) -> list[dict[str, Any]]:
    return [
        {
            "session": r.session,
            "measure": r.measure_id,
            "scores": r.scores,
            "feelings": r.feelings,
            "intensity": r.intensity,
            "note": crypto.decrypt(r.feelings_note, context=note_context(r.session_id))
            if r.feelings_note
            else "",
        }
        for r in reflections
    ]


def _reports(request: HttpRequest, archive: Archive) -> dict[str, bytes]:
    """The client's copy of the progress report, made as each treating therapist would make it (their
    episodes), whoever asks: access was decided before; the copy is the client's."""
    reports = {}
    for therapist in {e.therapist for e in archive.episodes}:
        as_therapist = copy.copy(request)
        as_therapist.user = therapist
        html = report_html(as_therapist, archive.client, "client")  # type: ignore[arg-type]
        reports[f"reports/progress-report-{archive.client.pk}-{therapist.pk}.pdf"] = render_pdf(html)
    return reports


def _may_export(actor: User, client: Client) -> bool:
    if actor.role == Role.ADMIN:
        return actor.practice_id == client.practice_id
    return clients_for(actor, write=True).filter(pk=client.pk).exists()


def _summary(
    actor: User,
    client: Client,
    archive: Archive,
    made_on: dt.datetime,
    reflections: list[SessionReflection],
    include_reflections: bool,
    reports: dict[str, bytes],
) -> str:
    return render_to_string(
        "rights/summary.html",
        {
            "client": client,
            "made_on": made_on,
            "made_by": actor,
            "episodes": archive.episodes,
            "answered": archive.answered,
            "consents": consent_history(client),
            "safety_plans": SafetyPlan.objects.filter(client=client).order_by("version"),
            "risk_flags": RiskFlag.objects.filter(episode__client=client).order_by("raised_at"),
            "reflection_count": len(reflections),
            "reflections": _reflection_rows(reflections) if include_reflections else None,
            "reports": sorted(reports),
        },
    )


def export_archive(
    *, actor: User, client: Client, request: HttpRequest, include_reflections: bool = False
) -> bytes:
    """The ZIP for a subject access request, audited as an export of the client's record."""
    if not _may_export(actor, client):
        raise PermissionDenied(NOT_ALLOWED)
    if include_reflections and actor.role == Role.ADMIN:
        raise PermissionDenied(REFLECTIONS_TREATING_ONLY)
    made_on = clock.now()
    archive = _collect(client)
    bundle = fhir_bundle(archive)
    reflections = _reflections(client)
    reports = _reports(request, archive)
    with timezone.override(dt.UTC):  # the summary's times say "(UTC)"
        summary = _summary(actor, client, archive, made_on, reflections, include_reflections, reports)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive_zip:
        archive_zip.writestr("summary.html", summary)
        archive_zip.writestr("fhir-bundle.json", json.dumps(bundle, indent=2, ensure_ascii=False))
        # Signed progress notes are part of the record; process notes never leave (docs/notes.md).
        if (notes_html := progress_notes_html(client)) is not None:
            archive_zip.writestr(PROGRESS_NOTES_FILE, notes_html)
        # The formulation, the goals and the reconsolidation work are the clinical record, not
        # psychotherapy notes: they go to the client (docs/formulation.md).
        if (workspace := workspace_html(client)) is not None:
            archive_zip.writestr(WORKSPACE_FILE, workspace)
        # The client's own exercise entries, private ones included: they are the client's words.
        if (exercises_html := exercise_entries_html(client)) is not None:
            archive_zip.writestr(EXERCISES_FILE, exercises_html)
        for name, pdf in sorted(reports.items()):
            archive_zip.writestr(name, pdf)
    with transaction.atomic():
        record(
            action=Action.READ,
            event_type="export",
            actor=actor,
            entity_type=Entity.CLIENT,
            entity_id=client.pk,
            purpose=Purpose.PATIENT_REQUEST,
            request=request,
            detail="subject access archive" + (" with reflections" if include_reflections else ""),
        )
    return buffer.getvalue()
