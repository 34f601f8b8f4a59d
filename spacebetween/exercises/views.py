"""Between sessions, both sides. The therapist's pages fetch the episode through `clients.access`
(another's is 404, a supervisor's write 403); the portal's pages reach only the client's own
exercises and pages (`exercises.access`). Every page showing a record audits the read."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from spacebetween import clock
from spacebetween.accounts.decorators import (
    AuthenticatedHttpRequest,
    client_required,
    clinician_required,
    role_required,
)
from spacebetween.accounts.models import Role
from spacebetween.audit.models import Entity, Purpose
from spacebetween.audit.services import record_reads
from spacebetween.clients.access import episodes_for, get_episode_for
from spacebetween.exercises import catalogue, own, own_pages, presenters, selectors, services
from spacebetween.exercises.access import (
    get_assignment_for,
    get_own_assignment,
    get_own_reading,
    get_practice_exercise_for,
)
from spacebetween.exercises.forms import (
    AssignForm,
    EntryForm,
    PracticeExerciseForm,
    PracticePageForm,
    ShareForm,
)
from spacebetween.ui.forms import submit

ASSIGNED = "Exercise set: the client sees it in their portal."
WITHDRAWN = "Exercise stopped: the client no longer sees it. What they wrote stays."
SHARED = "Page shared: the client sees it in their portal."
SAVED = "Saved. Well done for taking the time."
WRITTEN = "Exercise written: every therapist of the practice can now set it."
PAGE_WRITTEN = "Page written: every therapist of the practice can now share it."
RETIRED = "Exercise retired: it is no longer offered. Where it is already set, it goes on."


def _posted(request: HttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


def _audit(request: AuthenticatedHttpRequest, shown: list[tuple[Entity, object]], purpose: Purpose) -> None:
    with transaction.atomic():
        record_reads(actor=request.user, entities=shown, purpose=purpose, request=request)


def _status(form: object) -> int:
    return 400 if getattr(form, "errors", None) else 200


@require_http_methods(["GET", "POST"])
@clinician_required
def exercise_assign(request: AuthenticatedHttpRequest, episode_id: int) -> HttpResponse:
    episode = get_episode_for(request, request.user, episode_id, write=True)
    today = services.practice_today(episode, clock.now())
    initial = {"frequency": "daily", "starts_on": today, "ends_on": today + dt.timedelta(days=13)}
    form = AssignForm(_posted(request), initial=initial, practice_id=episode.client.practice_id)
    if request.method == "POST":
        if submit(form, services.exercise_assign, actor=request.user, episode=episode, request=request):
            messages.success(request, ASSIGNED)
            return redirect("episode_between_sessions", episode.pk)
    else:
        _audit(request, [(Entity.EPISODE, episode.pk)], Purpose.TREATMENT)
    context = {
        "form": form,
        "episode": episode,
        "exercises": own.assignable(episode.client.practice_id).values(),
    }
    return render(request, "exercises/assign.html", context, status=_status(form))


@require_GET
@clinician_required
def episode_between_sessions(request: AuthenticatedHttpRequest, episode_id: int) -> HttpResponse:
    episode = get_episode_for(request, request.user, episode_id)
    found = selectors.episode_entries(request.user, episode)
    shown = [(Entity.EXERCISE_ENTRY, e.entry.pk) for a in found.assignments for e in a.entries if e.answers]
    _audit(request, [(Entity.EPISODE, episode.pk), *shown], Purpose.TREATMENT)
    context = {
        "episode": episode,
        "found": found,
        "can_edit": episodes_for(request.user, write=True).filter(pk=episode.pk).exists(),
        "share_form": ShareForm(practice_id=episode.client.practice_id),
    }
    return render(request, "exercises/episode.html", context)


@require_POST
@clinician_required
def exercise_withdraw(request: AuthenticatedHttpRequest, exercise_id: int) -> HttpResponse:
    assignment = get_assignment_for(request, request.user, exercise_id, write=True)
    try:
        services.exercise_withdraw(actor=request.user, assignment=assignment, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, WITHDRAWN)
    return redirect("episode_between_sessions", assignment.episode_id)


@require_POST
@clinician_required
def reading_share(request: AuthenticatedHttpRequest, episode_id: int) -> HttpResponse:
    episode = get_episode_for(request, request.user, episode_id, write=True)
    form = ShareForm(request.POST, practice_id=episode.client.practice_id)
    if submit(form, services.page_share, actor=request.user, episode=episode, request=request):
        messages.success(request, SHARED)
    else:
        errors = [str(m) for field_errors in form.errors.values() for m in field_errors]
        messages.error(request, " ".join(errors))
    return redirect("episode_between_sessions", episode.pk)


@require_GET
@clinician_required
def library(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = {
        "pages": catalogue.pages().values(),
        "exercises": catalogue.exercises().values(),
        "practice_written": [(w, own.as_exercise(w)) for w in own.written_for(request.user.practice_id)],
        "practice_pages": [
            (w, own_pages.as_page(w)) for w in own_pages.written_for(request.user.practice_id)
        ],
        "can_write": request.user.role == Role.THERAPIST,
    }
    return render(request, "exercises/library.html", context)


@require_http_methods(["GET", "POST"])
@role_required(Role.THERAPIST)
def practice_exercise_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PracticeExerciseForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            own.practice_exercise_write(actor=request.user, request=request, **form.service_kwargs())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, WRITTEN)
            return redirect("library")
    context = {"form": form, "blocks": own.BLOCKS}
    return render(request, "exercises/practice_exercise_new.html", context, status=_status(form))


@require_http_methods(["GET", "POST"])
@role_required(Role.THERAPIST)
def practice_page_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PracticePageForm(_posted(request))
    if request.method == "POST":
        written = submit(form, own_pages.practice_page_write, actor=request.user, request=request)
        if written is not None:
            messages.success(request, PAGE_WRITTEN)
            return redirect("library")
    return render(request, "exercises/practice_page_new.html", {"form": form}, status=_status(form))


@require_POST
@role_required(Role.THERAPIST)
def practice_exercise_retire(request: AuthenticatedHttpRequest, practice_exercise_id: int) -> HttpResponse:
    written = get_practice_exercise_for(request, request.user, practice_exercise_id)
    try:
        own.practice_exercise_retire(actor=request.user, written=written, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, RETIRED)
    return redirect("library")


@require_http_methods(["GET", "POST"])
@client_required
def portal_exercise(request: AuthenticatedHttpRequest, exercise_id: int) -> HttpResponse:
    assignment = get_own_assignment(request, request.user, exercise_id)
    exercise = own.exercise_of(assignment)
    form = EntryForm(_posted(request), exercise=exercise)
    if request.method == "POST" and form.is_valid():
        try:
            services.entry_record(
                actor=request.user, assignment=assignment, request=request, **form.service_kwargs()
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, SAVED)
            return redirect("portal")
    elif request.method == "GET":
        _audit(request, [(Entity.EXERCISE_ASSIGNMENT, assignment.pk)], Purpose.PATIENT_REQUEST)
    context = {"form": form, **presenters.portal_exercise(assignment, exercise)}
    return render(request, "exercises/portal_exercise.html", context, status=_status(form))


@require_GET
@client_required
def portal_reading(request: AuthenticatedHttpRequest, reading_id: int) -> HttpResponse:
    share = get_own_reading(request, request.user, reading_id)
    services.page_read(actor=request.user, share=share, request=request)
    return render(request, "exercises/portal_reading.html", {"page": own_pages.page_of(share)})
