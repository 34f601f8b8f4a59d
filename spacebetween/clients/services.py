"""Every change to clients, episodes and sessions: one function each, in one durable transaction,
with its audit row written in the same transaction."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from spacebetween.accounts.invitations import invitation_send
from spacebetween.accounts.models import Role, User
from spacebetween.accounts.services import email_check, user_create
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record
from spacebetween.clients.access import clients_for
from spacebetween.clients.events import course_changed
from spacebetween.clients.models import Attendance, Client, EndReason, Episode, Session, SessionFormat

THERAPIST_REQUIRED = "Only a therapist or supervisor of this practice can be assigned."
OTHER_PRACTICE = "That person belongs to another practice."
END_BEFORE_START = "The end date cannot be before the start date."
END_REASON_REQUIRED = "Give a reason when an episode ends."
END_REASON_WITHOUT_END = "An end reason needs an end date."
EPISODE_ALREADY_ENDED = "This episode has ended; reopen it before adding sessions."
SESSION_BEFORE_EPISODE = "The session is before the episode started."
PARTICIPANT_OTHER_PRACTICE = "Every participant must be a client of this practice."
NAIVE_DATETIME = "Give the session time with its time zone."

CONTACT_NAME_REQUIRED = "Enter the emergency contact's name, or clear their phone number."
CONTACT_PHONE_REQUIRED = "Enter the emergency contact's phone number, or clear their name."
CONTACT_RELATIONSHIP_ALONE = "Enter the emergency contact's name and phone number, or clear the relationship."
CONTACT_PHONE_INVALID = (
    "Enter the emergency contact's phone number using digits; spaces, +, -, ( and ) are allowed."
)
COUNTRY_INVALID = "Enter the country as a two-letter ISO 3166-1 code, such as GB or IE, or leave it blank."

CLIENT_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "email",
    "phone",
    "country",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
)
# The same shapes the practice's crisis resources accept (delivery.services).
_COUNTRY = re.compile(r"[A-Z]{2}")
_PHONE = re.compile(r"\+?[0-9][0-9 ()\-]*")


def _audit(actor: User, action: Action, obj: Client | Episode | Session, request: Any = None) -> None:
    record(
        action=action,
        actor=actor,
        entity_type=Entity(type(obj).__name__),
        entity_id=obj.pk,
        purpose=Purpose.TREATMENT,
        request=request,
    )


def _check_clinician(practice_id: int, therapist: User) -> None:
    if therapist.practice_id != practice_id:
        raise ValidationError({"therapist": OTHER_PRACTICE})
    if therapist.role not in (Role.THERAPIST, Role.SUPERVISOR) or not therapist.is_active:
        raise ValidationError({"therapist": THERAPIST_REQUIRED})


def _check_contact_details(client: Client) -> None:
    """Tidy the country and the emergency contact, and refuse a contact nobody could call: a number
    without a name (who answers?) or a name without a number is no use on the day it is needed
    (the flag page shows it). Every problem at once, on the field it concerns."""
    client.country = client.country.strip().upper()
    client.emergency_contact_name = client.emergency_contact_name.strip()
    client.emergency_contact_relationship = client.emergency_contact_relationship.strip()
    client.emergency_contact_phone = " ".join(client.emergency_contact_phone.split())
    errors: dict[str, str] = {}
    if client.country and not _COUNTRY.fullmatch(client.country):
        errors["country"] = COUNTRY_INVALID
    name, phone = client.emergency_contact_name, client.emergency_contact_phone
    if phone and not _PHONE.fullmatch(phone):
        errors["emergency_contact_phone"] = CONTACT_PHONE_INVALID
    elif phone and not name:
        errors["emergency_contact_name"] = CONTACT_NAME_REQUIRED
    if name and not phone:
        errors["emergency_contact_phone"] = CONTACT_PHONE_REQUIRED
    if client.emergency_contact_relationship and not (name or phone):
        errors["emergency_contact_relationship"] = CONTACT_RELATIONSHIP_ALONE
    if errors:
        raise ValidationError(errors)


def client_create(
    *, actor: User, primary_therapist: User | None = None, request: Any = None, **fields: Any
) -> Client:
    primary_therapist = primary_therapist or actor
    _check_clinician(actor.practice_id, primary_therapist)
    client = Client(practice_id=actor.practice_id, primary_therapist=primary_therapist, **fields)
    _check_contact_details(client)
    client.full_clean()
    with transaction.atomic(durable=True):
        client.save()
        _audit(actor, Action.CREATE, client, request)
    return client


def client_update(*, actor: User, client: Client, request: Any = None, **fields: Any) -> Client:
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise ValueError(f"not client fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(client, name, value)
    _check_contact_details(client)
    client.full_clean()
    with transaction.atomic(durable=True):
        client.save(update_fields=[*fields])
        _audit(actor, Action.UPDATE, client, request)
    return client


def _check_episode_dates(started_on: dt.date, ended_on: dt.date | None, end_reason: str) -> None:
    if ended_on is not None and ended_on < started_on:
        raise ValidationError({"ended_on": END_BEFORE_START})
    if ended_on is not None and not end_reason:
        raise ValidationError({"end_reason": END_REASON_REQUIRED})
    if ended_on is None and end_reason:
        raise ValidationError({"end_reason": END_REASON_WITHOUT_END})
    if end_reason and end_reason not in EndReason.values:
        raise ValidationError({"end_reason": f"{end_reason!r} is not a known end reason."})


def episode_open(
    *,
    actor: User,
    client: Client,
    referral_reason: str,
    started_on: dt.date,
    therapist: User | None = None,
    shared_for_supervision: bool = False,
    request: Any = None,
) -> Episode:
    therapist = therapist or actor
    _check_clinician(client.practice_id, therapist)
    _check_episode_dates(started_on, None, "")
    episode = Episode(
        client=client,
        therapist=therapist,
        referral_reason=referral_reason,
        started_on=started_on,
        shared_for_supervision=shared_for_supervision,
    )
    episode.full_clean()
    with transaction.atomic(durable=True):
        episode.save()
        _audit(actor, Action.CREATE, episode, request)
    return episode


def episode_update(
    *,
    actor: User,
    episode: Episode,
    referral_reason: str,
    started_on: dt.date,
    ended_on: dt.date | None,
    end_reason: str,
    shared_for_supervision: bool,
    request: Any = None,
) -> Episode:
    """Edit an episode; setting an end date with its reason ends it, clearing both reopens it."""
    _check_episode_dates(started_on, ended_on, end_reason)
    episode.referral_reason = referral_reason
    episode.started_on = started_on
    episode.ended_on = ended_on
    episode.end_reason = end_reason
    episode.shared_for_supervision = shared_for_supervision
    episode.full_clean()
    with transaction.atomic(durable=True):
        episode.save()
        _audit(actor, Action.UPDATE, episode, request)
        course_changed.send(__name__, episode_id=episode.pk)  # insights: its signals are stale
    return episode


def episode_close(
    *, actor: User, episode: Episode, ended_on: dt.date, end_reason: str, request: Any = None
) -> Episode:
    return episode_update(
        actor=actor,
        episode=episode,
        referral_reason=episode.referral_reason,
        started_on=episode.started_on,
        ended_on=ended_on,
        end_reason=end_reason,
        shared_for_supervision=episode.shared_for_supervision,
        request=request,
    )


def _check_session(episode: Episode, starts_at: dt.datetime, participants: list[Client]) -> None:
    if starts_at.tzinfo is None:
        raise ValidationError({"starts_at": NAIVE_DATETIME})
    if starts_at.date() < episode.started_on - dt.timedelta(days=1):
        raise ValidationError({"starts_at": SESSION_BEFORE_EPISODE})
    if any(p.practice_id != episode.client.practice_id for p in participants):
        raise ValidationError({"participants": PARTICIPANT_OTHER_PRACTICE})


def session_create(
    *,
    actor: User,
    episode: Episode,
    starts_at: dt.datetime,
    duration_minutes: int = 50,
    format: str = SessionFormat.INDIVIDUAL,
    attendance: str = Attendance.SCHEDULED,
    participants: Iterable[Client] | None = None,
    request: Any = None,
) -> Session:
    people = list(participants) if participants is not None else [episode.client]
    if episode.ended_on is not None:
        raise ValidationError({"starts_at": EPISODE_ALREADY_ENDED})
    _check_session(episode, starts_at, people)
    session = Session(
        episode=episode,
        starts_at=starts_at.astimezone(dt.UTC),
        duration_minutes=duration_minutes,
        format=format,
        attendance=attendance,
    )
    session.full_clean()
    with transaction.atomic(durable=True):
        session.save()
        session.participants.set(people)
        _audit(actor, Action.CREATE, session, request)
        course_changed.send(__name__, episode_id=session.episode_id)
    return session


def session_update(
    *,
    actor: User,
    session: Session,
    starts_at: dt.datetime,
    duration_minutes: int,
    format: str,
    attendance: str,
    participants: Iterable[Client],
    request: Any = None,
) -> Session:
    people = list(participants)
    _check_session(session.episode, starts_at, people)
    session.starts_at = starts_at.astimezone(dt.UTC)
    session.duration_minutes = duration_minutes
    session.format = format
    session.attendance = attendance
    session.full_clean()
    with transaction.atomic(durable=True):
        session.save()
        session.participants.set(people)
        _audit(actor, Action.UPDATE, session, request)
        course_changed.send(__name__, episode_id=session.episode_id)
    return session


PORTAL_ALREADY = "This client already has a portal login."
PORTAL_USER_ROLE = "A portal login must be a client account of the same practice."


def client_portal_link(*, actor: User, client: Client, portal_user: User, request: Any = None) -> Client:
    """Give a client their portal login (an account with the client role in the same practice)."""
    if client.portal_user_id is not None:
        raise ValidationError({"portal_user": PORTAL_ALREADY})
    if portal_user.role != Role.CLIENT or portal_user.practice_id != client.practice_id:
        raise ValidationError({"portal_user": PORTAL_USER_ROLE})
    client.portal_user = portal_user
    with transaction.atomic(durable=True):
        client.save(update_fields=["portal_user"])
        _audit(actor, Action.UPDATE, client, request)
    return client


PORTAL_NO_EMAIL = "Add the client's email address first: the invitation goes there."
PORTAL_IN_USE = "This client already has a portal login and has chosen a password."
PORTAL_NOT_YOURS = "Only the client's treating therapist can invite them to the portal."


def portal_invite(*, actor: User, client: Client, request: Any = None) -> Client:
    """Invite a client to the portal: a client account without a password, linked to the record, and an
    invitation e-mailed to the client's address, whose link lets them choose their own password. Again
    for a client who has not chosen one yet (the older link stops working). An address that already has
    an account (anyone's) gets one generic refusal that names no account."""
    if not clients_for(actor, write=True).filter(pk=client.pk).exists():
        raise ValidationError(PORTAL_NOT_YOURS)
    client = Client.objects.select_related("practice", "portal_user").get(pk=client.pk)  # as it is now
    if not client.email:
        raise ValidationError({"email": PORTAL_NO_EMAIL})
    if client.portal_user is None:  # refused (and audited) before the transaction, which would undo it
        email_check(practice=client.practice, email=client.email, actor=actor, request=request)
    with transaction.atomic(durable=True):
        portal_user = client.portal_user
        if portal_user is not None and (portal_user.has_usable_password() or not portal_user.is_active):
            raise ValidationError(PORTAL_IN_USE)
        if portal_user is None:
            portal_user = user_create(
                practice=client.practice,
                email=client.email,
                full_name=client.display_name,
                role=Role.CLIENT,
                password=None,
                actor=actor,
                request=request,
            )
            client.portal_user = portal_user
            client.save(update_fields=["portal_user"])
            _audit(actor, Action.UPDATE, client, request)
        invitation_send(user=portal_user, actor=actor, request=request)
    return client
