"""Who may open a client's data-rights page: the treating therapist (everything) and the admin of the
client's practice (export and erasure, no clinical page). Anyone else: 404, or 403 to a supervisor
who may read the record; audited like every denial (clients.access)."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Entity
from spacebetween.audit.services import record_denied
from spacebetween.clients.access import NOT_FOUND, get_client_for
from spacebetween.clients.models import Client


def get_client_for_rights(request: HttpRequest | None, user: User, pk: int) -> Client:
    if user.role != Role.ADMIN:
        return get_client_for(request, user, pk, write=True)
    client = Client.objects.filter(pk=pk, practice_id=user.practice_id).first()
    if client is None:
        record_denied(
            actor=user, entity_type=Entity.CLIENT, entity_id=pk, request=request, detail="not-in-scope"
        )
        raise Http404(NOT_FOUND)
    return client
