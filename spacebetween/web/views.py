"""The clinical pages. Each view parses, calls one operation (an access helper, selector or service),
and renders. Records are fetched only through `spacebetween.clients.access`, so another practice's or
colleague's record is 404 and a supervisor's write is 403; every page that shows a record audits the
read (GET only: a refused form writes nothing, not even an audit row)."""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from spacebetween.accounts.decorators import (
    AuthenticatedHttpRequest,
    admin_required,
    client_required,
    clinician_required,
)
from spacebetween.accounts.models import Role
from spacebetween.audit.models import Entity, Purpose
from spacebetween.audit.services import record_reads
from spacebetween.clients import selectors, services
from spacebetween.clients.access import clients_for, get_client_for, get_episode_for, get_session_for
from spacebetween.clients.forms import ClientForm, EpisodeForm, EpisodeOpenForm, SessionForm
from spacebetween.clients.models import Client, Episode, Session
from spacebetween.delivery.selectors import send_choices
from spacebetween.insights.presenters import episode_views
from spacebetween.insights.selectors import caseload_by_need
from spacebetween.measures.selectors import episode_measures, instruments_for, open_questionnaires_for_client
from spacebetween.relationship.selectors import reflection_status
from spacebetween.safety.plans import current_plan
from spacebetween.safety.selectors import (
    caseload_risk_flags,
    risk_history_for,
    risk_item_unanswered,
    unreachable_flags,
)
from spacebetween.transcripts import presenters as transcript_figures
from spacebetween.transcripts import selectors as transcripts
from spacebetween.ui.forms import submit

HOME_BY_ROLE = {
    Role.THERAPIST: "caseload",
    Role.SUPERVISOR: "caseload",
    Role.CLIENT: "portal",
    Role.ADMIN: "practice_overview",
}
CLIENT_ADDED = "Client added."
CLIENT_SAVED = "Client details saved."
EPISODE_OPENED = "Episode opened."
EPISODE_SAVED = "Episode saved."
PORTAL_INVITED = "Invitation sent: the client chooses their password from the link we emailed them."
SESSION_ADDED = "Session scheduled."
SESSION_SAVED = "Session saved."
# Sessions and questionnaires shown per episode on the client page: the latest ten, so that the page
# costs the same however long the course (docs/performance.md); the episode page has them all.
RECENT_ROWS = 10


def _audit_read(
    request: AuthenticatedHttpRequest,
    *entities: Client | Episode | Session | Entity,
    purpose: Purpose = Purpose.TREATMENT,
) -> None:
    """One read event per record shown (or per named page for lists); ids only, never content."""
    shown = [
        (entity, "") if isinstance(entity, Entity) else (Entity(type(entity).__name__), entity.pk)
        for entity in entities
    ]
    with transaction.atomic():
        record_reads(actor=request.user, entities=shown, purpose=purpose, request=request)


def _posted(request: HttpRequest) -> QueryDict | None:
    """The submitted data on POST (even when empty, so that it is validated), None on GET."""
    return request.POST if request.method == "POST" else None


@require_GET
@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    return redirect(HOME_BY_ROLE[Role(request.user.role)])


