"""Hash-chain arithmetic for the audit log, shared by writing and verifying."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64

# The fields that are hashed, in order; changing this list invalidates every existing chain.
CHAINED_FIELDS = (
    "seq",
    "recorded_at",
    "event_type",
    "action",
    "outcome",
    "practice_id",
    "actor_id",
    "actor_role",
    "entity_type",
    "entity_id",
    "source_address",
    "purpose",
    "detail",
)


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    return value


def row_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = json.dumps(
        [prev_hash, [_canonical(fields[name]) for name in CHAINED_FIELDS]], separators=(",", ":")
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
