from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from spacebetween.audit.models import AuditEvent
from spacebetween.audit.selectors import verify_chain


def _without_triggers(sql: str, params: list[Any]) -> None:
    """Tamper as an attacker with database access would: drop the append-only triggers first."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
            cur.execute(sql, params)
            cur.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
        else:
            cur.execute("DROP TRIGGER audit_auditevent_no_update")
            cur.execute("DROP TRIGGER audit_auditevent_no_delete")
            cur.execute(sql, params)


@pytest.mark.django_db
def test_the_chain_of_real_events_is_intact(session: object) -> None:
    report = verify_chain()
    assert report.events >= 5
    assert report.intact, report.problems


@pytest.mark.django_db
def test_it_refuses_updates_and_deletes(session: object) -> None:
    for statement in ("UPDATE audit_auditevent SET detail = 'x'", "DELETE FROM audit_auditevent"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(statement)
    assert verify_chain().intact


@pytest.mark.django_db
def test_it_detects_a_changed_row(session: object) -> None:
    _without_triggers("UPDATE audit_auditevent SET entity_id = %s WHERE seq = %s", ["999", 3])
    report = verify_chain()
    assert not report.intact
    assert [p.seq for p in report.problems] == [3]
    assert "content changed" in report.problems[0].problem


@pytest.mark.django_db
def test_it_detects_a_removed_row(session: object) -> None:
    _without_triggers("DELETE FROM audit_auditevent WHERE seq = %s", [2])
    problems = verify_chain().problems
    assert any("sequence gap" in p.problem and p.seq == 3 for p in problems)


@pytest.mark.django_db
def test_it_detects_reordered_rows(session: object) -> None:
    a, b = AuditEvent.objects.filter(seq__in=[2, 3]).order_by("seq")
    # Swap every hashed field of two rows, keeping their positions: the links no longer match.
    _without_triggers(
        "UPDATE audit_auditevent SET entity_type = %s, entity_id = %s, prev_hash = %s, hash = %s "
        "WHERE seq = %s",
        [b.entity_type, b.entity_id, b.prev_hash, "f" * 64, 2],
    )
    report = verify_chain()
    assert not report.intact
    assert any(p.seq in (2, 3) for p in report.problems)
    assert a.hash != b.hash


@pytest.mark.django_db
def test_it_detects_a_truncated_tail(session: object) -> None:
    last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None
    _without_triggers("DELETE FROM audit_auditevent WHERE seq = %s", [last.seq])
    assert any("tail changed" in p.problem for p in verify_chain().problems)


@pytest.mark.django_db
def test_the_command_fails_on_tampering(session: object, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("audit", "verify")
    assert "intact" in capsys.readouterr().out
    _without_triggers("UPDATE audit_auditevent SET actor_role = %s WHERE seq = %s", ["admin", 1])
    with pytest.raises(CommandError, match="BROKEN"):
        call_command("audit", "verify")


@pytest.mark.django_db
def test_it_detects_events_the_head_never_counted(session: object) -> None:
    # The head put back by one event (or a row appended by hand): the chain up to the head is whole,
    # but in one snapshot no event can lie past the head.
    *_, second_last, last = AuditEvent.objects.order_by("seq")
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE audit_auditchainhead SET seq = %s, hash = %s WHERE id = 1",
            [second_last.seq, second_last.hash],
        )
    report = verify_chain()
    assert (report.events, report.head_hash) == (second_last.seq, second_last.hash)
    assert [p.problem for p in report.problems] == [
        f"1 event(s) past the chain head's {second_last.seq}: not counted by the head"
    ]
    assert last.seq == second_last.seq + 1
