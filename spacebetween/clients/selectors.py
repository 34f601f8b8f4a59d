"""Reads for the clinical pages, each a fixed number of queries whatever the caseload size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Min, OuterRef, Prefetch, Q, QuerySet, Subquery

from spacebetween.accounts.models import User
from spacebetween.clients.access import clients_for, episodes_for
from spacebetween.clients.models import Attendance, Client, Episode, Session


def caseload(user: User, *, now: dt.datetime | None = None) -> QuerySet[Episode]:
    """The user's active episodes, each annotated with its next scheduled session and sessions attended."""
    now = now or dt.datetime.now(dt.UTC)
    upcoming = Session.objects.filter(
        episode=OuterRef("pk"), starts_at__gte=now, attendance=Attendance.SCHEDULED
    ).order_by("starts_at")
    return (
        episodes_for(user)
        .filter(ended_on__isnull=True)
        .select_related("client", "therapist")
        .annotate(
            next_session_at=Subquery(upcoming.values("starts_at")[:1]),
            sessions_attended=Count("sessions", filter=Q(sessions__attendance=Attendance.ATTENDED)),
        )
        .order_by("client__family_name", "client__given_name", "pk")
    )


def clients_without_active_episode(user: User) -> QuerySet[Client]:
    """Clients the user is responsible for who have no open episode (e.g. just registered)."""
    return (
        clients_for(user, write=True)
        .exclude(episodes__ended_on__isnull=True, episodes__isnull=False)
        .order_by("family_name", "given_name")
    )


@dataclass(frozen=True)
class ClientRecord:
    client: Client
    episodes: list[Episode]
    can_edit: bool


def client_record(user: User, client: Client) -> ClientRecord:
    """The client page: episodes visible to this user with their sessions and participants."""
    sessions = Session.objects.order_by("starts_at").prefetch_related("participants")
    episodes = list(
        episodes_for(user)
        .filter(client=client)
        .select_related("therapist")
        .prefetch_related(Prefetch("sessions", queryset=sessions))
        .annotate(first_session_at=Min("sessions__starts_at"))
    )
    can_edit = clients_for(user, write=True).filter(pk=client.pk).exists()
    return ClientRecord(client=client, episodes=episodes, can_edit=can_edit)
