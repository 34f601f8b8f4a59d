"""Reads for the API: always through the key's practice, so another practice's objects are absent."""

from __future__ import annotations

import datetime as dt
import functools

from django.db.models import QuerySet

from spacebetween import statements
from spacebetween.api.models import ApiKey
from spacebetween.clients.models import Client, Episode
from spacebetween.measures.models import Assignment, AssignmentStatus
from spacebetween.practice.models import Practice

OPEN_STATUSES = (AssignmentStatus.DUE, AssignmentStatus.SENT, AssignmentStatus.OPENED)


def api_keys_for(practice: Practice) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(practice=practice).select_related("created_by", "revoked_by")


def assignments_for_key(key: ApiKey) -> QuerySet[Assignment]:
    # The key's practice through the episode's client: `_assignment_sql` states the same scope in SQL.
    return Assignment.objects.filter(episode__client__practice_id=key.practice_id)


def assignments_listed(
    key: ApiKey, *, status: str, now: dt.datetime, limit: int, offset: int
) -> list[Assignment]:
    """The practice's assignments in `status`, earliest due first. An open questionnaire whose expiry
    has passed counts as expired whether or not a worker has marked it yet."""
    scope = assignments_for_key(key)
    if status in OPEN_STATUSES:
        scope = scope.filter(status=status, expires_at__gt=now)
    elif status == AssignmentStatus.EXPIRED:
        scope = scope.filter(status__in=[AssignmentStatus.EXPIRED, *OPEN_STATUSES]).exclude(
            status__in=OPEN_STATUSES, expires_at__gt=now
        )
    else:
        scope = scope.filter(status=status)
    return list(scope.order_by("due_at", "id")[offset : offset + limit])


@functools.cache
def _assignment_sql() -> str:
    a = statements.columns(Assignment, "id", "episode")
    e = statements.columns(Episode, "id", "client")
    c = statements.columns(Client, "id", "practice")
    listed = ", ".join(statements.select_list(m, m._meta.db_table) for m in (Assignment, Episode, Client))
    return (
        f"SELECT {listed} FROM {a['table']} "  # noqa: S608 - our names
        f"JOIN {e['table']} ON {e['table']}.{e['id']} = {a['table']}.{a['episode']} "
        f"JOIN {c['table']} ON {c['table']}.{c['id']} = {e['table']}.{e['client']} "
        f"WHERE {a['table']}.{a['id']} = %s AND {c['table']}.{c['practice']} = %s"
    )


def assignment_for_key(key: ApiKey, pk: int) -> Assignment | None:
    """The assignment if it is the key's practice's (the scope of `assignments_for_key`), with its
    episode and client (what a submission checks). Hand-written SQL: it is on every API answer's path
    (spacebetween.statements)."""
    _, rows = statements.execute(_assignment_sql(), (pk, key.practice_id))
    if not rows:
        return None
    assignment, episode, client = statements.from_row(rows[0], Assignment, Episode, Client)
    Episode.client.field.set_cached_value(episode, client)
    Assignment.episode.field.set_cached_value(assignment, episode)
    return assignment  # type: ignore[return-value]
