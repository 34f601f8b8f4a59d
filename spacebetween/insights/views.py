"""The client progress report (PDF) and the practice's insight rules. Thin: access through the
clients/access helpers, reads through selectors, writes through services."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, admin_required, clinician_required
from spacebetween.clients.access import get_client_for
from spacebetween.insights import selectors, services
from spacebetween.insights.forms import InsightSettingsForm
from spacebetween.insights.pdf import render_pdf
from spacebetween.insights.report import AUDIENCES, may_change, report_html
from spacebetween.ui.forms import submit

# The client's copy and the session copy are the treating therapist's to make; a supervisor may
# print the supervision copy of an episode shared with them.
TREATING_ONLY = frozenset({"session", "client"})
SETTINGS_SAVED = "Insight rules saved; every open episode's signals were recomputed."


def refit_message(report: services.FitReport) -> str:
    done = [f"{i} on {n} completed episodes" for i, n in sorted(report.fitted.items())]
    waiting = [
        f"{i} ({have} of {need} completed episodes)" for i, (have, need) in sorted(report.not_enough.items())
    ]
    parts = []
    if done:
        parts.append("Expected ranges refitted: " + "; ".join(done) + ".")
    if waiting:
        parts.append("Not enough data yet for: " + "; ".join(waiting) + ".")
    return " ".join(parts) or "No outcome measures with completed episodes yet: nothing to fit."


@require_GET
@clinician_required
def client_report(request: AuthenticatedHttpRequest, client_id: int) -> HttpResponse:
    client = get_client_for(request, request.user, client_id)
    audience = request.GET.get("audience", "session")
    if audience not in AUDIENCES:
        return HttpResponse(
            f"Unknown report audience; choose one of: {', '.join(AUDIENCES)}.",
            status=400,
            content_type="text/plain",
        )
    if audience in TREATING_ONLY and not may_change(request.user, client):
        raise PermissionDenied("Only the treating therapist can make this report.")
    include_checkins = audience == "session" and request.GET.get("checkins") == "include"
    pdf = render_pdf(report_html(request, client, audience, include_checkins=include_checkins))
    services.report_made(
        actor=request.user, client=client, audience=audience, checkins=include_checkins, request=request
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    # The file name carries no name or health data: only the record's number and the audience.
    response["Content-Disposition"] = f'attachment; filename="progress-report-{client.pk}-{audience}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@admin_required
def insight_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    current = selectors.insight_settings(request.user.practice)
    initial = {name: getattr(current, name) for name in services.SETTINGS_FIELDS}
    if request.method == "POST" and "refit" in request.POST:
        report = services.refresh_practice(request.user.practice, refit=True, actor=request.user)
        messages.success(request, refit_message(report.fit))
        return redirect("insight_settings")
    form = InsightSettingsForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST":
        saved = submit(form, services.settings_save, actor=request.user, request=request)
        if saved is not None:
            messages.success(request, SETTINGS_SAVED)
            return redirect("insight_settings")
    fits = selectors.fit_summaries(request.user.practice)
    return render(request, "insights/settings.html", {"form": form, "fits": fits})
