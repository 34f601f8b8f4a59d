"""A risk flag's page and its acknowledgement. The flag is fetched through `safety.access` (404
outside the user's rights); acknowledging is `safety.risk.flag_acknowledge` (403 for a
reader who may not acknowledge). Reads and writes are audited."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from spacebetween import clock
from spacebetween.accounts.decorators import AuthenticatedHttpRequest, role_required
from spacebetween.accounts.models import Role
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record
from spacebetween.safety.access import get_flag_for
from spacebetween.safety.forms import AcknowledgeForm
from spacebetween.safety.models import RiskFlag
from spacebetween.safety.risk import flag_acknowledge
from spacebetween.safety.selectors import flag_detail

ACKNOWLEDGED = "Risk flag acknowledged. What you did is recorded."

# The treating therapist, a supervisor, and a practice admin when a flag is escalated to them.
staff_required = role_required(Role.THERAPIST, Role.SUPERVISOR, Role.ADMIN)


def _render(request: AuthenticatedHttpRequest, flag: RiskFlag, form: AcknowledgeForm) -> HttpResponse:
    detail = flag_detail(flag, request.user)
    return render(request, "safety/risk_flag.html", {"detail": detail, "form": form})


@require_GET
@staff_required
def risk_flag(request: AuthenticatedHttpRequest, flag_id: int) -> HttpResponse:
    flag = get_flag_for(request, request.user, flag_id)
    record(
        action=Action.READ,
        actor=request.user,
        entity_type=Entity.RISK_FLAG,
        entity_id=flag.pk,
        purpose=Purpose.TREATMENT,
        request=request,
    )
    return _render(request, flag, AcknowledgeForm())


@require_POST
@staff_required
def risk_flag_acknowledge_view(request: AuthenticatedHttpRequest, flag_id: int) -> HttpResponse:
    flag = get_flag_for(request, request.user, flag_id)
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            flag_acknowledge(
                actor=request.user,
                flag=flag,
                action_taken=form.action_taken(),
                now=clock.now(),
                request=request,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, ACKNOWLEDGED)
            return redirect("risk_flag", flag.pk)
    return _render(request, flag, form)
