"""Who may manage staff accounts: the practice admin, for the staff of their own practice only.

Everyone else gets 404 (the page's existence, and another practice's staff, are never revealed),
and every denial is audited. Views reach staff accounts only through these helpers.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from spacebetween.accounts.models import STAFF_ROLES, Role, User
from spacebetween.audit.models import Entity
from spacebetween.audit.services import record_denied

NOT_FOUND = "Not found."


def staff_for(user: User) -> QuerySet[User]:
    """The staff accounts `user` may manage: all staff of their practice if they are its admin."""
    if user.is_authenticated and user.is_active and user.role == Role.ADMIN:
        return User.objects.filter(practice_id=user.practice_id, role__in=STAFF_ROLES)
    return User.objects.none()


def managed_staff(request: HttpRequest, pk: int | None = None) -> QuerySet[User]:
    """The staff the signed-in user manages (narrowed to `pk` when given); 404 and an audit row when
    they may manage none, or not that one."""
    user = request.user
    assert isinstance(user, User)
    staff = staff_for(user)
    if pk is not None:
        staff = staff.filter(pk=pk)
    if user.role != Role.ADMIN or (pk is not None and not staff.exists()):
        record_denied(
            actor=user,
            entity_type=Entity.USER,
            entity_id=pk if pk is not None else "staff-list",
            request=request,
            detail="not-in-scope",
        )
        raise Http404(NOT_FOUND)
    return staff


def managed_member(request: HttpRequest, pk: int) -> User:
    return managed_staff(request, pk).select_related("practice", "supervisor", "proposed_supervisor").get()
