"""The practice admin's crisis resources page (/practice/crisis-resources/): the practice's own
entries (added and removed here), its country, and the built-in entries shown read-only as always
shown. Writes are `safety.crisis` (admin only, audited; nothing saved on bad input)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, admin_required
from spacebetween.safety import crisis
from spacebetween.safety.crisis_forms import CrisisResourceForm, PracticeCountryForm


def _crisis_settings_page(
    request: AuthenticatedHttpRequest,
    form: CrisisResourceForm | None = None,
    status: int = 200,
    country_form: PracticeCountryForm | None = None,
) -> HttpResponse:
    practice = request.user.practice
    context = {
        "practice": practice,
        "own": crisis.practice_crisis_resources(practice),
        "built_in": crisis.built_in_for(practice.country),
        "form": form or CrisisResourceForm(initial={"country": practice.country}),
        "country_form": country_form or PracticeCountryForm(initial={"country": practice.country}),
        "country_name": crisis.supported_countries().get(practice.country, practice.country),
    }
    return render(request, "safety/crisis_resources.html", context, status=status)


@admin_required
@require_http_methods(["GET", "POST"])
def crisis_resources(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _crisis_settings_page(request)
    form = CrisisResourceForm(request.POST)
    if form.is_valid():
        try:
            resource = crisis.crisis_resource_add(actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Added {resource.name} ({resource.country}).")
            return redirect("crisis_resources")
    return _crisis_settings_page(request, form=form, status=400)


@admin_required
@require_POST
def crisis_country(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The practice's country, which picks the built-in crisis lines its clients see."""
    form = PracticeCountryForm(request.POST)
    if form.is_valid():
        try:
            practice = crisis.practice_country_set(actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Your practice's country is now {practice.country}.")
            return redirect("crisis_resources")
    return _crisis_settings_page(request, status=400, country_form=form)


@admin_required
@require_POST
def crisis_resource_delete(request: AuthenticatedHttpRequest, resource_id: int) -> HttpResponse:
    resource = crisis.practice_crisis_resources(request.user.practice).filter(pk=resource_id).first()
    if resource is None:
        raise Http404("Not found.")
    try:
        crisis.crisis_resource_remove(actor=request.user, resource=resource, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Removed {resource.name} ({resource.country}).")
    return redirect("crisis_resources")
