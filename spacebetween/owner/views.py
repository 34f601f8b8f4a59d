"""The owner's pages, admin only: the audit log (filtered, paged, exported as CSV; every view and
export audited), the e-mail outbox (subjects, recipients and states; never bodies), and the practice's
settings on one page."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, admin_required
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record
from spacebetween.owner import selectors, services
from spacebetween.owner.forms import NOT_A_CLIENT, AuditFilterForm, PracticeDetailsForm
from spacebetween.ui.forms import submit

EVENTS_PER_PAGE = 50
MESSAGES_PER_PAGE = 50
CSV_COLUMNS = (
    "seq",
    "recorded_at_utc",
    "event_type",
    "action",
    "outcome",
    "actor_id",
    "actor",
    "entity_type",
    "entity_id",
    "purpose",
    "detail",
    "source_address",
)
SAVED_DETAILS = "Saved the practice's name, country and time zone."


def _audited(
    request: AuthenticatedHttpRequest, entity: Entity, detail: str, event_type: str = "rest"
) -> None:
    record(
        action=Action.READ,
        event_type=event_type,
        actor=request.user,
        entity_type=entity,
        purpose=Purpose.OPERATIONS,
        request=request,
        detail=detail,
    )


def _audit_filter(request: AuthenticatedHttpRequest) -> tuple[AuditFilterForm, selectors.AuditFilter | None]:
    """The filter form bound to the query string, and the filter when it is valid."""
    practice = request.user.practice
    form = AuditFilterForm(request.GET, people=selectors.practice_people(practice))
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    if data["client"] is not None and selectors.practice_client(practice, data["client"]) is None:
        form.add_error("client", NOT_A_CLIENT)
        return form, None
    wanted = selectors.AuditFilter(
        person=data["person"],
        client=data["client"],
        action=data["action"],
        since=data["since"],
        until=data["until"],
    )
    return form, wanted


@admin_required
@require_GET
def audit_log(request: AuthenticatedHttpRequest) -> HttpResponse:
    form, wanted = _audit_filter(request)
    context: dict[str, Any] = {"form": form, "query": _query_without_page(request)}
    if wanted is None:
        return render(request, "owner/audit_log.html", context, status=400)
    page = Paginator(selectors.audit_events(request.user.practice, wanted), EVENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    names = selectors.people_names(request.user.practice)
    context.update(page=page, rows=list(selectors.audit_rows(list(page.object_list), names)))
    context["client"] = wanted.client and selectors.practice_client(request.user.practice, wanted.client)
    _audited(request, Entity.AUDIT_LOG, f"viewed page {page.number}")
    return render(request, "owner/audit_log.html", context)


@admin_required
@require_GET
def audit_log_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    form, wanted = _audit_filter(request)
    if wanted is None:
        context = {"form": form, "query": _query_without_page(request)}
        return render(request, "owner/audit_log.html", context, status=400)
    events = selectors.audit_events(request.user.practice, wanted)
    _audited(request, Entity.AUDIT_LOG, f"exported {events.count()} rows", event_type="export")
    rows = selectors.audit_rows(
        events.iterator(chunk_size=2000), selectors.people_names(request.user.practice)
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    response.writelines(_csv_lines(rows))
    return response


@admin_required
@require_GET
def outbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    view = request.GET.get("show", "")
    view = view if view in selectors.OUTBOX_VIEWS else ""
    practice = request.user.practice
    page = Paginator(selectors.outbox_messages(practice, view), MESSAGES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = selectors.outbox_rows(list(page.object_list), practice.time_zone)
    _audited(request, Entity.OUTBOX, f"viewed {view or 'all'} page {page.number}")
    context = {"page": page, "rows": rows, "view": view, "views": selectors.OUTBOX_VIEWS, **selectors.QUIET}
    return render(request, "owner/outbox.html", context)


@admin_required
@require_http_methods(["GET", "POST"])
def practice_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    practice = request.user.practice
    initial = {"name": practice.name, "country": practice.country, "time_zone": practice.time_zone}
    form = PracticeDetailsForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST":
        if submit(form, services.practice_details_save, actor=request.user, request=request) is not None:
            messages.success(request, SAVED_DETAILS)
            return redirect("practice_settings")
    else:
        _audited(request, Entity.PRACTICE_SETTINGS, "viewed")
    context = {"settings": selectors.practice_settings(practice), "form": form}
    return render(request, "owner/settings.html", context, status=400 if form.is_bound else 200)


def _query_without_page(request: AuthenticatedHttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


class _Echo:
    def write(self, value: str) -> str:
        return value


# A cell that starts like a formula is read as one by spreadsheets (CSV injection): quote it.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _csv_lines(rows: Iterator[selectors.AuditRow]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for row in rows:
        yield writer.writerow(
            [
                _cell(v)
                for v in (
                    row.seq,
                    row.recorded_at.isoformat(),
                    row.event_type,
                    row.action,
                    row.outcome,
                    row.actor_id,
                    row.actor,
                    row.entity,
                    row.entity_id,
                    row.purpose,
                    row.detail,
                    row.source_address,
                )
            ]
        )
