"""Who may reach which questionnaire assignment, following `clients.access`: an assignment on an
episode the user may read, anything else 404 with an audited denial (existence is never revealed).
Whether the user may *change* it is the service's rule (`answering.services.assignment_revoke`)."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from spacebetween.accounts.models import User
from spacebetween.audit.models import Entity
from spacebetween.audit.services import record_denied
from spacebetween.clients.access import NOT_FOUND, episodes_for
from spacebetween.measures.models import Assignment


def get_assignment_for(request: HttpRequest | None, user: User, pk: int) -> Assignment:
    assignment = (
        Assignment.objects.select_related("episode").filter(pk=pk, episode__in=episodes_for(user)).first()
    )
    if assignment is None:
        record_denied(
            actor=user, entity_type=Entity.ASSIGNMENT, entity_id=pk, detail="not-in-scope", request=request
        )
        raise Http404(NOT_FOUND)
    return assignment
