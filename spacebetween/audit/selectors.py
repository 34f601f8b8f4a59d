"""Reading and verifying the audit log."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection, transaction

from spacebetween.audit.chain import CHAINED_FIELDS, GENESIS_HASH, row_hash
from spacebetween.audit.models import AuditChainHead, AuditEvent


@dataclass(frozen=True)
class ChainProblem:
    seq: int | None
    problem: str


@dataclass(frozen=True)
class ChainReport:
    events: int
    head_hash: str
    problems: tuple[ChainProblem, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


@contextlib.contextmanager
def _one_snapshot() -> Iterator[None]:
    """Every read inside sees the database as of one moment, without holding up its writers.

    PostgreSQL: one REPEATABLE READ, READ ONLY transaction. SQLite: one read transaction (a deferred
    BEGIN, not the IMMEDIATE one Django's transactions take, which would queue behind and block the
    writers): in WAL mode its snapshot is fixed at its first read. Inside a caller's transaction
    (a restore, tests) that transaction is the snapshot."""
    if connection.in_atomic_block or not connection.get_autocommit():
        yield
    elif connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
            try:
                yield
            finally:
                cursor.execute("ROLLBACK")  # nothing was written: the read lock is let go
    else:
        yield


def _rows(upto: int) -> Iterator[dict[str, object]]:
    fields = [*CHAINED_FIELDS, "prev_hash", "hash"]
    rows = AuditEvent.objects.filter(seq__lte=upto).order_by("seq").values(*fields)
    yield from rows.iterator(chunk_size=2000)


def verify_chain() -> ChainReport:
    """Walk the chain in sequence order: a changed row breaks its own hash, a removed row leaves a
    gap, a reordered row breaks the link to its predecessor, a truncated tail disagrees with the head.

    The head is read first and the events up to its sequence number after it, in one snapshot, so
    verifying a live system never mistakes an event appended meanwhile for a broken tail: the head
    moves on in the same transaction as the event it points to. An event past the head it read is
    one the head never counted (the head was put back, or the row added by hand): a problem too."""
    problems: list[ChainProblem] = []
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    last_hash = GENESIS_HASH
    with _one_snapshot():
        head = AuditChainHead.objects.filter(id=1).values_list("seq", "hash").first()
        head_seq, head_hash = head if head is not None else (0, GENESIS_HASH)
        for row in _rows(head_seq):
            count += 1
            seq = int(row["seq"])  # type: ignore[call-overload]
            if seq != expected_seq:
                problems.append(
                    ChainProblem(seq, f"sequence gap: expected {expected_seq}, found {seq} (row removed?)")
                )
            if row["prev_hash"] != expected_prev:
                problems.append(ChainProblem(seq, "link broken: prev_hash does not match the previous row"))
            if row_hash(str(row["prev_hash"]), row) != row["hash"]:
                problems.append(
                    ChainProblem(seq, "content changed: the row's hash does not match its fields")
                )
            expected_prev = str(row["hash"])
            expected_seq = seq + 1
            last_hash = expected_prev
        past_head = AuditEvent.objects.filter(seq__gt=head_seq).count()
    if head is None and past_head:
        problems.append(ChainProblem(None, "chain head is missing"))
    elif head is not None:
        if expected_seq - 1 != head_seq or last_hash != head_hash:
            problems.append(
                ChainProblem(None, f"tail changed: chain head says {head_seq} events, found {count}")
            )
        if past_head:
            problems.append(
                ChainProblem(
                    None, f"{past_head} event(s) past the chain head's {head_seq}: not counted by the head"
                )
            )
    return ChainReport(events=count, head_hash=last_hash, problems=tuple(problems))
