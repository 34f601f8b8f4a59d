"""Who may see and change which part of the clinical record: one helper per protected model.

Deny by default. A therapist sees their own caseload (clients they are primary therapist for, or
treat in an episode); a supervisor additionally sees the episodes their supervisees share for
supervision, read-only; an admin sees no clinical record; a client sees only their own. Anything
outside the user's practice, or outside their rights, is 404 — existence is never revealed. A
read-only viewer asking to write gets 403. Every denial is audited.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Entity
from spacebetween.audit.services import record_denied
from spacebetween.clients.models import Client, Episode, Session

M = TypeVar("M", Client, Episode, Session)

NOT_FOUND = "Not found."
READ_ONLY = "You can see this record for supervision but not change it."


def _episode_scope(user: User, *, write: bool) -> Q:
    """Episodes the user may see (write=False) or change (write=True)."""
    if user.role in (Role.THERAPIST, Role.SUPERVISOR):
        own = Q(therapist_id=user.pk)
        if write or user.role == Role.THERAPIST:
            return own
        return own | Q(shared_for_supervision=True, therapist__supervisor_id=user.pk)
    if user.role == Role.CLIENT and not write:
        return Q(client__portal_user_id=user.pk)
    return Q(pk__in=[])


def episodes_for(user: User, *, write: bool = False) -> QuerySet[Episode]:
    return Episode.objects.filter(_episode_scope(user, write=write), client__practice_id=user.practice_id)


def clients_for(user: User, *, write: bool = False) -> QuerySet[Client]:
    if user.role in (Role.THERAPIST, Role.SUPERVISOR):
        scope = Q(primary_therapist_id=user.pk) | Q(
            pk__in=episodes_for(user, write=write).values("client_id")
        )
    elif user.role == Role.CLIENT and not write:
        scope = Q(portal_user_id=user.pk)
    else:
        return Client.objects.none()
    return Client.objects.filter(scope, practice_id=user.practice_id)


def sessions_for(user: User, *, write: bool = False) -> QuerySet[Session]:
    return Session.objects.filter(episode__in=episodes_for(user, write=write))


def _deny(
    request: HttpRequest | None, user: User, entity_type: Entity, pk: object, *, forbidden: bool
) -> None:
    record_denied(
        actor=user,
        entity_type=entity_type,
        entity_id=pk,
        request=request,
        detail="read-only" if forbidden else "not-in-scope",
    )
    if forbidden:
        raise PermissionDenied(READ_ONLY)
    raise Http404(NOT_FOUND)


def _fetch(
    request: HttpRequest | None,
    user: User,
    model: type[M],
    scope: QuerySet[M],
    read_scope: QuerySet[M] | None,
    pk: int,
) -> M:
    obj = scope.filter(pk=pk).first()
    if obj is not None:
        return obj
    # 403 only to someone who may already read the object; everyone else learns nothing.
    forbidden = read_scope is not None and read_scope.filter(pk=pk).exists()
    _deny(request, user, Entity(model.__name__), pk, forbidden=forbidden)
    raise AssertionError("unreachable")


def get_client_for(request: HttpRequest | None, user: User, pk: int, *, write: bool = False) -> Client:
    scope = clients_for(user, write=write).select_related("practice")
    return _fetch(request, user, Client, scope, clients_for(user) if write else None, pk)


def get_episode_for(request: HttpRequest | None, user: User, pk: int, *, write: bool = False) -> Episode:
    scope = episodes_for(user, write=write).select_related("client", "therapist")
    return _fetch(request, user, Episode, scope, episodes_for(user) if write else None, pk)


def get_session_for(request: HttpRequest | None, user: User, pk: int, *, write: bool = False) -> Session:
    scope = sessions_for(user, write=write).select_related("episode", "episode__client")
    return _fetch(request, user, Session, scope, sessions_for(user) if write else None, pk)
