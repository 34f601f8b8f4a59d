"""Reading and verifying the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

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


def _rows() -> Iterator[dict[str, object]]:
    fields = [*CHAINED_FIELDS, "prev_hash", "hash"]
    yield from AuditEvent.objects.order_by("seq").values(*fields).iterator(chunk_size=2000)


def verify_chain() -> ChainReport:
    """Walk the chain in sequence order: a changed row breaks its own hash, a removed row leaves a
    gap, a reordered row breaks the link to its predecessor, a truncated tail disagrees with the head."""
    problems: list[ChainProblem] = []
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    last_hash = GENESIS_HASH
    for row in _rows():
        count += 1
        seq = int(row["seq"])  # type: ignore[call-overload]
        if seq != expected_seq:
            problems.append(
                ChainProblem(seq, f"sequence gap: expected {expected_seq}, found {seq} (row removed?)")
            )
        if row["prev_hash"] != expected_prev:
            problems.append(ChainProblem(seq, "link broken: prev_hash does not match the previous row"))
        if row_hash(str(row["prev_hash"]), row) != row["hash"]:
            problems.append(ChainProblem(seq, "content changed: the row's hash does not match its fields"))
        expected_prev = str(row["hash"])
        expected_seq = seq + 1
        last_hash = expected_prev
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None and (head.seq != expected_seq - 1 or head.hash != last_hash):
        problems.append(ChainProblem(None, f"tail changed: chain head says {head.seq} events, found {count}"))
    if head is None and count:
        problems.append(ChainProblem(None, "chain head is missing"))
    return ChainReport(events=count, head_hash=last_hash, problems=tuple(problems))
