"""The client's own progress page in the portal, and the treating therapist's switch for it. The
client reaches only their own record (`clients.access`, through their portal login); the switch page
fetches the client through `clients.access` for writing (a colleague's is 404, a supervisor's 403).
Every page that shows a record audits the read."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, client_required, clinician_required
from spacebetween.audit.models import Entity, Purpose
from spacebetween.audit.services import record_reads
from spacebetween.clients.access import get_client_for
from spacebetween.progress import selectors, services
from spacebetween.progress.forms import ProgressViewForm
from spacebetween.ui.forms import submit

SHOWN = "The client now sees their progress in the portal."
HIDDEN = "The client's progress is now hidden in the portal."


def _audit(request: AuthenticatedHttpRequest, shown: list[tuple[Entity, object]], purpose: Purpose) -> None:
    with transaction.atomic():
        record_reads(actor=request.user, entities=shown, purpose=purpose, request=request)


@require_GET
@client_required
def portal_progress(request: AuthenticatedHttpRequest) -> HttpResponse:
    progress = selectors.own_progress(request.user)
    # A client reading their own record: HL7 PurposeOfUse "patient requested".
    _audit(request, progress.read, Purpose.PATIENT_REQUEST)
    return render(request, "progress/portal_progress.html", {"progress": progress})


@require_http_methods(["GET", "POST"])
@clinician_required
def progress_view_setting(request: AuthenticatedHttpRequest, client_id: int) -> HttpResponse:
    client = get_client_for(request, request.user, client_id, write=True)
    shown = selectors.progress_shown(client)
    form = ProgressViewForm(
        request.POST if request.method == "POST" else None, initial={"shown": "yes" if shown else "no"}
    )
    if request.method == "POST":
        setting = submit(form, services.progress_view_set, actor=request.user, client=client, request=request)
        if setting is not None:
            messages.success(request, SHOWN if setting.shown else HIDDEN)
            return redirect("client_detail", client.pk)
    else:
        _audit(request, [(Entity.CLIENT, client.pk)], Purpose.TREATMENT)
    context = {"form": form, "client": client, "shown": shown}
    return render(request, "progress/view_setting.html", context, status=400 if form.errors else 200)
