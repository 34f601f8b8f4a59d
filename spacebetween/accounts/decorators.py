"""Who may open which page at all; which records they see is the access helpers' business."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Entity
from spacebetween.audit.services import record_denied

ROLE_DENIED = "This page is not part of your role."

V = TypeVar("V", bound=Callable[..., HttpResponse])


class AuthenticatedHttpRequest(HttpRequest):
    user: User


def role_required(*roles: Role) -> Callable[[V], V]:
    """Signed in with one of `roles`, or 403. The page is the same for everyone, so 403 reveals no record."""

    def decorator(view: V) -> V:
        @wraps(view)
        def wrapper(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.user.role not in roles:
                record_denied(
                    actor=request.user,
                    entity_type=Entity.PAGE,
                    entity_id=request.resolver_match.url_name if request.resolver_match else "",
                    request=request,
                    detail="role",
                )
                raise PermissionDenied(ROLE_DENIED)
            return view(request, *args, **kwargs)

        return cast(V, login_required(wrapper))

    return decorator


clinician_required = role_required(Role.THERAPIST, Role.SUPERVISOR)
client_required = role_required(Role.CLIENT)
admin_required = role_required(Role.ADMIN)
