"""The therapist withdraws a questionnaire that the client has not answered yet (a button beside it on
the client record). The link stops working; what the client saved is kept, and a risk answer they
send afterwards is still read and flagged (docs/safety.md)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, clinician_required
from spacebetween.answering import services
from spacebetween.answering.access import get_assignment_for

WITHDRAWN = (
    "The questionnaire is withdrawn and its link no longer works. Anything the client saved is kept, and "
    "a risk answer they still send is flagged for you."
)


@require_POST
@clinician_required
def assignment_withdraw(request: AuthenticatedHttpRequest, assignment_id: int) -> HttpResponse:
    """The treating therapist only (`answering.services.assignment_revoke`; a supervisor who may read
    the episode is refused with 403); anyone outside the episode gets 404."""
    assignment = get_assignment_for(request, request.user, assignment_id)
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
