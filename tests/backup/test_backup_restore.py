"""`spacebetween backup` and `spacebetween restore` as real processes on databases of their own:
SQLite -> SQLite, PostgreSQL -> PostgreSQL and SQLite -> PostgreSQL (moving a practice to a server).

PostgreSQL is the one of DATABASE_URL, or the local server; missing, these cases are skipped on a
developer's machine and fail under CI.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

import pytest

from spacebetween.backup import services
from spacebetween.backup.archive import key_fingerprint
from tests.backup.conftest import (
    AUDIT_TABLES,
    AUDIT_TAIL,
    BODY,
    DIGEST,
    KEY,
    MANIFEST,
    OTHER_KEY,
    Source,
    target,
    with_key,
)
from tests.durability.databases import ServerDb

# In the restored database: its tables hashed (the audit events up to the backup's), the restore's
# audit event, the manifest of a backup of it, the encrypted values decrypted, then the practice goes
# on: a new colleague gets a fresh id (sequences reset on PostgreSQL) and her audit events extend the
# restored chain.
AFTER_RESTORE = """
from spacebetween import crypto
from spacebetween.accounts import signin
from spacebetween.accounts.models import Role, TotpDevice, User
from spacebetween.accounts.services import user_create
from spacebetween.notifications.models import OutboxMessage
from spacebetween.practice.models import Practice
from spacebetween.relationship.models import SessionReflection
from spacebetween.relationship.services import note_context
note = SessionReflection.objects.get(pk={note})
decrypted = {{
    "totp": signin.totp_secret(TotpDevice.objects.get(pk={totp})),
    "outbox": OutboxMessage.objects.get(pk={outbox}).body(),
    "note": crypto.decrypt(note.feelings_note, context=note_context(note.session_id)),
}}
events = verify_chain().events
highest = max(User.objects.values_list("pk", flat=True))
colleague = user_create(practice=Practice.objects.get(), email="new.colleague@example.test",
                        full_name="New Colleague", role=Role.THERAPIST, password=None)
chain = verify_chain()
result = {{"digest": digest, "manifest": manifest, "decrypted": decrypted,
          "new_id_after": [colleague.pk, highest], "events": [events, chain.events, chain.intact]}}
