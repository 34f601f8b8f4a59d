"""The practice outcomes page: aggregates for the practice admin, never a client or a therapist's name."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, admin_required
from spacebetween.audit.models import Entity, Purpose
from spacebetween.audit.services import record_reads
from spacebetween.insights import outcomes
from spacebetween.insights.presenters import practice_outcomes_page


@require_GET
@admin_required
def practice_outcomes(request: AuthenticatedHttpRequest) -> HttpResponse:
    result = outcomes.practice_outcomes(request.user)
    # One read of the practice's aggregates (no one record: the entity id is empty).
    record_reads(
        actor=request.user,
        entities=[(Entity.PRACTICE_OUTCOMES, "")],
        purpose=Purpose.OPERATIONS,
        request=request,
    )
    context = practice_outcomes_page(request.user, result)
    return render(request, "insights/practice_outcomes.html", context)
