"""The therapist withdraws a questionnaire that the client has not answered yet (a button beside it on
the client record). The link stops working; what the client saved is kept, and a risk answer they
send afterwards is still read and flagged (docs/safety.md)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, clinician_required
from spacebetween.answering import services
from spacebetween.audit.models import Entity
from spacebetween.audit.services import record_denied
from spacebetween.clients.access import NOT_FOUND, episodes_for
from spacebetween.measures.models import Assignment

WITHDRAWN = (
    "The questionnaire is withdrawn and its link no longer works. Anything the client saved is kept, and "
    "a risk answer they still send is flagged for you."
)


@require_POST
@clinician_required
def assignment_withdraw(request: AuthenticatedHttpRequest, assignment_id: int) -> HttpResponse:
    """The treating therapist only (`answering.services.assignment_revoke`; a supervisor who may read
    the episode is refused with 403); anyone outside the episode gets 404."""
    assignment = (
        Assignment.objects.select_related("episode")
        .filter(pk=assignment_id, episode__in=episodes_for(request.user))
        .first()
    )
    if assignment is None:
        record_denied(
            actor=request.user,
            entity_type=Entity.ASSIGNMENT,
            entity_id=assignment_id,
            detail="not-in-scope",
            request=request,
        )
        raise Http404(NOT_FOUND)
    try:
        services.assignment_revoke(actor=request.user, assignment=assignment, request=request)
    except PermissionDenied:
        raise
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, WITHDRAWN)
    url = reverse("client_detail", args=[assignment.episode.client_id])
    return redirect(f"{url}#measures-{assignment.episode_id}")
