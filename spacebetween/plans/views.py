"""Measurement plan pages: an episode's plan for its therapist, the practice default for the admin."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, admin_required, clinician_required
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record
from spacebetween.clients.access import get_episode_for
from spacebetween.measures import selectors
from spacebetween.plans import services
from spacebetween.plans.forms import PlanForm
from spacebetween.practice.models import Practice

EPISODE_PLAN_SAVED = "The episode's measurement plan is saved. Questionnaires already sent are unchanged."
PRACTICE_PLAN_SAVED = (
    "The practice's default measurement plan is saved. Episodes that already have a plan keep theirs."
)


def _instruments(practice: Practice) -> list[tuple[str, str]]:
    available = selectors.instruments_for(practice).values()
    return sorted(((i.id, i.title) for i in available if i.respondent == "client"), key=lambda p: p[1])


def _save(form: PlanForm, operation: object, **context: object) -> bool:
    if not form.is_valid():
        return False
    try:
        operation(rows=form.plan_rows(), **context)  # type: ignore[operator]
    except ValidationError as exc:
        form.add_service_errors(exc)
        return False
    return True


@require_http_methods(["GET", "POST"])
@clinician_required
def episode_plan(request: AuthenticatedHttpRequest, episode_id: int) -> HttpResponse:
    episode = get_episode_for(request, request.user, episode_id, write=True)
    rows = selectors.episode_plan_rows(episode)
    posted = request.POST if request.method == "POST" else None
    form = PlanForm(posted, instruments=_instruments(episode.client.practice), rows=rows)
    if posted is not None:
        if _save(form, services.episode_plan_save, actor=request.user, episode=episode, request=request):
            messages.success(request, EPISODE_PLAN_SAVED)
            return redirect(reverse("client_detail", args=[episode.client_id]) + f"#episode-{episode.pk}")
    else:
        record(
            action=Action.READ,
            actor=request.user,
            entity_type=Entity.EPISODE,
            entity_id=episode.pk,
            purpose=Purpose.TREATMENT,
            request=request,
            detail="measurement-plan",
        )
    context = {"form": form, "episode": episode, "client": episode.client}
    return render(request, "plans/episode_plan.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@admin_required
def practice_plan(request: AuthenticatedHttpRequest) -> HttpResponse:
    practice = request.user.practice
    posted = request.POST if request.method == "POST" else None
    form = PlanForm(posted, instruments=_instruments(practice), rows=selectors.practice_plan_rows(practice))
    if posted is not None and _save(form, services.practice_plan_save, actor=request.user, request=request):
        messages.success(request, PRACTICE_PLAN_SAVED)
        return redirect("practice_plan")
    return render(request, "plans/practice_plan.html", {"form": form}, status=400 if form.errors else 200)