"""


def _after_restore(db: ServerDb, source: Source, manifest_path: Path) -> dict[str, Any]:
    """What the restored database holds; the restore's audit event is read before anything else
    appends to the chain."""
    tail = db.python(AUDIT_TAIL.format(since=source.head[0] + 1))
    pks = {kind: pk for kind, (pk, _) in source.originals.items()}
    code = (
        f"AUDIT_UPTO = {source.head[0]}\n"
        + DIGEST
        + MANIFEST.format(path=str(manifest_path), write=True)
        + AFTER_RESTORE.format(**pks)
    )
    return {**db.python(code), "audit_tail": tail}  # type: ignore[no-any-return]


def _without_audit(tables: dict[str, Any]) -> dict[str, Any]:
    return {label: figures for label, figures in tables.items() if label not in AUDIT_TABLES}


def _events(verify: Any) -> int:
    assert verify.returncode == 0, verify.stderr
    return int(re.search(r"(\d+) events", verify.stdout).group(1))  # type: ignore[union-attr]


def _empty(db: ServerDb) -> bool:
    return all(rows == 0 for rows, _ in db.python(DIGEST).values())


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("source", "target_engine"),
    [("sqlite", "sqlite"), ("postgres", "postgresql"), ("sqlite", "postgresql")],
    indirect=["source"],
    ids=["sqlite-to-sqlite", "postgresql-to-postgresql", "sqlite-to-postgresql"],
)
def test_a_restore_gives_back_the_practice_row_for_row(
    source: Source, target_engine: str, tmp_path: Path
) -> None:
    assert stat.S_IMODE(source.backup.stat().st_mode) == 0o600, "a backup must be readable by its owner only"
    with target(tmp_path, target_engine) as restored:
        done = restored.cli("restore", str(source.backup))
        assert done.returncode == 0, done.stderr[-3000:]
        assert "counts and checksums match" in done.stdout
        backed_up = source.head[0]  # the events in the backup
        assert _events(restored.cli("audit", "verify")) == backed_up + 1

        after = _after_restore(restored, source, tmp_path / "restored.sbbackup")
        # Every row as it was backed up; the audit log besides: the backed-up events, then the restore's.
        assert after["digest"] == {k: v for k, v in source.digest.items() if k != "audit.AuditChainHead"}
        [(seq, kind, detail, prev_hash, digest)] = after["audit_tail"]["events"]
        assert (seq, kind, prev_hash) == (backed_up + 1, "restore", source.head[1])
        assert f"the restore is recorded as event {seq})" in done.stdout
        assert f"{sum(rows for rows, _ in source.manifest.values())} rows" in detail
        assert after["audit_tail"]["head"] == [seq, digest]
        assert _without_audit(after["manifest"]) == _without_audit(source.manifest)
        assert after["manifest"]["audit.AuditEvent"][0] == backed_up + 1
        assert after["decrypted"] == {kind: text for kind, (_, text) in source.originals.items()}
        assert source.originals["outbox"][1] == BODY
        new_id, highest = after["new_id_after"]
        assert new_id > highest
        before, now, intact = after["events"]
        # Before the colleague: the restored events, the restore's and the backup's made just now.
        assert before == backed_up + 2 and now > before and intact


@pytest.mark.e2e
def test_a_backup_is_an_audit_event_after_the_rows_it_holds(sqlite_source: Source) -> None:
    seq, kind, detail, prev_hash, _ = sqlite_source.backup_event
    assert (seq, kind, prev_hash) == (sqlite_source.head[0] + 1, "backup", sqlite_source.head[1])
    rows = sum(rows for rows, _ in sqlite_source.manifest.values())
    assert detail == f"{len(sqlite_source.manifest)} tables, {rows} rows, key {key_fingerprint(KEY)}"
    # The file holds the practice as it was before the backup: not its own event.
    assert sqlite_source.manifest["audit.AuditEvent"][0] == sqlite_source.head[0]


@pytest.mark.e2e
def test_a_backup_whose_audit_event_fails_is_kept_and_reported(tmp_path: Path) -> None:
    """The file may be the one good copy of a failing database: it stays, and the command fails loudly."""
    with target(tmp_path, "sqlite") as db:
        db.python(
            "from django.db import connection\n"
            "with connection.cursor() as c:\n"
            "    c.execute('CREATE TRIGGER audit_full BEFORE INSERT ON audit_auditevent "
            "BEGIN SELECT RAISE(ABORT, \\'audit log is full\\'); END')\n"
        )
        path = tmp_path / "unaudited.sbbackup"
        made = db.cli("backup", str(path))
        assert made.returncode != 0
        assert "could not be recorded: audit log is full" in made.stderr
        assert "Keep the file" in made.stderr
        checked = db.cli("restore", "--check", str(path))
        assert checked.returncode == 0, checked.stderr[-3000:]


@pytest.mark.e2e
def test_a_wrong_key_fails_closed_and_writes_nothing(sqlite_source: Source, empty_sqlite: ServerDb) -> None:
    stranger = with_key(empty_sqlite, OTHER_KEY)
    refused = stranger.cli("restore", str(sqlite_source.backup))
    assert refused.returncode != 0
    assert "This backup was made with a different field-encryption key" in refused.stderr
    assert key_fingerprint(KEY) in refused.stderr
    assert KEY not in refused.stderr + refused.stdout
    assert _empty(empty_sqlite)


@pytest.mark.e2e
def test_a_key_list_that_still_holds_the_old_key_restores(sqlite_source: Source, tmp_path: Path) -> None:
    """Mid-rotation (docs/operations.md): the new key first, the backup's key after it."""
    with target(tmp_path, "sqlite", key=f"{OTHER_KEY},{KEY}") as rotated:
        done = rotated.cli("restore", str(sqlite_source.backup))
        assert done.returncode == 0, done.stderr[-3000:]
        after = _after_restore(rotated, sqlite_source, tmp_path / "rotated.sbbackup")
        assert after["decrypted"]["outbox"] == BODY


