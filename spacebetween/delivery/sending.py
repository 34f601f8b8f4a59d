"""Writes: the treating therapist sends a questionnaire now, or sends one again (docs/measurement-loop.md,
"Sending a questionnaire now").

A questionnaire goes by e-mail link or to the client portal, for one of the episode's sessions or on
its own. By e-mail, the link carries every open questionnaire of that session, so the client gets one
e-mail per session and answers them in turn (`services.link_send`). Sending again an open one
replaces its link (the old link's page says it was replaced); sending again an expired one asks for it
anew, in the same way as before.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from spacebetween import clock
from spacebetween.accounts.models import User
from spacebetween.answering.services import assignment_create, require_episode_writer
from spacebetween.clients.models import Client, Episode, Session
from spacebetween.consent.selectors import email_allowed, measurement_allowed
from spacebetween.delivery.models import QuestionnaireLink
from spacebetween.delivery.services import NO_EMAIL_CONSENT, OPEN_STATUSES, link_send
from spacebetween.measures.models import Assignment, AssignmentStatus

SEND_NOT_ALLOWED = "Only the episode's therapist can send its questionnaires."
NO_EMAIL = "The client has no usable email address on record, so no link can be emailed."
NO_PORTAL = "The client has no portal login; send the questionnaire by email instead."
UNKNOWN_WAY = "Choose how to send it: by email link or to the portal."
ALREADY_WAITING = (
    "This questionnaire is already waiting for the client{for_session}; use Send again beside it to "
    "send a new link."
)
NOT_AGAIN = "An answered or withdrawn questionnaire cannot be sent again; send a new one."
NO_MEASUREMENT_CONSENT = (
    "The client has withdrawn consent to questionnaires, so none can be sent. Their consent is recorded "
    "on their data rights page."
)


class Way(StrEnum):
    EMAIL = "email"
    PORTAL = "portal"


def _check_way(client: Client, way: str) -> None:
    if not measurement_allowed(client):  # checked before anything is written
        raise ValidationError(NO_MEASUREMENT_CONSENT)
    if way == Way.EMAIL:
        try:
            validate_email(client.email)
        except ValidationError as exc:
            raise ValidationError(NO_EMAIL) from exc
        if not email_allowed(client):  # checked before anything is written
            raise ValidationError(NO_EMAIL_CONSENT)
    elif way == Way.PORTAL:
        if client.portal_user_id is None:
            raise ValidationError(NO_PORTAL)
    else:
        raise ValidationError(UNKNOWN_WAY)


def _check_not_waiting(
    episode: Episode, instrument_id: str, session: Session | None, when: dt.datetime
) -> None:
    waiting = Assignment.objects.filter(
        episode=episode,
        instrument_id=instrument_id,
        session=session,
        status__in=OPEN_STATUSES,
        expires_at__gt=when,
    )
    if waiting.exists():
        raise ValidationError(ALREADY_WAITING.format(for_session=" for this session" if session else ""))


def questionnaire_send(
    *,
    actor: User,
    episode: Episode,
    instrument_id: str,
    way: str,
    session: Session | None = None,
    now: dt.datetime | None = None,
    request: Any = None,
) -> Assignment:
    """Ask the episode's client now for `instrument_id` (any instrument the practice uses), for
    `session` or on its own, open for 7 days; by email link (with the session's other open
    questionnaires, one email) or to the portal (the worker sends the sign-in reminder). Refused,
    writing nothing: not the treating therapist, an ended episode, an instrument not in use, a session
    of another episode, a way the client cannot be reached, or the same questionnaire already waiting."""
    when = now or clock.now()
    require_episode_writer(actor, episode, detail="send-questionnaire", refusal=SEND_NOT_ALLOWED)
    _check_way(episode.client, way)
    _check_not_waiting(episode, instrument_id, session, when)
    assignment = assignment_create(
        actor=actor,
        episode=episode,
        instrument_id=instrument_id,
        due_at=when,
        now=when,
        request=request,
        session=session,
    )
    if way == Way.EMAIL:
        link_send(actor=actor, assignment=assignment, now=when, request=request)
        assignment.refresh_from_db()
    return assignment


def assignment_send_again(
    *, actor: User, assignment: Assignment, now: dt.datetime | None = None, request: Any = None
) -> Assignment:
    """Send a questionnaire again. Still open: a new email link, which replaces the old one (with the
    other open questionnaires of its session). Expired: the same questionnaire asked anew, for the
    same session, by email when it went by link before (or the client has no portal login), else to
    the portal; returns the new assignment. Answered or withdrawn: refused."""
    when = now or clock.now()
    episode = assignment.episode
    require_episode_writer(actor, episode, detail="send-questionnaire-again", refusal=SEND_NOT_ALLOWED)
    if assignment.status in OPEN_STATUSES and when < assignment.expires_at:
        _check_way(episode.client, Way.EMAIL)
        link_send(actor=actor, assignment=assignment, now=when, request=request)
        return assignment
    if assignment.status not in (*OPEN_STATUSES, AssignmentStatus.EXPIRED):
        raise ValidationError(NOT_AGAIN)
    by_link = (
        QuestionnaireLink.objects.filter(assignment=assignment).exists() or assignment.link_steps.exists()
    )
    way = Way.EMAIL if by_link or episode.client.portal_user_id is None else Way.PORTAL
    return questionnaire_send(
        actor=actor,
        episode=episode,
        instrument_id=assignment.instrument_id,
        way=way,
        session=assignment.session,
        now=when,
        request=request,
    )
