"""The client progress report (PDF) and the practice's insight rules. Thin: access through the
clients/access helpers, reads through selectors, writes through services."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods

from spacebetween import clock
from spacebetween.accounts.decorators import AuthenticatedHttpRequest, admin_required, clinician_required
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record
from spacebetween.clients.access import clients_for, get_client_for
from spacebetween.clients.models import Client
from spacebetween.clients.selectors import client_record
from spacebetween.exercises.selectors import between_sessions_for
from spacebetween.insights import selectors, services
from spacebetween.insights.forms import InsightSettingsForm
from spacebetween.insights.pdf import render_pdf
from spacebetween.insights.presenters import episode_views
from spacebetween.ui.forms import submit

AUDIENCES = {
    "session": "for the session",
    "supervision": "for supervision",
    "client": "for the client",
}
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


def age_on(born: dt.date | None, day: dt.date) -> int | None:
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def report_html(
    request: AuthenticatedHttpRequest, client: Client, audience: str, *, include_checkins: bool = False
) -> str:
    """The report as HTML (what `render_pdf` turns into the PDF): for `audience` in AUDIENCES, checked by
    the caller. `include_checkins` is the treating therapist's choice to put their counter-transference
    check-ins in a copy for the session; the supervision copy has the ones they shared, the client's
    none. The supervision copy holds the episodes shared for supervision only, whoever makes it: the
    treating therapist's own copy for their supervisor shows no more than the supervisor may read."""
    client_page = client_record(request.user, client)
    if audience == "supervision":
        shared = [e for e in client_page.episodes if e.shared_for_supervision]
        client_page = dataclasses.replace(client_page, episodes=shared)
    views = episode_views(
        request.user,
        client_page.episodes,
        client.practice,
        report=audience,
        include_checkins=include_checkins and audience == "session",
    )
    made_on = clock.now()
    # What was set and read between sessions, per episode the copy holds: counts and dates only, never
    # an entry's content (docs/between-sessions.md, "The report").
    between = between_sessions_for(request.user, client_page.episodes, now=made_on)
    return render_to_string(
        "insights/report.html",
        {
            "record": client_page,
            "insight_views": views,
            "between_sessions": list(between.items()),
            "audience": audience,
            "audience_label": AUDIENCES[audience],
            "made_on": made_on,
            "made_by": request.user,
            "practice": client.practice,
            "checkins_shown": sum(view.checkins_shown for _, view in views),
            "age": age_on(client.date_of_birth, made_on.date()),
        },
        request=request,
    )


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
    can_edit = clients_for(request.user, write=True).filter(pk=client.pk).exists()
    if audience in TREATING_ONLY and not can_edit:
        raise PermissionDenied("Only the treating therapist can make this report.")
    include_checkins = audience == "session" and request.GET.get("checkins") == "include"
    html = report_html(request, client, audience, include_checkins=include_checkins)
    pdf = render_pdf(html)
    record(
        action=Action.READ,
        event_type="export",
        actor=request.user,
        entity_type=Entity.CLIENT,
        entity_id=client.pk,
        purpose=Purpose.TREATMENT,
        request=request,
        detail=f"progress report {audience}" + (" with check-ins" if include_checkins else ""),
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
