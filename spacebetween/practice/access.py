"""Practice settings pages are the admin's: everyone else gets 404 and an audit row."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Action, Outcome
from spacebetween.audit.services import record

NOT_FOUND = "Not found."


def practice_admin(request: HttpRequest, entity_type: str) -> User:
    """The signed-in practice admin, or 404 (audited) for anyone else."""
    user = request.user
    if isinstance(user, User) and user.is_active and user.role == Role.ADMIN:
        return user
    record(
        action=Action.READ,
        event_type="access-denied",
        actor=user if isinstance(user, User) else None,
        entity_type=entity_type,
        outcome=Outcome.MINOR_FAILURE,
        request=request,
        detail="not-in-scope",
    )
    raise Http404(NOT_FOUND)
