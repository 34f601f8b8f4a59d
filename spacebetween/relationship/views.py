"""The therapist's side of a session: the reflection (treating therapist only), the rupture note and the
transference themes (the treating therapist writes; a supervisor reads them on an episode shared for
supervision). A supervisor's write is 403, anyone else 404, through `clients.access`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, admin_required, clinician_required
from spacebetween.audit.models import Entity, Purpose
from spacebetween.audit.services import record_reads
from spacebetween.clients.access import get_session_for
from spacebetween.clients.models import Session
from spacebetween.relationship import selectors, services
from spacebetween.relationship.forms import (
    LabelMergeForm,
    LabelRenameForm,
    ReflectionForm,
    RuptureNoteForm,
    ThemeForm,
)
from spacebetween.relationship.measures import NOT_VALIDATED, SESSION_RATING, therapist_alliance_instrument
from spacebetween.ui.forms import submit

REFLECTION_SAVED = "Your reflection on the session is saved."
RUPTURE_SAVED = "The rupture note is saved. It is on the timeline under the space-between chart."
THEME_ADDED = "The theme is added to the session."
THEME_REMOVED = "The theme is removed from the session."
LABEL_RENAMED = "The label is renamed; every session tagged with it shows the new name."
LABELS_MERGED = "The labels are merged; the tags moved to the label kept."
NO_ACTION = "Choose to rename a label or to merge two; nothing was changed."


@require_http_methods(["GET", "POST"])
@clinician_required
def session_reflection(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = get_session_for(request, request.user, session_id, write=True)
    instrument = therapist_alliance_instrument(session.episode.client.practice)
    if request.method == "POST":
        form = ReflectionForm(request.POST, instrument=instrument)
        if form.is_valid():
            try:
                services.reflection_record(
                    actor=request.user, session=session, request=request, **form.service_kwargs()
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, REFLECTION_SAVED)
                return redirect("client_detail", session.episode.client_id)
    else:
        initial = selectors.reflection_read(request, request.user, session)
        form = ReflectionForm(initial=initial, instrument=instrument)
    context = {"form": form, "session": session, "episode": session.episode, "instrument": instrument}
    context |= {"session_rating": SESSION_RATING, "not_validated": NOT_VALIDATED}
    return render(request, "relationship/reflection_form.html", context)


def _reads(request: AuthenticatedHttpRequest, entities: list[tuple[Entity, object]]) -> None:
    with transaction.atomic():
        record_reads(actor=request.user, entities=entities, purpose=Purpose.TREATMENT, request=request)


def _timeline_url(session: Session) -> str:
    return reverse("client_detail", args=[session.episode.client_id]) + f"#timeline-{session.episode_id}"


@require_http_methods(["GET", "POST"])
@clinician_required
def rupture_note(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    posted = request.method == "POST"
    session = get_session_for(request, request.user, session_id, write=posted)
    existing = selectors.rupture_note_for(request.user, session.pk)
    form = RuptureNoteForm(request.POST if posted else None, initial=existing.initial() if existing else {})
    if posted:
        saved = submit(form, services.rupture_note_save, actor=request.user, session=session, request=request)
        if saved is not None:
            messages.success(request, RUPTURE_SAVED)
            return redirect(_timeline_url(session))
    else:
        shown = (Entity.RUPTURE_NOTE, existing.note.pk) if existing else (Entity.SESSION, session.pk)
        _reads(request, [shown])
    context = {
        "form": form,
        "session": session,
        "episode": session.episode,
        "existing": existing,
        "may_write": session.episode.therapist_id == request.user.pk,
        "back": _timeline_url(session),
    }
    return render(request, "relationship/rupture_note.html", context, status=400 if form.errors else 200)


def _themes_page(
    request: AuthenticatedHttpRequest, session: Session, form: ThemeForm, *, error: str = ""
) -> HttpResponse:
    themes = selectors.session_themes(request.user, session.pk)
    if request.method == "GET":
        _reads(request, [(Entity.SESSION_THEME, t.pk) for t in themes] or [(Entity.SESSION, session.pk)])
    context = {
        "form": form,
        "error": error,
        "session": session,
        "episode": session.episode,
        "themes": themes,
        "labels": selectors.theme_labels(session.episode.client.practice),
        "may_write": session.episode.therapist_id == request.user.pk,
        "back": _timeline_url(session),
    }
    status = 400 if form.errors or error else 200
    return render(request, "relationship/session_themes.html", context, status=status)


@require_http_methods(["GET", "POST"])
@clinician_required
def session_themes(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    posted = request.method == "POST"
    session = get_session_for(request, request.user, session_id, write=posted)
    form = ThemeForm(request.POST if posted else None)
    tag = (
        submit(form, services.theme_tag, actor=request.user, session=session, request=request)
        if posted
        else None
    )
    if tag is not None:
        messages.success(request, THEME_ADDED)
        return redirect("session_themes", session.pk)
    return _themes_page(request, session, form)


@require_POST
@clinician_required
def session_theme_remove(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = get_session_for(request, request.user, session_id, write=True)
    tag = request.POST.get("tag", "")
    try:
        services.theme_untag(
            actor=request.user, session=session, tag_id=int(tag) if tag.isdigit() else None, request=request
        )
    except ValidationError as exc:
        return _themes_page(request, session, ThemeForm(), error=exc.messages[0])
    messages.success(request, THEME_REMOVED)
    return redirect("session_themes", session.pk)


@require_http_methods(["GET", "POST"])
@admin_required
def theme_labels(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The practice's theme labels: rename one, or merge one into another (the admin's, as the note
    templates and the Socratic questions are). The forms post; a label never goes in a URL."""
    uses = selectors.label_list(request.user.practice_id)
    labels = [use.label for use in uses]
    action = request.POST.get("action", "") if request.method == "POST" else ""
    rename = LabelRenameForm(request.POST if action == "rename" else None, labels=labels, prefix="rename")
    merge = LabelMergeForm(request.POST if action == "merge" else None, labels=labels, prefix="merge")
    done = None
    if action == "rename":
        done = submit(rename, services.theme_label_rename, actor=request.user, request=request)
    elif action == "merge":
        done = submit(merge, services.theme_label_merge, actor=request.user, request=request)
    if done is not None:
        messages.success(request, LABEL_RENAMED if action == "rename" else LABELS_MERGED)
        return redirect("theme_labels")
    error = NO_ACTION if request.method == "POST" and action not in ("rename", "merge") else ""
    context = {"uses": uses, "rename": rename, "merge": merge, "error": error}
    return render(
        request, "relationship/theme_labels.html", context, status=400 if request.method == "POST" else 200
    )
