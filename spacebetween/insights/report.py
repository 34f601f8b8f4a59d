"""What the client progress report shows (the HTML that `insights.pdf.render_pdf` turns into the PDF),
for the report page (`insights.views.client_report`) and the record export (`rights.export`)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.template.loader import render_to_string

from spacebetween import clock
from spacebetween.accounts.decorators import AuthenticatedHttpRequest
from spacebetween.accounts.models import User
from spacebetween.clients.access import clients_for
from spacebetween.clients.models import Client
from spacebetween.clients.selectors import client_record
from spacebetween.exercises.selectors import between_sessions_for
from spacebetween.insights.presenters import episode_views

AUDIENCES = {
    "session": "for the session",
    "supervision": "for supervision",
    "client": "for the client",
}


def age_on(born: dt.date | None, day: dt.date) -> int | None:
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def may_change(user: User, client: Client) -> bool:
    """Whether the user treats the client (may change the record), not only read it."""
    return clients_for(user, write=True).filter(pk=client.pk).exists()


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
