"""Writes: creating and revoking API keys; admitting an API call (its key, its count, its audit row)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from spacebetween import clock, statements
from spacebetween.accounts.models import Role, User
from spacebetween.api.models import ApiKey, ApiKeyWindow
from spacebetween.audit.models import Action, Entity, Outcome, Purpose
from spacebetween.audit.services import record

ADMIN_ONLY = "Only the practice admin can manage API keys."
NAME_REQUIRED = "Give the key a name that says which integration uses it."
ALREADY_REVOKED = "This API key has already been revoked."
RATE_LIMITED = "Too many requests with this API key; try again in a minute."

KEY_SCHEME = "sb"
ACTOR_ROLE = "api-key"
# Rate limits on every credential (OWASP ASVS 5.0; docs/api.md). Overridable per deployment.
DEFAULT_RATE_PER_MINUTE = 120
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _require_admin(actor: User, practice_id: int) -> None:
    if actor.role != Role.ADMIN or actor.practice_id != practice_id or not actor.is_active:
        raise ValidationError(ADMIN_ONLY)


def api_key_create(
    *, actor: User, name: str, now: dt.datetime | None = None, request: Any = None
) -> tuple[ApiKey, str]:
    """A new key for the actor's practice. Returns the key and its plaintext, which is never stored
    and cannot be shown again."""
    _require_admin(actor, actor.practice_id)
    name = name.strip()
    if not name:
        raise ValidationError({"name": NAME_REQUIRED})
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)  # 256 bits
    with transaction.atomic(durable=True):
        key = ApiKey.objects.create(
            practice_id=actor.practice_id,
            name=name,
            prefix=prefix,
            secret_hash=secret_digest(secret),
            created_by=actor,
            created_at=now or clock.now(),
        )
        record(
            action=Action.CREATE,
            actor=actor,
            entity_type=Entity.API_KEY,
            entity_id=key.pk,
            purpose=Purpose.OPERATIONS,
            request=request,
            detail=f"key:{prefix}",
        )
    return key, f"{KEY_SCHEME}_{prefix}_{secret}"


def api_key_revoke(
    *, actor: User, key: ApiKey, now: dt.datetime | None = None, request: Any = None
) -> ApiKey:
    _require_admin(actor, key.practice_id)
    with transaction.atomic(durable=True):
        updated = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=now or clock.now(), revoked_by=actor
        )
        if not updated:
            raise ValidationError(ALREADY_REVOKED)
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type=Entity.API_KEY,
            entity_id=key.pk,
            purpose=Purpose.OPERATIONS,
            request=request,
            detail=f"revoked key:{key.prefix}",
        )
    key.refresh_from_db()
    return key


class RateLimited(Exception):
    """The key has used up its requests for this clock minute; nothing of the call was written."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(RATE_LIMITED)
        self.retry_after = retry_after


@functools.cache
def _count_sql() -> str:
    w = statements.columns(ApiKeyWindow, "key", "window_start", "count")
    return (
        f"UPDATE {w['table']} SET {w['count']} = {w['count']} + 1 "  # noqa: S608 - our names
        f"WHERE {w['key']} = %s AND {w['window_start']} = %s AND {w['count']} < %s"
    )


def _key_presented(presented: str) -> ApiKey | None:
    """The key whose secret `presented` carries, revoked or not; None for anything else. Reads only."""
    scheme, _, rest = presented.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != KEY_SCHEME or not prefix or not secret:
        return None
    # Hand-written SQL: it is on every API call's path (spacebetween.statements).
    key = statements.get(ApiKey, prefix=prefix)
    if key is None or not hmac.compare_digest(key.secret_hash, secret_digest(secret)):
        return None
    return key


def api_key_authenticate(*, presented: str, request: Any = None) -> ApiKey | None:
    """The live key `presented` belongs to, read without writing: the call is admitted (counted and
    audited) when it is recorded, `api_call_record`. A revoked key's use is audited, since it is
    attributable to its practice; an unknown string is not, so that garbage cannot flood the audit
    chain, and it takes no write lock."""
    key = _key_presented(presented)
    if key is None or key.revoked_at is None:
        return key
    with transaction.atomic(durable=True):
        record(
            action=Action.READ,
            event_type="access-denied",
            entity_type=Entity.API_KEY,
            entity_id=key.pk,
            outcome=Outcome.MINOR_FAILURE,
            practice_id=key.practice_id,
            request=request,
            detail=f"revoked key:{key.prefix}",
            actor_role=ACTOR_ROLE,
        )
    return None


def rate_limit_take(*, key: ApiKey, now: dt.datetime | None = None) -> bool:
    """Count one request in the current minute; False when the key has used up its allowance.
    A conditional UPDATE, so concurrent requests on SQLite or PostgreSQL cannot both take the last one."""
    limit = int(getattr(settings, "API_KEY_RATE_PER_MINUTE", DEFAULT_RATE_PER_MINUTE))
    window = (now or clock.now()).replace(second=0, microsecond=0)
    for _attempt in range(3):
        # Hand-written: on every API call's path (spacebetween.statements).
        taken, _ = statements.execute(
            _count_sql(), (key.pk, statements.value(ApiKeyWindow, "window_start", window), limit)
        )
        if taken:
            return True
        current = (
            ApiKeyWindow.objects.filter(key=key, window_start=window).values_list("count", flat=True).first()
        )
        if current is not None:
            if current >= limit:
                return False
            # The window was created by a request that committed after our UPDATE looked (seen on
            # PostgreSQL under load): it has room, so count against it.
            continue
        try:
            with transaction.atomic():
                ApiKeyWindow.objects.create(key=key, window_start=window, count=1)
                # Only the current minute counts; earlier windows of this key are dead weight.
                ApiKeyWindow.objects.filter(key=key, window_start__lt=window).delete()
            return limit > 0
        except IntegrityError:
            continue  # another request created the window first; count against it
    return False


def api_call_record(
    *,
    key: ApiKey,
    action: Action,
    entity_type: Entity,
    entity_id: object,
    request: Any,
    outcome: Outcome = Outcome.SUCCESS,
    event_type: str = "api",
    purpose: Purpose = Purpose.TREATMENT,
    detail: str = "",
    now: dt.datetime | None = None,
) -> None:
    """Admit and audit one API call, in the caller's transaction when there is one (an API submission:
    one commit for the answers, the count and the audit row), else in its own: the call is counted
    against the key's limit for the minute (`rate_limit_take`), the key's last use is noted to the
    minute, and one audit row names the practice, the key (by id and prefix) and what was touched.
    Over the limit it raises `RateLimited` and writes nothing (the caller's transaction rolls back)."""
    now = now or clock.now()
    with transaction.atomic(savepoint=False):
        admitted = rate_limit_take(key=key, now=now)  # over the limit it has written nothing
        if admitted:
            # To the minute, as the keys page shows it: one write a minute per key, not one per call.
            if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
                ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
                key.last_used_at = now
            record(
                action=action,
                event_type=event_type,
                entity_type=entity_type,
                entity_id=entity_id,
                outcome=outcome,
                practice_id=key.practice_id,
                request=request,
                purpose=purpose,
                detail=" ".join(filter(None, (f"key:{key.prefix} id:{key.pk}", detail))),
                actor_role=ACTOR_ROLE,
            )
    if not admitted:
        # Raised after the block, which wrote nothing; a caller's transaction (a submission's) that
        # it passes through rolls back.
        raise RateLimited(retry_after=60 - now.second)
