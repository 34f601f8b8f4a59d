"""The safety plan's pages: the therapist's (write the next version, see the earlier ones), a printable
copy for staff, and the client's own in the portal. Who may read comes from `clients.access` (404
outside it); who may write is `safety.plans.plan_save`'s rule (403, audited). Every read is audited."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from spacebetween import clock
from spacebetween.accounts.decorators import AuthenticatedHttpRequest, client_required, clinician_required
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record
from spacebetween.clients.access import NOT_FOUND, clients_for, get_client_for
from spacebetween.clients.models import Client
from spacebetween.safety import plans
from spacebetween.safety.forms import SafetyPlanForm
from spacebetween.safety.models import SafetyPlan

PLAN_SAVED = "Safety plan saved as version {version}."
IN_PORTAL = " {name} sees it in their portal."


def _audit_read(
    request: AuthenticatedHttpRequest,
    client: Client,
    plan: SafetyPlan | None,
    purpose: Purpose = Purpose.TREATMENT,
) -> None:
    # Ids only: the plan version read, or the client when there is no plan yet.
    record(
        action=Action.READ,
        actor=request.user,
        entity_type=Entity.SAFETY_PLAN if plan is not None else Entity.CLIENT,
        entity_id=plan.pk if plan is not None else client.pk,
        purpose=purpose,
        request=request,
    )


@require_http_methods(["GET", "POST"])
@clinician_required
def safety_plan(request: AuthenticatedHttpRequest, client_id: int) -> HttpResponse:
    # Writing asks for the client in write scope first: a supervisor reading a shared record gets 403.
    client = get_client_for(request, request.user, client_id, write=request.method == "POST")
    status = 200
    if request.method == "POST":
        form = SafetyPlanForm(request.POST)
        if form.is_valid():
            try:
                plan = plans.plan_save(
                    actor=request.user,
                    client=client,
                    sections=form.sections(),
                    now=clock.now(),
                    request=request,
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                saved = PLAN_SAVED.format(version=plan.version)
                if client.portal_user_id:
                    saved += IN_PORTAL.format(name=client.display_name)
                messages.success(request, saved)
                return redirect("safety_plan", client.pk)
        status = 400
        versions = plans.plan_versions(client)
    else:
        with transaction.atomic():
            versions = plans.plan_versions(client)
            _audit_read(request, client, versions[0] if versions else None)
        form = SafetyPlanForm(initial=plans.sections_of(versions[0] if versions else None))
    current = versions[0] if versions else None
    context = {
        "client": client,
        "form": form,
        "current": plans.plan_view(current),
        "versions": versions,
        "can_edit": plans.may_write(request.user, client),
    }
    return render(request, "safety/safety_plan.html", context, status=status)


@require_GET
@clinician_required
def safety_plan_print(request: AuthenticatedHttpRequest, client_id: int) -> HttpResponse:
    """The latest version, or `?version=N`, laid out to print and give to the client."""
    client = get_client_for(request, request.user, client_id)
    wanted = request.GET.get("version")
    if wanted is None:
        plan = plans.current_plan(client)
    else:
        plan = plans.plan_version(client, int(wanted)) if wanted.isdigit() else None
        if plan is None:
            raise Http404(NOT_FOUND)
    _audit_read(request, client, plan)
    context = {"client": client, "view": plans.plan_view(plan), "for_client": False}
    return render(request, "safety/safety_plan_print.html", context)


@require_GET
@client_required
def portal_safety_plan(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The client's own latest plan, read-only and print-friendly."""
    client = clients_for(request.user).filter(portal_user_id=request.user.pk).first()
    plan = plans.current_plan(client) if client is not None else None
    if client is not None:
        # A client reading their own record: HL7 PurposeOfUse "patient requested".
        _audit_read(request, client, plan, purpose=Purpose.PATIENT_REQUEST)
    context = {"client": client, "view": plans.plan_view(plan), "for_client": True}
    return render(request, "safety/safety_plan_print.html", context)
