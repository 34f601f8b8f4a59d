"""Session timeouts and the MFA gate, enforced on the server for every request."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from spacebetween.accounts import signin
from spacebetween.accounts.models import User

# Reachable while only the password is done.
MFA_OPEN_ROUTES = ("mfa_enrol", "mfa_verify", "logout")


def session_limits(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Staff: 15 minutes idle, 12 hours absolute; clients: their own limits (settings.*_TIMEOUT_SECONDS).
    An expired session is flushed and the user sent to sign in again (HIPAA 164.312(a)(2)(iii))."""

    def middleware(request: HttpRequest) -> HttpResponse:
        user = request.user
        if isinstance(user, User) and user.is_authenticated:
            reason = signin.session_expiry(request, user)
            if reason is not None:
                signin.session_expire(request=request, user=user, reason=reason)
                return redirect_to_login(request.path if request.method == "GET" else "")
        return get_response(request)

    return middleware


def require_mfa(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """A password-only session reaches nothing but the MFA pages, logout and static files."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if signin.mfa_pending(request) and not _open_while_mfa_pending(request.path):
            user = request.user
            assert isinstance(user, User)
            return redirect("mfa_verify" if signin.mfa_confirmed(user) else "mfa_enrol")
        return get_response(request)

    return middleware


def _open_while_mfa_pending(path: str) -> bool:
    static = settings.STATIC_URL or "/static/"
    return path.startswith(static) or path in {reverse(name) for name in MFA_OPEN_ROUTES}