@require_GET
@clinician_required
def caseload(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = selectors.caseload_page(request.user)
    # Reads the stored signals; an episode whose new answers the worker has not yet taken in is
    # computed in memory for this view, so the order of need is never behind (a GET writes no signal).
    needs = caseload_by_need(request.user, page.own + page.supervised, practice=request.user.practice)
    risk_flags = caseload_risk_flags(request.user)
    _audit_read(request, Entity.CASELOAD)
    context = {
        "page": page,
        "own_needs": [n for n in needs if n.episode.therapist_id == request.user.pk],
        "supervised_needs": [n for n in needs if n.episode.therapist_id != request.user.pk],
        "risk_flags": risk_flags,
    }
    return render(request, "web/caseload.html", context)


@require_GET
@clinician_required
def client_detail(request: AuthenticatedHttpRequest, client_id: int) -> HttpResponse:
    client = get_client_for(request, request.user, client_id)
    client_record = selectors.client_record(request.user, client, recent=RECENT_ROWS)
    episodes, practice = client_record.episodes, client.practice
    reflections = reflection_status(request.user, episodes)
    _audit_read(request, client, *episodes)
    available = instruments_for(practice)  # once for the page: plans, charts and the send form
    context = {
        "record": client_record,
        "reflection_status": reflections,
        "episode_measures": episode_measures(episodes, practice, recent=RECENT_ROWS, available=available),
        "insight_views": episode_views(request.user, episodes, practice, instruments=available),
        # Only the episodes this clinician may read: a supervisor sees the history of shared ones.
        "risk_history": risk_history_for(episodes),
        "risk_unanswered": risk_item_unanswered(episodes),
        "send_choices": send_choices(client, episodes, client_record.editable_episode_ids, available),
    }
    return render(request, "web/client_detail.html", context)


@require_GET
@clinician_required
def episode_transcripts(request: AuthenticatedHttpRequest, episode_id: int) -> HttpResponse:
    """The coded transcripts' figures across the episode, beside its outcome and alliance charts: all
    count sessions the same way (`clients.selectors.attended_sessions`), so a change in how the two
    speak can be read against what the client reports. The figures only, never a transcript's words."""
    episode = get_episode_for(request, request.user, episode_id)
    points = transcripts.episode_points(request, request.user, episode)
    _audit_read(request, episode)
    context = {
        "episode": episode,
        "client": episode.client,
        "points": points,
        "charts": transcript_figures.episode_charts(points),
        "estimate": transcript_figures.ESTIMATE,
        "insight_views": episode_views(request.user, [episode], episode.client.practice),
    }
    return render(request, "web/episode_transcripts.html", context)


@require_GET
@clinician_required
def episode_history(request: AuthenticatedHttpRequest, episode_id: int) -> HttpResponse:
    """Everything in one episode: all its sessions, reflections and questionnaires (the client page
    shows the latest few of each)."""
    episode = get_episode_for(request, request.user, episode_id)
    history = selectors.client_record(request.user, episode.client, episode_id=episode.pk)
    _audit_read(request, episode)
    context = {
        "record": history,
        "episode": history.episodes[0],
        "reflection_status": reflection_status(request.user, history.episodes),
        "episode_measures": episode_measures(history.episodes, episode.client.practice),
        "risk_unanswered": risk_item_unanswered(history.episodes),
    }
    return render(request, "web/episode_history.html", context)


@require_http_methods(["GET", "POST"])
@clinician_required
def client_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ClientForm(_posted(request))
    if request.method == "POST":
        client = submit(form, services.client_create, actor=request.user, request=request)
        if client is not None:
            messages.success(request, CLIENT_ADDED)
            return redirect("client_detail", client.pk)
    return render(request, "web/client_form.html", {"form": form, "client": None})


@require_http_methods(["GET", "POST"])
@clinician_required
def client_edit(request: AuthenticatedHttpRequest, client_id: int) -> HttpResponse:
    client = get_client_for(request, request.user, client_id, write=True)
    form = ClientForm(_posted(request), initial=model_to_dict(client, fields=services.CLIENT_FIELDS))
    if request.method == "POST":
        if submit(form, services.client_update, actor=request.user, client=client, request=request):
            messages.success(request, CLIENT_SAVED)
            return redirect("client_detail", client.pk)
    else:
        _audit_read(request, client)
    return render(request, "web/client_form.html", {"form": form, "client": client})


@require_POST
@clinician_required
def client_portal_invite(request: AuthenticatedHttpRequest, client_id: int) -> HttpResponse:
    """Invite the client to the portal by e-mail (treating therapist only: a supervisor gets 403)."""
    client = get_client_for(request, request.user, client_id, write=True)
    try:
        services.portal_invite(actor=request.user, client=client, request=request)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, PORTAL_INVITED)
    return redirect("client_detail", client.pk)


