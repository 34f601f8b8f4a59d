"""Reads for the API: always through the key's practice, so another practice's objects are absent."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from spacebetween.api.models import ApiKey
from spacebetween.measures.models import Assignment, AssignmentStatus
from spacebetween.practice.models import Practice

OPEN_STATUSES = (AssignmentStatus.DUE, AssignmentStatus.SENT, AssignmentStatus.OPENED)


def api_keys_for(practice: Practice) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(practice=practice).select_related("created_by", "revoked_by")


def assignments_for_key(key: ApiKey) -> QuerySet[Assignment]:
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


def assignment_for_key(key: ApiKey, pk: int) -> Assignment | None:
    return (
        assignments_for_key(key)
        .select_related("episode__client__practice", "episode__therapist")
        .filter(pk=pk)
        .first()
    )
