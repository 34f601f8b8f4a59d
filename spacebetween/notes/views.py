"""The session notes pages and the practice's note templates.

A note page reads the session through `clients.access` (404 outside the user's scope, 403 for a
supervisor's write) and the note through `notes.selectors.note_read`, which audits the read and
refuses (404, audited) a process note not shared with the reader."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, admin_required, clinician_required
from spacebetween.clients.access import get_session_for
from spacebetween.clients.models import Session
from spacebetween.notes import selectors, services
from spacebetween.notes.forms import NoteForm, TemplateForm
from spacebetween.notes.models import NoteKind

SAVED = {
    "save": "Draft saved.",
    "sign": "Note signed. It can no longer be changed; add an addendum if something needs adding.",
    "addendum": "Addendum added and signed.",
    "share": "This note is now shared with your supervisor.",
    "unshare": "This note is no longer shared with your supervisor.",
}
TEMPLATE_SAVED = "Template saved. New notes start with its headings."
NO_TEMPLATE = "Choose which template to save."


@require_http_methods(["GET", "POST"])
@clinician_required
def progress_note(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    return _note_page(request, session_id, NoteKind.PROGRESS)


@require_http_methods(["GET", "POST"])
@clinician_required
def process_note(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    return _note_page(request, session_id, NoteKind.PROCESS)


def _note_page(request: AuthenticatedHttpRequest, session_id: int, kind: str) -> HttpResponse:
    session = get_session_for(request, request.user, session_id, write=request.method == "POST")
    form = NoteForm(request.POST if request.method == "POST" else None)
    if form.is_bound and _act(request, session, kind, form):
        if request.POST.get("autosave") == "1":
            return HttpResponse(status=204)
        messages.success(request, SAVED[form.cleaned_data["action"]])
        return redirect(request.path)
    view = selectors.note_read(request, request.user, session, kind)
    context = {"view": view, "form": form, "episode": session.episode, "client": session.episode.client}
    return render(request, "notes/note.html", context, status=400 if form.is_bound else 200)


def _act(request: AuthenticatedHttpRequest, session: Session, kind: str, form: NoteForm) -> bool:
    if not form.is_valid():
        return False
    try:
        services.note_action(
            actor=request.user, session=session, kind=kind, request=request, **form.cleaned_data
        )
    except ValidationError as exc:
        form.add_service_errors(exc)
        return False
    return True


@require_http_methods(["GET", "POST"])
@admin_required
def note_templates(request: AuthenticatedHttpRequest) -> HttpResponse:
    posted = request.POST.get("kind", "")
    forms = {}
    for kind in NoteKind.values:
        current = selectors.template_for(request.user.practice_id, kind)
        initial = {"name": current.name, "headings": "\n".join(current.headings)}
        forms[kind] = TemplateForm(request.POST if kind == posted else None, prefix=kind, initial=initial)
    if request.method == "POST" and posted in forms and _save_template(request, forms[posted]):
        messages.success(request, TEMPLATE_SAVED)
        return redirect("note_templates")
    error = NO_TEMPLATE if request.method == "POST" and posted not in forms else ""
    context = {"forms": [(NoteKind(k).label, k, f) for k, f in forms.items()], "error": error}
    return render(request, "notes/templates.html", context, status=400 if request.method == "POST" else 200)


def _save_template(request: AuthenticatedHttpRequest, form: TemplateForm) -> bool:
    if not form.is_valid():
        return False
    try:
        services.note_template_save(actor=request.user, request=request, **form.service_kwargs())  # type: ignore[arg-type]
    except ValidationError as exc:
        form.add_service_errors(exc)
        return False
    return True