@pytest.mark.e2e
def test_a_damaged_backup_is_refused_and_writes_nothing(
    sqlite_source: Source, empty_sqlite: ServerDb, tmp_path: Path
) -> None:
    good = sqlite_source.backup.read_bytes()
    damaged = {
        "altered or damaged": good[: len(good) // 2]
        + bytes([good[len(good) // 2] ^ 1])
        + good[len(good) // 2 + 1 :],
        "cut short": good[:-100],
        "data after its final part": good + b"\x00" * 16,
        "not a Space Between backup": b"PK\x03\x04 a zip file",
    }
    for message, data in damaged.items():
        path = tmp_path / "damaged.sbbackup"
        path.write_bytes(data)
        refused = empty_sqlite.cli("restore", str(path))
        assert refused.returncode != 0, message
        assert message in refused.stderr
    assert _empty(empty_sqlite)


@pytest.mark.e2e
def test_restore_refuses_a_database_that_is_not_empty(sqlite_source: Source, tmp_path: Path) -> None:
    with target(tmp_path, "sqlite") as occupied:
        occupied.python(
            "from spacebetween.practice.services import practice_create\n"
            "result = practice_create(name='Hilltop Clinic').pk"
        )
        before = occupied.python(DIGEST)
        refused = occupied.cli("restore", str(sqlite_source.backup))
        assert refused.returncode != 0
        assert services.ERROR_NOT_EMPTY in refused.stderr
        assert occupied.python(DIGEST) == before


@pytest.mark.e2e
def test_restore_refuses_a_database_that_is_not_migrated(sqlite_source: Source, tmp_path: Path) -> None:
    with target(tmp_path, "sqlite", migrate=False) as bare:
        refused = bare.cli("restore", str(sqlite_source.backup))
        assert refused.returncode != 0
        assert services.ERROR_NOT_MIGRATED in refused.stderr
        no_backup = bare.cli("backup", str(tmp_path / "bare.sbbackup"))
        assert no_backup.returncode != 0
        assert services.ERROR_SCHEMA_BEHIND in no_backup.stderr
        assert not (tmp_path / "bare.sbbackup").exists()


@pytest.mark.e2e
def test_check_reads_the_whole_backup_and_writes_nothing(
    sqlite_source: Source, empty_sqlite: ServerDb
) -> None:
    checked = empty_sqlite.cli("restore", "--check", str(sqlite_source.backup))
    assert checked.returncode == 0, checked.stderr[-3000:]
    rows = sum(rows for rows, _ in sqlite_source.digest.values())
    assert f"{rows} rows" in checked.stdout
    assert _empty(empty_sqlite)


@pytest.mark.e2e
def test_backup_never_overwrites_a_file_unless_told(sqlite_source: Source, tmp_path: Path) -> None:
    existing = tmp_path / "yesterday.sbbackup"
    existing.write_bytes(b"yesterday's backup")
    refused = sqlite_source.db.cli("backup", str(existing))
    assert refused.returncode != 0
    assert "already exists" in refused.stderr
    assert existing.read_bytes() == b"yesterday's backup"
    replaced = sqlite_source.db.cli("backup", "--overwrite", str(existing))
    assert replaced.returncode == 0, replaced.stderr[-3000:]
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["yesterday.sbbackup"], "a temporary file was left"


def test_every_encrypted_field_is_checked_after_a_restore() -> None:
    """A new crypto.encrypt call belongs to a field that restore must test-decrypt: add it to
    spacebetween.backup.services.ENCRYPTED_FIELDS, then to the list here."""
    package = Path(services.__file__).resolve().parent.parent
    callers = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "crypto.encrypt(" in path.read_text() and path.name != "crypto.py"
    )
    assert callers == [
        "accounts/signin.py",
        "exercises/services.py",
        "formulation/migrations/0002_encrypt_text.py",
        "formulation/models.py",
        "notes/services.py",
        "notifications/services.py",
        "relationship/services.py",
        "transcripts/services.py",
    ]
    assert sorted(spec.model for spec in services.ENCRYPTED_FIELDS) == [
        "accounts.TotpDevice",
        "exercises.ExerciseEntry",
        "formulation.FormulationVersion",
        "formulation.Goal",
        "formulation.MarkerCheck",
        "formulation.ReconsolidationStep",
        "formulation.ReconsolidationWork",
        "formulation.ReconsolidationWork",
        "notes.ProcessAddendum",
        "notes.ProcessNote",
        "notes.SupervisionNote",
        "notifications.OutboxMessage",
        "relationship.RuptureNote",
        "relationship.RuptureNote",
        "relationship.RuptureNote",
        "relationship.SessionReflection",
        "transcripts.Transcript",
        "transcripts.Turn",
    ]
