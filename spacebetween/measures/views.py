from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, admin_required, clinician_required
from spacebetween.audit.models import Entity, Purpose
from spacebetween.audit.services import record_reads
from spacebetween.clients.access import get_client_for
from spacebetween.measures import answers, selectors, services
from spacebetween.measures.forms import AcceptTermsForm, ImportDefinitionForm
from spacebetween.ui.forms import submit


def _accept_form(item: selectors.LicensedInstrument, data: Any = None) -> AcceptTermsForm:
    return AcceptTermsForm(
        data,
        prefix=item.instrument.id,
        initial={"terms_digest": item.terms_digest},
        needs_permission=item.instrument.licence.needs_permission,
    )


def _page(
    request: AuthenticatedHttpRequest,
    bound: AcceptTermsForm | None = None,
    import_form: ImportDefinitionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    listing = selectors.practice_instruments(request.user.practice)
    licensed = [
        (item, bound if bound is not None and bound.prefix == item.instrument.id else _accept_form(item))
        for item in listing.licensed
    ]
    context = {
        "listing": listing,
        "licensed": licensed,
        "import_form": import_form or ImportDefinitionForm(),
    }
    return render(request, "measures/instruments.html", context, status=status)


@admin_required
@require_GET
def instruments(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _page(request)


def _licensed_item(request: AuthenticatedHttpRequest, instrument_id: str) -> selectors.LicensedInstrument:
    listing = selectors.practice_instruments(request.user.practice)
    found = [item for item in listing.licensed if item.instrument.id == instrument_id]
    if not found:
        raise Http404("No such licensed instrument.")
    return found[0]


@admin_required
@require_POST
def instrument_terms_accept(request: AuthenticatedHttpRequest, instrument_id: str) -> HttpResponse:
    item = _licensed_item(request, instrument_id)
    form = _accept_form(item, request.POST)
    if (
        submit(
            form,
            services.instrument_terms_accept,
            actor=request.user,
            instrument_id=instrument_id,
            request=request,
        )
        is not None
    ):
        messages.success(request, f"{item.instrument.title} is switched on for this practice.")
        return redirect("instrument_settings")
    return _page(request, bound=form, status=400)


@admin_required
@require_POST
def instrument_terms_withdraw(request: AuthenticatedHttpRequest, instrument_id: str) -> HttpResponse:
    item = _licensed_item(request, instrument_id)
    try:
        services.instrument_terms_withdraw(actor=request.user, instrument_id=instrument_id, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{item.instrument.title} is switched off for this practice.")
    return redirect("instrument_settings")


@admin_required
@require_POST
def instrument_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    admin = request.user
    form = ImportDefinitionForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["definition"]
        try:
            imported = services.instrument_import(
                actor=admin, filename=upload.name, content=upload.read(), request=request
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Imported {imported.title} (version {imported.version}).")
            return redirect("instrument_settings")
    return _page(request, import_form=form, status=400)


@require_GET
@clinician_required
def client_answers(request: AuthenticatedHttpRequest, client_id: int) -> HttpResponse:
    """A client's questionnaire answers, item by item, newest first, ten responses a page (`?page=`):
    for whoever may read the client page (`clients.access`), and only from the episodes they may
    read. Audits the read of the client and of each episode shown, like the client page (ids only)."""
    client = get_client_for(request, request.user, client_id)
    listing = answers.client_answers(request.user, client, request.GET.get("page", 1))
    episodes = sorted({q.episode.pk for q in listing.questionnaires})
    shown = [(Entity.CLIENT, client.pk), *((Entity.EPISODE, pk) for pk in episodes)]
    with transaction.atomic():
        record_reads(actor=request.user, entities=shown, purpose=Purpose.TREATMENT, request=request)
    return render(request, "measures/client_answers.html", {"listing": listing, "client": client})
