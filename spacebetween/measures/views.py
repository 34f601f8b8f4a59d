from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, admin_required
from spacebetween.measures import selectors, services
from spacebetween.measures.forms import AcceptTermsForm, ImportDefinitionForm


def _page(
    request: AuthenticatedHttpRequest,
    accept_form: AcceptTermsForm | None = None,
    import_form: ImportDefinitionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    admin = request.user
    listing = selectors.practice_instruments(admin.practice)
    digest = selectors.pack_terms_digest(listing.licensed)
    context = {
        "listing": listing,
        "acceptance": selectors.current_acceptance(admin.practice),
        "accept_form": accept_form or AcceptTermsForm(initial={"terms_digest": digest}),
        "import_form": import_form or ImportDefinitionForm(),
    }
    return render(request, "measures/instruments.html", context, status=status)


@admin_required
@require_GET
def instruments(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _page(request)


@admin_required
@require_POST
def licensed_pack_accept(request: AuthenticatedHttpRequest) -> HttpResponse:
    admin = request.user
    form = AcceptTermsForm(request.POST)
    if form.is_valid():
        try:
            services.licensed_pack_accept(
                actor=admin,
                terms_digest=form.cleaned_data["terms_digest"],
                accepted=form.cleaned_data["accept"],
                request=request,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "The licensed instrument pack is enabled for this practice.")
            return redirect("instrument_settings")
    return _page(request, accept_form=form, status=400)


@admin_required
@require_POST
def licensed_pack_withdraw(request: AuthenticatedHttpRequest) -> HttpResponse:
    admin = request.user
    try:
        services.licensed_pack_withdraw(actor=admin, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "The licensed instrument pack is switched off for this practice.")
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
