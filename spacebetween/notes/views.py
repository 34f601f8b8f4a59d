"""The session notes pages, the practice's note templates and Socratic questions, a session's plan
(questions pinned, ticked when asked) and an episode's supervision notes.

A note page reads the session through `clients.access` (404 outside the user's scope, 403 for a
supervisor's write) and the note through `notes.selectors.note_read`, which audits the read and
refuses (404, audited) a process note not shared with the reader."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, admin_required, clinician_required
from spacebetween.clients.access import get_episode_for, get_session_for
from spacebetween.clients.models import Episode, Session
from spacebetween.notes import selectors, services
from spacebetween.notes.forms import (
    NoteForm,
    ServiceErrors,
    SessionQuestionsForm,
    SocraticQuestionsForm,
    SupervisionNoteForm,
    TemplateForm,
)
from spacebetween.notes.models import NoteKind, QuestionPurpose

SAVED = {
    "save": "Draft saved.",
    "sign": "Note signed. It can no longer be changed; add an addendum if something needs adding.",
    "addendum": "Addendum added and signed.",
    "share": "This note is now shared with your supervisor.",
    "unshare": "This note is no longer shared with your supervisor.",
}
TEMPLATE_SAVED = "Template saved. New notes start with its headings."
SUPERVISION_SAVED = "Supervision note saved. The therapist sees it on this episode's notes."
LIBRARY_SAVED = "Questions saved. Sessions already planned keep the questions they have."
QUESTIONS_SAVED = {
    "pin": "Questions pinned to this session's plan.",
    "tick": "Questions asked saved.",
    "unpin": "Question taken off the plan.",
}
NO_TEMPLATE = "Choose which template to save."
NO_PURPOSE = "Choose which group of questions to save."


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
    context["supervision"] = selectors.supervision_notes(request, request.user, session.episode)
    context["questions"] = selectors.session_questions(session) if kind == NoteKind.PROGRESS else []
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


def _service(form: ServiceErrors, call: Callable[[], object]) -> bool:
    """Run a service for a bound form; its refusal shown on the form."""
    form.is_valid()
    try:
        call()
    except ValidationError as exc:
        form.add_service_errors(exc)
        return False
    return not form.errors


@require_http_methods(["GET", "POST"])
@clinician_required
def supervision_notes(request: AuthenticatedHttpRequest, episode_id: int) -> HttpResponse:
    """An episode shared for supervision: what the therapist shared, and the supervisor's notes."""
    episode = get_episode_for(request, request.user, episode_id)
    form = SupervisionNoteForm(request.POST if request.method == "POST" else None)
    if form.is_bound and _service(form, lambda: _add_supervision(request, episode)):
        messages.success(request, SUPERVISION_SAVED)
        return redirect(request.path)
    context = {
        "episode": episode,
        "client": episode.client,
        "form": form,
        "notes": selectors.supervision_notes(request, request.user, episode),
        "sessions": selectors.episode_session_notes(request.user, episode),
        "can_write": selectors.supervises(request.user, episode),
    }
    return render(request, "notes/supervision.html", context, status=400 if form.is_bound else 200)


def _add_supervision(request: AuthenticatedHttpRequest, episode: Episode) -> object:
    body = request.POST.get("body", "")
    return services.supervision_note_add(actor=request.user, episode=episode, body=body, request=request)


@require_http_methods(["GET", "POST"])
@clinician_required
def session_questions(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    """A session's plan: Socratic questions pinned from the practice's library, ticked when asked."""
    session = get_session_for(request, request.user, session_id, write=request.method == "POST")
    form = SessionQuestionsForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid() and _service(form, lambda: _questions_call(request, session, form)):
        messages.success(request, QUESTIONS_SAVED[form.cleaned_data["action"]])
        back = form.cleaned_data.get("back") == "note"
        return redirect("progress_note" if back else "session_questions", session.pk)
    context = {
        "session": session,
        "episode": session.episode,
        "client": session.episode.client,
        "form": form,
        "questions": selectors.session_questions(session),
        "library": selectors.questions_library(session.episode.client.practice_id),
        "can_write": session.episode.therapist_id == request.user.pk,
    }
    return render(request, "notes/session_questions.html", context, status=400 if form.is_bound else 200)


def _questions_call(
    request: AuthenticatedHttpRequest, session: Session, form: SessionQuestionsForm
) -> object:
    name, kwargs = form.service_call()
    return getattr(services, name)(actor=request.user, session=session, request=request, **kwargs)


@require_http_methods(["GET", "POST"])
@admin_required
def socratic_questions(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The practice's library of Socratic questions, one form per purpose."""
    posted = request.POST.get("purpose", "")
    forms = {}
    for group in selectors.questions_library(request.user.practice_id):
        data = request.POST if group.purpose == posted else None
        initial = {"questions": "\n".join(group.questions)}
        forms[group.purpose] = SocraticQuestionsForm(data, prefix=group.purpose, initial=initial)
    if (
        request.method == "POST"
        and posted in forms
        and _service(forms[posted], lambda: _save_library(request, forms[posted]))
    ):
        messages.success(request, LIBRARY_SAVED)
        return redirect("socratic_questions")
    error = NO_PURPOSE if request.method == "POST" and posted not in forms else ""
    context = {"forms": [(QuestionPurpose(p).label, p, f) for p, f in forms.items()], "error": error}
    return render(
        request, "notes/socratic_questions.html", context, status=400 if request.method == "POST" else 200
    )


def _save_library(request: AuthenticatedHttpRequest, form: SocraticQuestionsForm) -> object:
    questions = form.data.get(f"{form.prefix}-questions", "").splitlines()
    return services.socratic_questions_save(
        actor=request.user, purpose=str(form.prefix), questions=questions, request=request
    )
