"""The therapist's reflection on a session: treating therapist only (a supervisor's write is 403,
anyone else 404, through `clients.access`)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, clinician_required
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record
from spacebetween.clients.access import get_session_for
from spacebetween.relationship import selectors, services
from spacebetween.relationship.forms import ReflectionForm
from spacebetween.relationship.measures import NOT_VALIDATED, SESSION_RATING, therapist_alliance_instrument

REFLECTION_SAVED = "Your reflection on the session is saved."


@require_http_methods(["GET", "POST"])
@clinician_required
def session_reflection(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = get_session_for(request, request.user, session_id, write=True)
    instrument = therapist_alliance_instrument(session.episode.client.practice)
    if request.method == "POST":
        form = ReflectionForm(request.POST, instrument=instrument)
        if form.is_valid():
            try:
                services.reflection_record(
                    actor=request.user, session=session, request=request, **form.service_kwargs()
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, REFLECTION_SAVED)
                return redirect("client_detail", session.episode.client_id)
    else:
        with transaction.atomic():
            existing = selectors.reflection_for(request.user, session.pk)
            record(
                action=Action.READ,
                actor=request.user,
                entity_type=Entity.SESSION_REFLECTION if existing else Entity.SESSION,
                entity_id=existing.reflection.pk if existing else session.pk,
                purpose=Purpose.TREATMENT,
                request=request,
            )
        initial = {}
        if existing is not None:
            r = existing.reflection
            initial = {**r.answers, "feelings": r.feelings, "intensity": r.intensity, "note": existing.note}
            initial["share_with_supervisor"] = r.shared_with_supervisor
        form = ReflectionForm(initial=initial, instrument=instrument)
    context = {
        "form": form,
        "session": session,
        "episode": session.episode,
        "instrument": instrument,
        "session_rating": SESSION_RATING,
        "not_validated": NOT_VALIDATED,
    }
    return render(request, "relationship/reflection_form.html", context)
