"""The practice outcomes page: aggregates for the practice admin, never a client or a therapist's name."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, admin_required
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record
from spacebetween.core import mechanisms
from spacebetween.insights import charts, outcomes
from spacebetween.insights.selectors import PRACTICE_PROCESS, practice_mechanisms


@require_GET
@admin_required
def practice_outcomes(request: AuthenticatedHttpRequest) -> HttpResponse:
    result = outcomes.practice_outcomes(request.user)
    record(
        action=Action.READ,
        actor=request.user,
        entity_type=Entity.PRACTICE_OUTCOMES,
        purpose=Purpose.OPERATIONS,
        request=request,
    )
    chart = charts.outcome_bars(
        title="Outcomes of finished episodes beside the latest national figures",
        rows=outcomes.benchmark_rows(result),
        benchmark_label="England, latest national figure",
        practice_label="This practice",
        missing_text=outcomes.SUPPRESSED,
    )
    context = {
        "outcomes": result,
        "chart": chart,
        "columns": outcomes.OUTCOMES.values(),
        "benchmarks": outcomes.NATIONAL_BENCHMARKS,
        "small_cell": outcomes.SMALL_CELL,
        "finished_course_sessions": outcomes.FINISHED_COURSE_SESSIONS,
        "caseness_rule": outcomes.caseness_rule(),
        "mechanisms": practice_mechanisms(request.user.practice),
        "mechanisms_min_clients": mechanisms.MIN_CLIENTS,
        "mechanisms_min_pairs": mechanisms.MIN_PAIRS_PER_CLIENT,
        "mechanisms_planned_effect": mechanisms.PLANNED_EFFECT,
        "mechanisms_practice": PRACTICE_PROCESS,
    }
    return render(request, "insights/practice_outcomes.html", context)
