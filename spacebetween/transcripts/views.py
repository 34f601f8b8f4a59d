"""The session transcript pages: upload, who is who, the coded session (the figures across the
episode are drawn beside the outcome charts by `web.views.episode_transcripts`).

Each page reads the session (or episode) through `clients.access` (404 outside the user's scope, 403
for a supervisor's write) and the transcript through `transcripts.selectors`, which audits the read.
Uploading, mapping speakers and deleting are the treating therapist's (`transcripts.services`)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, clinician_required
from spacebetween.clients.access import get_session_for
from spacebetween.clients.models import Session
from spacebetween.transcripts import presenters, selectors, services
from spacebetween.transcripts.forms import SpeakersForm, UploadForm

UPLOADED = "Transcript read. Say who each speaker is, and it will be coded."
CODED = "Speakers saved; the transcript is coded."
DELETED = "The transcript, its codes and figures are deleted."


@require_http_methods(["GET", "POST"])
@clinician_required
def session_transcript(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = get_session_for(request, request.user, session_id, write=request.method == "POST")
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            data, name = form.read()
            services.transcript_upload(
                actor=request.user, session=session, data=data, filename=name, request=request
            )
            messages.success(request, UPLOADED)
            return redirect("transcript_speakers", session_id=session.pk)
        except ValidationError as exc:
            form.add_service_errors(exc)
    view = selectors.transcript_read(request, request.user, session)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "transcripts/session.html", _session_context(request, session, view, form), status=status
    )


def _session_context(
    request: AuthenticatedHttpRequest,
    session: Session,
    view: selectors.TranscriptView | None,
    form: UploadForm,
) -> dict[str, object]:
    return {
        "view": view,
        "form": form,
        "session": session,
        "episode": session.episode,
        "client": session.episode.client,
        "can_write": session.episode.therapist_id == request.user.pk,
        "estimate": presenters.ESTIMATE,
        "trajectory": _trajectory(view),
    }


def _trajectory(view: selectors.TranscriptView | None) -> presenters.Chart | None:
    if view is None or not view.lsm_windows:
        return None
    labels = [f"part {i + 1} of {len(view.lsm_windows)}" for i in range(len(view.lsm_windows))]
    return presenters.chart("Language style matching across the session", labels, view.lsm_windows, 0.5, 1.0)


@require_http_methods(["GET", "POST"])
@clinician_required
def transcript_speakers(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = get_session_for(request, request.user, session_id, write=True)
    view = selectors.transcript_read(request, request.user, session)
    if view is None:
        return redirect("session_transcript", session_id=session.pk)
    rows = [(s.index, s.name, s.role, f"{s.turns} turns; the first: “{s.example}”") for s in view.speakers]
    form = SpeakersForm(request.POST or None, speakers=rows)
    if request.method == "POST" and form.is_valid():
        try:
            services.transcript_code(actor=request.user, session=session, roles=form.roles(), request=request)
            messages.success(request, CODED)
            return redirect("session_transcript", session_id=session.pk)
        except ValidationError as exc:
            form.add_service_errors(exc)
    context = {"view": view, "form": form, "session": session, "client": session.episode.client}
    return render(
        request, "transcripts/speakers.html", context, status=400 if request.method == "POST" else 200
    )


@require_POST
@clinician_required
def transcript_delete(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = get_session_for(request, request.user, session_id, write=True)
    try:
        services.transcript_delete(actor=request.user, session=session, request=request)
        messages.success(request, DELETED)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("session_transcript", session_id=session.pk)
