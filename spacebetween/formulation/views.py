"""The therapist's workspace for an episode: formulation and goals. The treating therapist writes; a
supervisor reads an episode shared for supervision (403 on a write); anyone else 404, through
`clients.access`. A client and an admin get 403 (`clinician_required`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, clinician_required
from spacebetween.audit.models import Entity, Purpose
from spacebetween.audit.services import record_reads
from spacebetween.clients.access import get_episode_for
from spacebetween.clients.models import Episode, Session
from spacebetween.formulation import presenters, selectors, services
from spacebetween.formulation.forms import (
    GoalForm,
    GoalRatingForm,
    MarkerCheckForm,
    ReconsolidationForm,
    StepForm,
)
from spacebetween.formulation.models import Goal
from spacebetween.ui.forms import PageForm, submit

T = TypeVar("T")

SAVED = "The formulation is saved as version {number}; earlier versions are kept."
GOAL_ADDED = "The goal is added."
GOAL_CLOSED = "The goal is closed; its ratings are kept."
RATED = "The rating is saved."
NO_SUCH_GOAL = "Choose one of this episode's goals to close; nothing was changed."


def _reads(request: AuthenticatedHttpRequest, entities: list[tuple[Entity, object]]) -> None:
    with transaction.atomic():
        record_reads(actor=request.user, entities=entities, purpose=Purpose.TREATMENT, request=request)


def _workspace(
    request: AuthenticatedHttpRequest, episode: Episode, status: int = 200, **forms: object
) -> HttpResponse:
    context = presenters.workspace(request.user, episode, **forms)  # type: ignore[arg-type]
    _reads(request, presenters.shown(context))
    return render(request, "formulation/workspace.html", context, status=status)


@require_http_methods(["GET"])
@clinician_required
def workspace(request: AuthenticatedHttpRequest, episode_id: int) -> HttpResponse:
    return _workspace(request, get_episode_for(request, request.user, episode_id))


@require_http_methods(["GET", "POST"])
@clinician_required
def formulation_revise(request: AuthenticatedHttpRequest, episode_id: int) -> HttpResponse:
    episode = get_episode_for(request, request.user, episode_id, write=True)
    form, latest = presenters.revise_form(episode, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.formulation_revise(
                actor=request.user, episode=episode, request=request, **form.service_kwargs()
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, SAVED.format(number=version.number))
            return redirect("formulation_workspace", episode.pk)
    status = 400 if form.errors else 200
    return render(
        request,
        "formulation/revise.html",
        {"form": form, "episode": episode, "latest": latest},
        status=status,
    )


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@require_http_methods(["GET"])
@clinician_required
def formulation_compare(request: AuthenticatedHttpRequest, episode_id: int) -> HttpResponse:
    episode = get_episode_for(request, request.user, episode_id)
    found = selectors.comparison(
        episode, _number(request.GET.get("before")), _number(request.GET.get("after"))
    )
    shown = [(Entity.FORMULATION_VERSION, v.pk) for v in ((found.before, found.after) if found else ())]
    _reads(request, [(Entity.EPISODE, episode.pk), *shown])
    context = {"episode": episode, "comparison": found, "versions": selectors.versions(episode)}
    return render(
        request, "formulation/compare.html", context, status=200 if found or not request.GET else 400
    )


@require_http_methods(["POST"])
@clinician_required
def goal_add(request: AuthenticatedHttpRequest, episode_id: int) -> HttpResponse:
    episode = get_episode_for(request, request.user, episode_id, write=True)
    form = GoalForm(request.POST)
    if form.is_valid():
        try:
            services.goal_add(actor=request.user, episode=episode, request=request, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, GOAL_ADDED)
            return redirect("formulation_workspace", episode.pk)
    return _workspace(request, episode, status=400, goal_form=form)


@require_http_methods(["POST"])
@clinician_required
def goal_rate(request: AuthenticatedHttpRequest, episode_id: int) -> HttpResponse:
    episode = get_episode_for(request, request.user, episode_id, write=True)
    goals, sessions = selectors.active_goals(episode), selectors.held_sessions(episode)
    form = GoalRatingForm(request.POST, goals=goals, sessions=sessions)
    if form.is_valid():
        try:
            services.goal_rate(
                actor=request.user,
                goal=get_object_or_404(Goal, pk=form.cleaned_data["goal"], episode=episode),
                session=get_object_or_404(Session, pk=form.cleaned_data["session"], episode=episode),
                score=form.cleaned_data["score"],
                request=request,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, RATED)
            return redirect("formulation_workspace", episode.pk)
    return _workspace(request, episode, status=400, rating_form=form)


@require_http_methods(["POST"])
@clinician_required
def goal_close(request: AuthenticatedHttpRequest, episode_id: int) -> HttpResponse:
    episode = get_episode_for(request, request.user, episode_id, write=True)
    goal = Goal.objects.filter(pk=_number(request.POST.get("goal")) or 0, episode=episode).first()
    if goal is None:
        messages.error(request, NO_SUCH_GOAL)
        return _workspace(request, episode, status=400)
    services.goal_close(actor=request.user, goal=goal, request=request)
    messages.success(request, GOAL_CLOSED)
    return redirect("formulation_workspace", episode.pk)


# ------------------------------------------------------------------------------ memory reconsolidation

STARTED = "The reconsolidation work is started."
STEP_SAVED = "The step is recorded."
CHECK_SAVED = "The verification markers are recorded."


def _attempt(form: PageForm, operation: Callable[..., T], **kwargs: Any) -> T | None:
    """Run the service; None, with its refusal on the form, if it refuses."""
    try:
        return operation(**kwargs)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return None


def _work(episode: Episode, work_id: int) -> selectors.WorkView:
    found = selectors.reconsolidation_work(episode, work_id)
    if found is None:
        raise Http404("No such reconsolidation work in this episode.")
    return found


def _work_page(
    request: AuthenticatedHttpRequest, episode: Episode, work_id: int, status: int = 200, **forms: object
) -> HttpResponse:
    context = presenters.reconsolidation_page(request.user, episode, _work(episode, work_id), **forms)  # type: ignore[arg-type]
    _reads(request, presenters.reconsolidation_shown(context))
    return render(request, "formulation/reconsolidation.html", context, status=status)


@require_http_methods(["GET", "POST"])
@clinician_required
def reconsolidation_start(request: AuthenticatedHttpRequest, episode_id: int) -> HttpResponse:
    episode = get_episode_for(request, request.user, episode_id, write=True)
    versions = selectors.versions(episode)
    form = ReconsolidationForm(
        request.POST if request.method == "POST" else None,
        versions=versions,
        instruments=selectors.episode_instruments(episode),
        initial={"formulation": versions[0].pk if versions else ""},
    )
    if request.method == "POST" and form.is_valid():
        data = {
            **form.cleaned_data,
            "formulation": next((v for v in versions if v.pk == form.cleaned_data["formulation"]), None),
        }
        work = _attempt(
            form, services.reconsolidation_start, actor=request.user, episode=episode, request=request, **data
        )
        if work is not None:
            messages.success(request, STARTED)
            return redirect("reconsolidation_work", episode.pk, work.pk)
    context = {"form": form, "episode": episode}
    return render(
        request, "formulation/reconsolidation_start.html", context, status=400 if form.errors else 200
    )


@require_http_methods(["GET"])
@clinician_required
def reconsolidation_work(request: AuthenticatedHttpRequest, episode_id: int, work_id: int) -> HttpResponse:
    return _work_page(request, get_episode_for(request, request.user, episode_id), work_id)


@require_http_methods(["POST"])
@clinician_required
def reconsolidation_step(request: AuthenticatedHttpRequest, episode_id: int, work_id: int) -> HttpResponse:
    episode = get_episode_for(request, request.user, episode_id, write=True)
    work = _work(episode, work_id).work
    form = StepForm(request.POST)
    saved = submit(form, services.reconsolidation_step_add, actor=request.user, work=work, request=request)
    if saved is not None:
        messages.success(request, STEP_SAVED)
        return redirect("reconsolidation_work", episode.pk, work.pk)
    return _work_page(request, episode, work_id, status=400, step_form=form)


@require_http_methods(["POST"])
@clinician_required
def marker_check(request: AuthenticatedHttpRequest, episode_id: int, work_id: int) -> HttpResponse:
    episode = get_episode_for(request, request.user, episode_id, write=True)
    work = _work(episode, work_id).work
    form = MarkerCheckForm(request.POST)
    if not form.is_valid():
        return _work_page(request, episode, work_id, status=400, marker_form=form)
    kwargs = form.service_kwargs()
    saved = _attempt(
        form, services.marker_check_add, actor=request.user, work=work, request=request, **kwargs
    )
    if saved is not None:
        messages.success(request, CHECK_SAVED)
        return redirect("reconsolidation_work", episode.pk, work.pk)
    return _work_page(request, episode, work_id, status=400, marker_form=form)
