"""The client's data-rights page (consent, export, erasure) and the practice's retention rule. Thin:
access through `rights.access`, reads through selectors, writes through services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from spacebetween.accounts.decorators import (
    AuthenticatedHttpRequest,
    admin_required,
    clinician_required,
    role_required,
)
from spacebetween.accounts.models import Role
from spacebetween.audit.models import Entity, Purpose
from spacebetween.audit.services import record_reads
from spacebetween.clients.models import Client
from spacebetween.consent.selectors import consent_history, consent_states
from spacebetween.consent.services import consent_record
from spacebetween.rights import selectors
from spacebetween.rights.access import get_client_for_rights
from spacebetween.rights.erasure import ErasureRefused, client_erase
from spacebetween.rights.export import export_archive
from spacebetween.rights.forms import ConsentForm, ErasureForm, ExportForm, RetentionForm
from spacebetween.rights.services import retention_set
from spacebetween.ui.forms import submit

rights_required = role_required(Role.THERAPIST, Role.SUPERVISOR, Role.ADMIN)
CONSENT_SAVED = "Consent recorded."
RETENTION_SAVED = "Retention rule saved."
DONE = {"erase": "The client's record was erased.", "anonymise": "The client's record was anonymised."}


def _page(
    request: AuthenticatedHttpRequest, client: Client, *, status: int = 200, **forms: Any
) -> HttpResponse:
    context = {
        "client": client,
        "treating": request.user.role != Role.ADMIN,
        "consents": consent_states(client),
        "history": consent_history(client),
        "retention": selectors.retention_for(client),
        "anonymised": selectors.anonymised(client),
        "consent_form": forms.get("consent_form"),
        "export_form": forms.get("export_form", ExportForm()),
        "erase_form": forms.get("erase_form", ErasureForm()),
    }
    return render(request, "rights/client_rights.html", context, status=status)


@require_GET
@rights_required
def client_rights(request: AuthenticatedHttpRequest, client_id: int) -> HttpResponse:
    client = get_client_for_rights(request, request.user, client_id)
    with transaction.atomic():
        record_reads(
            actor=request.user,
            entities=[(Entity.CLIENT, client.pk)],
            purpose=Purpose.PATIENT_REQUEST,
            request=request,
        )
    return _page(request, client)


@require_POST
@clinician_required
def client_consent(request: AuthenticatedHttpRequest, client_id: int) -> HttpResponse:
    client = get_client_for_rights(request, request.user, client_id)
    form = ConsentForm(request.POST)
    if submit(form, consent_record, actor=request.user, client=client, request=request) is None:
        return _page(request, client, status=400, consent_form=form)
    messages.success(request, CONSENT_SAVED)
    return redirect("client_rights", client.pk)


@require_POST
@rights_required
def client_export(request: AuthenticatedHttpRequest, client_id: int) -> HttpResponse:
    client = get_client_for_rights(request, request.user, client_id)
    form = ExportForm(request.POST)
    if not form.is_valid():
        return _page(request, client, status=400, export_form=form)
    archive = export_archive(actor=request.user, client=client, request=request, **form.cleaned_data)
    response = HttpResponse(archive, content_type="application/zip")
    # The file name carries no name or health data: only the record's number.
    response["Content-Disposition"] = f'attachment; filename="client-{client.pk}-records.zip"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@rights_required
def client_erasure(request: AuthenticatedHttpRequest, client_id: int) -> HttpResponse:
    client = get_client_for_rights(request, request.user, client_id)
    form = ErasureForm(request.POST)
    try:
        result = submit(form, client_erase, actor=request.user, client=client, request=request)
    except ErasureRefused as exc:
        form.add_error(None, str(exc))
        result = None
    if result is None:
        return _page(request, client, status=400, erase_form=form)
    messages.success(request, DONE[result.mode])
    home = "practice_overview" if request.user.role == Role.ADMIN else "caseload"
    return redirect(home) if result.mode == "erase" else redirect("client_rights", client.pk)


@require_http_methods(["GET", "POST"])
@admin_required
def retention_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    record_number = request.GET.get("record", "").strip()
    if record_number.isdigit():  # the lookup: a client's data-rights page by record number
        return redirect("client_rights", int(record_number))
    initial = {"years_after_last_episode": selectors.retention_years(request.user.practice_id)}
    form = RetentionForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST":
        policy = submit(form, retention_set, actor=request.user, request=request)
        if policy is not None:
            messages.success(request, RETENTION_SAVED)
            return redirect("retention_settings")
    status = 400 if form.is_bound else 200
    return render(request, "rights/retention.html", {"form": form}, status=status)
