from typing import Any

from django.conf import settings
from django.http import HttpRequest

from spacebetween.accounts.models import Role, User

# The main navigation per role: (url name, label). Pages a role may not open are not offered.
_CLINICIAN_NAV = [
    ("caseload", "Caseload"),
    ("client_new", "Add client"),
    ("search", "Search"),
    ("password_change", "Password"),
]
NAV_BY_ROLE: dict[str, list[tuple[str, str]]] = {
    Role.THERAPIST: [*_CLINICIAN_NAV[:3], ("supervision", "Supervision"), _CLINICIAN_NAV[3]],
    Role.SUPERVISOR: _CLINICIAN_NAV,
    Role.CLIENT: [("portal", "My page"), ("password_change", "Password")],
    Role.ADMIN: [
        ("practice_overview", "Practice"),
        ("practice_settings", "Settings"),
        ("audit_log", "Audit log"),
        ("outbox", "E-mail outbox"),
        ("practice_outcomes", "Outcomes"),
        ("staff_list", "Staff"),
        ("instrument_settings", "Instruments"),
        ("practice_plan", "Measurement plan"),
        ("insight_settings", "Insight rules"),
        ("crisis_resources", "Crisis resources"),
        ("risk_settings", "Risk settings"),
        ("retention_settings", "Data retention"),
        ("api_keys", "API keys"),
        ("password_change", "Password"),
    ],
}


def site(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    context: dict[str, Any] = {
        "PRODUCTION": settings.PRODUCTION,
        "NAV": [],
        "CURRENT_URL_NAME": match.url_name if match else "",
        # Dates and times on every page are shown in the practice's time zone (base.html applies it).
        "PRACTICE_TIME_ZONE": settings.TIME_ZONE,
    }
    if isinstance(user, User) and user.is_authenticated:
        context["NAV"] = NAV_BY_ROLE.get(user.role, [])
        context["PRACTICE_TIME_ZONE"] = user.practice.time_zone
        # A supervisor proposed by the admin waits for this therapist's answer (accounts.services).
        context["SUPERVISION_PROPOSED"] = user.proposed_supervisor_id is not None
    return context