@require_http_methods(["GET", "POST"])
@clinician_required
def episode_new(request: AuthenticatedHttpRequest, client_id: int) -> HttpResponse:
    client = get_client_for(request, request.user, client_id, write=True)
    form = EpisodeOpenForm(_posted(request))
    if request.method == "POST":
        episode = submit(form, services.episode_open, actor=request.user, client=client, request=request)
        if episode is not None:
            messages.success(request, EPISODE_OPENED)
            return redirect("client_detail", client.pk)
    else:
        _audit_read(request, client)
    return render(request, "web/episode_form.html", {"form": form, "client": client, "episode": None})


@require_http_methods(["GET", "POST"])
@clinician_required
def episode_edit(request: AuthenticatedHttpRequest, episode_id: int) -> HttpResponse:
    episode = get_episode_for(request, request.user, episode_id, write=True)
    form = EpisodeForm(_posted(request), initial=model_to_dict(episode, fields=list(EpisodeForm.base_fields)))
    if request.method == "POST":
        if submit(form, services.episode_update, actor=request.user, episode=episode, request=request):
            messages.success(request, EPISODE_SAVED)
            return redirect("client_detail", episode.client_id)
    else:
        _audit_read(request, episode)
    context = {"form": form, "client": episode.client, "episode": episode}
    return render(request, "web/episode_form.html", context)


def _session_form(
    request: AuthenticatedHttpRequest, episode: Episode, session: Session | None
) -> SessionForm:
    """Participants are offered from the clients this clinician may change; times are the practice's."""
    initial = {}
    if session is not None:
        others = session.participants.exclude(pk=episode.client_id)
        initial = {**model_to_dict(session, exclude=["participants"]), "participants": others}
    candidates = clients_for(request.user, write=True)
    tz = zoneinfo.ZoneInfo(request.user.practice.time_zone)
    return SessionForm(
        _posted(request), initial=initial, episode=episode, candidates=candidates, time_zone=tz
    )


@require_http_methods(["GET", "POST"])
@clinician_required
def session_new(request: AuthenticatedHttpRequest, episode_id: int) -> HttpResponse:
    episode = get_episode_for(request, request.user, episode_id, write=True)
    form = _session_form(request, episode, None)
    if request.method == "POST":
        if submit(form, services.session_create, actor=request.user, episode=episode, request=request):
            messages.success(request, SESSION_ADDED)
            return redirect("client_detail", episode.client_id)
    else:
        _audit_read(request, episode)
    return render(request, "web/session_form.html", {"form": form, "episode": episode, "session": None})


@require_http_methods(["GET", "POST"])
@clinician_required
def session_edit(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = get_session_for(request, request.user, session_id, write=True)
    form = _session_form(request, session.episode, session)
    if request.method == "POST":
        if submit(form, services.session_update, actor=request.user, session=session, request=request):
            messages.success(request, SESSION_SAVED)
            return redirect("client_detail", session.episode.client_id)
    else:
        _audit_read(request, session)
    context = {"form": form, "episode": session.episode, "session": session}
    return render(request, "web/session_form.html", context)


@require_GET
@client_required
def portal(request: AuthenticatedHttpRequest) -> HttpResponse:
    own = selectors.portal_record(request.user)
    if own.client is not None:
        # A client reading their own record: HL7 PurposeOfUse "patient requested".
        _audit_read(request, own.client, purpose=Purpose.PATIENT_REQUEST)
    questionnaires = open_questionnaires_for_client(request.user)
    # Only whether there is one, to link it; the plan's own page audits reading it.
    has_plan = own.client is not None and current_plan(own.client) is not None
    context = {"own": own, "questionnaires": questionnaires, "has_safety_plan": has_plan}
    return render(request, "web/portal.html", context)


@require_GET
@admin_required
def practice_overview(request: AuthenticatedHttpRequest) -> HttpResponse:
    overview = selectors.practice_overview(request.user)
    _audit_read(request, Entity.PRACTICE_OVERVIEW, purpose=Purpose.OPERATIONS)
    context = {
        "overview": overview,
        # Open flags nobody can be reached for: how many and when only (no clinical content for
        # the admin); those passed on to this admin, with the client's name (docs/safety.md).
        "unreachable": unreachable_flags(request.user.practice_id),
        "risk_flags": caseload_risk_flags(request.user),
    }
    return render(request, "web/practice_overview.html", context)
