"""A practice to back up, made once per engine for the whole run: the demo practice (through the real
services, with its audit trail and encrypted reflection notes) plus an MFA secret and a queued e-mail,
so that every kind of encrypted field is in the backup. Its tables are hashed, then `spacebetween
backup` writes its file (and appends the backup's audit event, which the file therefore lacks).

Every process gets FIELD_ENCRYPTION_KEY explicitly: KEY (the practice's) or OTHER_KEY (a stranger's).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.durability.databases import ServerDb, base_env, scratch_database

KEY = "Y0OYUZSJz87DR15DxlTNFs8Tc8DQMEFP3YzfMOoW9x8="
OTHER_KEY = "zcL_rrVcehBw7hHdCxpPX-PW8mmyDf1TUIzdQUyE9sA="
BODY = "Your questionnaire link: https://practice.example.test/q/7hD2kP9x"

SOURCE = f"""
from django.db import transaction
from spacebetween import crypto
from spacebetween.accounts import signin
from spacebetween.demo.generator import generate_demo_practice
from spacebetween.notifications.services import outbox_enqueue
from spacebetween.relationship.models import SessionReflection
from spacebetween.relationship.services import note_context

demo = generate_demo_practice(seed=11, history_completed=0)
device = signin.totp_enrolment(user=demo.demo_therapist)
with transaction.atomic():
    message = outbox_enqueue(practice_id=demo.practice.pk, to_address="client@example.test",
                             subject="A questionnaire is waiting for you", body_text={BODY!r},
                             kind="reminder")
note = SessionReflection.objects.exclude(feelings_note="").order_by("pk").first()
result = {{
    "totp": [device.pk, signin.totp_secret(device)],
    "outbox": [message.pk, message.body()],
    "note": [note.pk, crypto.decrypt(note.feelings_note, context=note_context(note.session_id))],
}}
"""

# The audit log's two tables: a backup and a restore each append an event (and move the head).
AUDIT_TABLES = ("audit.AuditEvent", "audit.AuditChainHead")

# Every backed-up table, hashed here in a way of its own (not the backup's canonical rows). With
# `AUDIT_UPTO = n` set before it: the audit events up to seq n only, and not the head.
DIGEST = """
import hashlib, json
from django.apps import apps
from spacebetween.backup.services import NOT_BACKED_UP
upto = globals().get("AUDIT_UPTO")
digest = {}
for model in apps.get_models(include_auto_created=True):
    if model._meta.label_lower in NOT_BACKED_UP:
        continue
    if upto is not None and model._meta.label == "audit.AuditChainHead":
        continue
    rows = model._base_manager.order_by("pk")
    if upto is not None and model._meta.label == "audit.AuditEvent":
        rows = rows.filter(seq__lte=upto)
    rows = [list(row) for row in rows.values_list()]
    text = json.dumps(rows, default=str, sort_keys=True)
    digest[model._meta.label] = [len(rows), hashlib.sha256(text.encode()).hexdigest()]
result = digest
"""

# The audit events from seq `since` on, and the chain's head: [seq, event_type, detail, prev_hash, hash].
AUDIT_TAIL = """
from spacebetween.audit.models import AuditChainHead, AuditEvent
head = AuditChainHead.objects.get()
result = {{"head": [head.seq, head.hash], "events": [
    [e.seq, e.event_type, e.detail, e.prev_hash, e.hash]
    for e in AuditEvent.objects.filter(seq__gte={since}).order_by("seq")]}}
"""

# The backup's own manifest of a backup file (counts and checksums), after writing it when asked.
MANIFEST = """
from pathlib import Path
from spacebetween.audit.selectors import verify_chain
from spacebetween.backup.services import backup_check, backup_write
if {write}:
    backup_write(Path({path!r}))
manifest = {{label: [t.rows, t.sha256] for label, t in backup_check(Path({path!r})).tables.items()}}
result = manifest
"""


def with_key(db: ServerDb, key: str) -> ServerDb:
    return ServerDb({**db.env, "FIELD_ENCRYPTION_KEY": key}, db.url, db.sqlite_path)


@dataclass(frozen=True)
class Source:
    db: ServerDb
    backup: Path
    originals: dict[str, list[Any]]  # kind -> [pk, plaintext]
    digest: dict[str, list[Any]]  # the tables as they were backed up
    manifest: dict[str, list[Any]]  # the backup file's own
    head: list[Any]  # the audit chain's head when it was backed up: [seq, hash]
    backup_event: list[Any]  # the audit event the backup appended: AUDIT_TAIL's shape


@contextlib.contextmanager
def _source(tmp_path: Path, engine: str, made_from: Source | None = None) -> Iterator[Source]:
    """The demo practice made on `engine`, or restored from `made_from` (the demo costs a minute on
    a busy PostgreSQL; where the rows came from does not matter to a backup of them)."""
    env = {**base_env(tmp_path), "FIELD_ENCRYPTION_KEY": KEY}
    with scratch_database(tmp_path, engine, name="backup_src", env=env) as db:
        if made_from is None:
            originals = db.python(SOURCE, timeout=600)
        else:
            restored = db.cli("restore", str(made_from.backup))
            assert restored.returncode == 0, restored.stderr[-3000:]
            originals = made_from.originals
        digest, head = db.python(DIGEST), db.python(AUDIT_TAIL.format(since=0))["head"]
        backup = tmp_path / "practice.sbbackup"
        made = db.cli("backup", str(backup))
        assert made.returncode == 0, made.stderr[-3000:]
        manifest = db.python(MANIFEST.format(path=str(backup), write=False))
        [event] = db.python(AUDIT_TAIL.format(since=head[0] + 1))["events"]
        yield Source(db, backup, originals, digest, manifest, head, event)


@pytest.fixture(scope="session")
def sqlite_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    with _source(tmp_path_factory.mktemp("sqlite_source"), "sqlite") as source:
        yield source


@pytest.fixture(scope="session")
def postgres_source(tmp_path_factory: pytest.TempPathFactory, sqlite_source: Source) -> Iterator[Source]:
    with _source(tmp_path_factory.mktemp("postgres_source"), "postgresql", sqlite_source) as source:
        yield source


@pytest.fixture
def source(request: pytest.FixtureRequest) -> Source:
    """The source of the engine named by the test's `source_engine` parameter."""
    return request.getfixturevalue(f"{request.param}_source")  # type: ignore[no-any-return]


def target(tmp_path: Path, engine: str, *, key: str = KEY, migrate: bool = True) -> Any:
    """An empty database to restore into (a context manager)."""
    env = {**base_env(tmp_path), "FIELD_ENCRYPTION_KEY": key}
    return scratch_database(tmp_path, engine, name="backup_dst", env=env, migrate=migrate)


@pytest.fixture(scope="module")
def empty_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerDb]:
    """An empty, migrated database shared by the tests of refusals: each checks it is still empty."""
    with target(tmp_path_factory.mktemp("empty"), "sqlite") as db:
        yield db
