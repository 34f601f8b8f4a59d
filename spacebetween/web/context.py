from typing import Any

from django.conf import settings
from django.http import HttpRequest

from spacebetween.accounts.models import Role

# The main navigation per role: (url name, label). Pages a role may not open are not offered.
NAV_BY_ROLE: dict[str, list[tuple[str, str]]] = {
    Role.THERAPIST: [("caseload", "Caseload"), ("client_new", "Add client")],
    Role.SUPERVISOR: [("caseload", "Caseload"), ("client_new", "Add client")],
    Role.CLIENT: [("portal", "My page")],
    Role.ADMIN: [("practice_overview", "Practice")],
}


def site(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    match = getattr(request, "resolver_match", None)
    return {
        "PRODUCTION": settings.PRODUCTION,
        "NAV": NAV_BY_ROLE.get(user.role, []) if signed_in else [],
        "CURRENT_URL_NAME": match.url_name if match else "",
        # Dates and times on every page are shown in the practice's time zone (base.html applies it).
        "PRACTICE_TIME_ZONE": user.practice.time_zone if signed_in else settings.TIME_ZONE,
    }
