"""The treating therapist sends a questionnaire now, or sends one again, from the client page
(`delivery.sending`). Both answer with a message on the client page; a refusal changes nothing."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, clinician_required
from spacebetween.audit.models import Entity
from spacebetween.audit.services import record_denied
from spacebetween.clients.access import NOT_FOUND, episodes_for, get_episode_for
from spacebetween.delivery import selectors, sending
from spacebetween.delivery.forms import SendForm, errors_of
from spacebetween.measures.models import Assignment

SENT = {
    "email": "The questionnaire is sent: the client gets one email with one link for it and the "
    "session's other open questionnaires. An earlier link to them no longer works.",
    "portal": "The questionnaire is waiting in the client's portal; they get a sign-in reminder by email.",
}
SENT_AGAIN = "Sent again. Any earlier link to it no longer works."


def _back(episode_id: int, client_id: int) -> HttpResponse:
    return redirect(f"{reverse('client_detail', args=[client_id])}#measures-{episode_id}")


@require_POST
@clinician_required
def questionnaire_send(request: AuthenticatedHttpRequest, episode_id: int) -> HttpResponse:
    """Anyone but the treating therapist: 404 outside the episode, 403 for a supervisor who reads it."""
    episode = get_episode_for(request, request.user, episode_id, write=True)
    choices = selectors.send_choices_for_episode(episode)
    form = SendForm(request.POST, episode=episode, instruments=choices.instruments, ways=choices.ways)
    try:
        if not form.is_valid():
            raise ValidationError(errors_of(form))
        sending.questionnaire_send(actor=request.user, episode=episode, request=request, **form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, SENT[form.cleaned_data["way"]])
    return _back(episode.pk, episode.client_id)


@require_POST
@clinician_required
def assignment_send_again(request: AuthenticatedHttpRequest, assignment_id: int) -> HttpResponse:
    found = Assignment.objects.select_related("episode__client", "session")
    assignment = found.filter(pk=assignment_id, episode__in=episodes_for(request.user)).first()
    if assignment is None:
        record_denied(actor=request.user, entity_type=Entity.ASSIGNMENT, entity_id=assignment_id,
                      detail="not-in-scope", request=request)  # fmt: skip
        raise Http404(NOT_FOUND)
    try:
        sending.assignment_send_again(actor=request.user, assignment=assignment, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, SENT_AGAIN)
    return _back(assignment.episode_id, assignment.episode.client_id)
