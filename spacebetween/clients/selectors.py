"""Reads for the clinical pages, each a fixed number of queries whatever the caseload size."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min, OuterRef, Prefetch, Q, QuerySet, Subquery

from spacebetween import clock
from spacebetween.accounts.models import CLINICAL_ROLES, Role, User
from spacebetween.clients.access import clients_for, episodes_for, sessions_for
from spacebetween.clients.models import Attendance, Client, Episode, Session

ADMIN_ONLY = "Only a practice admin can see the practice overview."
PORTAL_UPCOMING_LIMIT = 20


def attended_sessions(episode_ids: Iterable[int]) -> dict[int, list[tuple[int, dt.datetime]]]:
    """Per episode, its attended sessions as (session id, start), oldest first, in one query. The n-th
    is the episode's session n: the number every chart of the episode counts by (outcomes, the
    relationship, transcript figures), so that they line up; a cancelled, missed or not yet marked
    session has no number."""
    found: dict[int, list[tuple[int, dt.datetime]]] = {pk: [] for pk in episode_ids}
    rows = (
        Session.objects.filter(episode_id__in=list(found), attendance=Attendance.ATTENDED)
        .order_by("episode_id", "starts_at", "pk")
        .values_list("pk", "episode_id", "starts_at")
    )
    for sid, episode_id, starts_at in rows:
        found[episode_id].append((sid, starts_at))
    return found


def caseload(user: User, *, now: dt.datetime | None = None) -> QuerySet[Episode]:
    """The user's active episodes, each annotated with its next scheduled session and sessions attended."""
    now = now or clock.now()
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
class CaseloadPage:
    own: list[Episode]
    # Episodes supervisees share for supervision: read-only to the supervisor.
    supervised: list[Episode]
    without_episode: list[Client]


def caseload_page(user: User, *, now: dt.datetime | None = None) -> CaseloadPage:
    """The caseload page: the user's own active episodes, those shared with them for supervision,
    and their clients without an open episode; three queries whatever the caseload size."""
    episodes = list(caseload(user, now=now))
    return CaseloadPage(
        own=[e for e in episodes if e.therapist_id == user.pk],
        supervised=[e for e in episodes if e.therapist_id != user.pk],
        without_episode=list(clients_without_active_episode(user)),
    )


@dataclass(frozen=True)
class ClientRecord:
    client: Client
    episodes: Sequence[Episode]
    can_edit: bool
    # Episodes this user may change (their own); a supervisor reads shared ones only.
    editable_episode_ids: frozenset[int] = frozenset()


def client_record(
    user: User, client: Client, *, recent: int | None = None, episode_id: int | None = None
) -> ClientRecord:
    """The client page: episodes visible to this user with their sessions and participants.

    Each episode's `shown_sessions` are its sessions in time order: all of them, or with `recent` only
    the latest `recent` (the client page, whose cost then stays the same however long the course:
    docs/performance.md); `session_count` is how many it has in all. `episode_id`: that episode only
    (its history page)."""
    latest_first = Session.objects.order_by("-starts_at", "-id").prefetch_related("participants")
    visible = episodes_for(user).filter(client=client)
    if episode_id is not None:
        visible = visible.filter(pk=episode_id)
    episodes = list(
        visible.select_related("therapist")
        .prefetch_related(
            Prefetch(
                "sessions",
                queryset=latest_first if recent is None else latest_first[:recent],
                to_attr="shown_sessions",
            )
        )
        .annotate(first_session_at=Min("sessions__starts_at"), session_count=Count("sessions"))
    )
    for episode in episodes:
        episode.shown_sessions.reverse()  # type: ignore[attr-defined]
    can_edit = clients_for(user, write=True).filter(pk=client.pk).exists()
    editable = frozenset(episodes_for(user, write=True).filter(client=client).values_list("pk", flat=True))
    return ClientRecord(client=client, episodes=episodes, can_edit=can_edit, editable_episode_ids=editable)


@dataclass(frozen=True)
class PortalRecord:
    client: Client | None
    upcoming: list[Session]


def portal_record(user: User, *, now: dt.datetime | None = None) -> PortalRecord:
    """A client's own page: their record and their upcoming sessions, nothing of anyone else."""
    now = now or clock.now()
    client = clients_for(user).filter(portal_user_id=user.pk).first()
    upcoming = (
        sessions_for(user)
        .filter(episode__client__portal_user_id=user.pk, starts_at__gte=now, attendance=Attendance.SCHEDULED)
        .select_related("episode__therapist")
        .order_by("starts_at")
    )
    return PortalRecord(client=client, upcoming=list(upcoming[:PORTAL_UPCOMING_LIMIT]) if client else [])


@dataclass(frozen=True)
class TherapistActivity:
    """Counts only: no client names, referral reasons or other clinical content."""

    therapist_name: str
    active_clients: int
    active_episodes: int
    sessions_this_month: int


@dataclass(frozen=True)
class PracticeOverview:
    month_start: dt.date
    therapists: list[TherapistActivity]
    active_clients: int
    active_episodes: int
    sessions_this_month: int


def _month_bounds(now: dt.datetime, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
    """The calendar month containing `now` in the practice's time zone, as aware datetimes."""
    tz = zoneinfo.ZoneInfo(time_zone)
    local = now.astimezone(tz)
    start = dt.datetime(local.year, local.month, 1, tzinfo=tz)
    end = dt.datetime(local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=tz)
    return start, end


def practice_overview(user: User, *, now: dt.datetime | None = None) -> PracticeOverview:
    """Practice-level activity per clinician for the admin: aggregates only, two queries."""
    if user.role != Role.ADMIN:
        raise PermissionDenied(ADMIN_ONLY)
    start, end = _month_bounds(now or clock.now(), user.practice.time_zone)
    practice_episodes = Q(episodes__client__practice_id=user.practice_id)
    active = practice_episodes & Q(episodes__ended_on__isnull=True)
    this_month = (
        practice_episodes
        & Q(episodes__sessions__starts_at__gte=start, episodes__sessions__starts_at__lt=end)
        & ~Q(episodes__sessions__attendance=Attendance.CANCELLED)
    )
    rows = (
        User.objects.filter(practice_id=user.practice_id, role__in=CLINICAL_ROLES)
        .annotate(
            n_clients=Count("episodes__client", filter=active, distinct=True),
            n_episodes=Count("episodes", filter=active, distinct=True),
            n_sessions=Count("episodes__sessions", filter=this_month, distinct=True),
        )
        .order_by("full_name", "pk")
    )
    therapists = [
        TherapistActivity(r.full_name, r.n_clients, r.n_episodes, r.n_sessions)
        for r in rows
        if r.is_active or r.n_episodes or r.n_sessions
    ]
    totals = Episode.objects.filter(client__practice_id=user.practice_id).aggregate(
        clients=Count("client", filter=Q(ended_on__isnull=True), distinct=True),
        episodes=Count("pk", filter=Q(ended_on__isnull=True), distinct=True),
        sessions=Count(
            "sessions",
            filter=Q(sessions__starts_at__gte=start, sessions__starts_at__lt=end)
            & ~Q(sessions__attendance=Attendance.CANCELLED),
            distinct=True,
        ),
    )
    return PracticeOverview(
        month_start=start.date(),
        therapists=therapists,
        active_clients=totals["clients"],
        active_episodes=totals["episodes"],
        sessions_this_month=totals["sessions"],
    )
