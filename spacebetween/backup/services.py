"""Backing up the whole database to one encrypted file, and restoring it into an empty database;
re-encrypting the encrypted fields under the newest field-encryption key (key rotation).

The file (spacebetween.backup.archive) holds JSON lines: a manifest (format, schema = the applied
migrations, created_at, the database it came from), then each table as a `{"table": ..., "columns":
[...]}` line followed by its rows in primary-key order, and last the row count and SHA-256 of every
table's rows. A row is the canonical JSON of its column values (`_canonical`), so the same data gives
the same checksum on SQLite and PostgreSQL: a restore re-reads every table it wrote and compares.

Restore only fills an empty, migrated database, in one transaction: a wrong key, a damaged file, a
different schema, a checksum, audit-chain or decryption failure changes nothing.

Both leave an audit event (HIPAA 164.312(b), audit controls: a backup is the largest export there
is). A backup's comes after its file is in place, since its snapshot is read-only; a restore's is the
restored chain's next event, in the restore's transaction.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import hashlib
import importlib.metadata
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from django.apps import apps
from django.conf import settings
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, models, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.duration import duration_string

from spacebetween import clock, crypto
from spacebetween.accounts import signin
from spacebetween.audit.models import Action, AuditEvent, Purpose
from spacebetween.audit.selectors import verify_chain
from spacebetween.audit.services import record
from spacebetween.backup.archive import (
    FORMAT,
    ArchiveError,
    ArchiveWriter,
    atomic_private_file,
    key_fingerprint,
    publish,
    read_plaintext,
)
from spacebetween.exercises.services import entry_context
from spacebetween.notes import services as notes
from spacebetween.notifications.models import body_context
from spacebetween.relationship.services import note_context, rupture_context
from spacebetween.transcripts import services as transcripts

# Tables left out, and why. Content types and permissions are made by `migrate` with ids of its own,
# so a row that points at one is stored by the target's natural key instead (BY_NATURAL_KEY).
NOT_BACKED_UP = {
    "contenttypes.contenttype": "made by migrate",
    "auth.permission": "made by migrate",
    "sessions.session": "sign-ins are not restored: everyone signs in again",
    "accounts.usersession": "sign-ins are not restored: everyone signs in again",
}
BY_NATURAL_KEY = {"contenttypes.contenttype", "auth.permission"}
BATCH = 500


@dataclass(frozen=True)
class EncryptedField:
    """A column written with spacebetween.crypto, and the context its values are bound to."""

    model: str
    field: str
    context: Callable[[Any], str]
    related: tuple[str, ...] = ()


# The workspace's encrypted columns (spacebetween.formulation, in backup's own layer, so named here
# rather than imported): each row knows its context (`context_of`).
FORMULATION_ENCRYPTED = (
    ("formulation.FormulationVersion", "content_encrypted"),
    ("formulation.Goal", "text_encrypted"),
    ("formulation.ReconsolidationWork", "symptom_encrypted"),
    ("formulation.ReconsolidationWork", "emotional_truth_encrypted"),
    ("formulation.ReconsolidationStep", "text_encrypted"),
    ("formulation.MarkerCheck", "note_encrypted"),
)


def _rupture_note_context(name: str, row: Any) -> str:
    """A rupture note's text is bound to its field and session (relationship.services.rupture_context)."""
    return rupture_context(name, row.session_id)


def _own_context(field: str) -> Callable[[Any], str]:
    return lambda row: str(row.context_of(field))


# Every field encrypted with spacebetween.crypto.encrypt; tests/backup checks that none is missing.
ENCRYPTED_FIELDS = (
    *(EncryptedField(model, name, _own_context(name)) for model, name in FORMULATION_ENCRYPTED),
    EncryptedField(
        "relationship.SessionReflection", "feelings_note", lambda row: note_context(row.session_id)
    ),
    EncryptedField("notifications.OutboxMessage", "body_text", lambda row: body_context(row.message_id)),
    *(
        EncryptedField("relationship.RuptureNote", name, functools.partial(_rupture_note_context, name))
        for name in ("what_happened", "therapist_part", "repair")
    ),
    EncryptedField("notes.ProcessNote", "body", lambda row: notes.note_context(row.session_id)),
    EncryptedField(
        "transcripts.Transcript", "speakers", lambda row: transcripts.speakers_context(row.session_id)
    ),
    EncryptedField(
        "transcripts.Turn", "text", lambda row: transcripts.turn_context(row.transcript_id, row.number)
    ),
    EncryptedField("exercises.ExerciseEntry", "content", lambda row: entry_context(row.assignment_id)),
    EncryptedField(
        "notes.ProcessAddendum", "body", lambda row: notes.addendum_context(row.note_id, row.number)
    ),
    EncryptedField(
        "notes.SupervisionNote", "body", lambda row: notes.supervision_context(row.episode_id, row.number)
    ),
    EncryptedField(
        "accounts.TotpDevice",
        "secret_encrypted",
        lambda row: signin._secret_context(row.user),
        related=("user",),
    ),
)

ERROR_NOT_EMPTY = "The target database is not empty"
ERROR_NOT_MIGRATED = "The target database is not migrated to this version of Space Between"
ERROR_SCHEMA_BEHIND = "The database's schema is not the one this version of Space Between expects"
ERROR_OTHER_SCHEMA = "This backup was made at another schema version"
ERROR_CHECKSUM = "The restored data does not match the backup"
ERROR_AUDIT = "The audit log in this backup does not verify"
ERROR_DECRYPT = "Encrypted values in this backup do not decrypt with this installation's keys"
ERROR_UNSUPPORTED = "Backups support SQLite and PostgreSQL only"


class BackupError(Exception):
    """A backup or restore that was refused or failed; nothing was written (`BackupNotAudited` aside)."""


class BackupNotAudited(BackupError):
    """The backup file is complete and in place, but its audit event could not be written. The file is
    kept (it may be the one copy that gets the practice through what broke its database); the failure
    is reported so that the operator records the backup by hand."""


@dataclass
class TableSummary:
    rows: int
    sha256: str


@dataclass
class Manifest:
    format: int
    created_at: str
    database: str
    version: str
    key_fingerprint: str
    migrations: list[tuple[str, str]]
    tables: dict[str, TableSummary] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables.values())


@dataclass(frozen=True)
class RestoreReport:
    manifest: Manifest
    audit_events: int  # in the backup, verified
    restore_event: int  # the sequence number of the restore's own audit event
    decrypted: int


# --- the canonical row ---------------------------------------------------------------------------


def backed_up_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.label_lower not in NOT_BACKED_UP and model._meta.managed and not model._meta.proxy
    ]


def _columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return list(model._meta.concrete_fields)


def _by_natural_key(column: models.Field[Any, Any]) -> bool:
    related = column.related_model
    return bool(column.is_relation and related is not None and related._meta.label_lower in BY_NATURAL_KEY)


def _canonical(column: models.Field[Any, Any], value: Any) -> Any:
    """The value as JSON, the same whichever database it was read from."""
    if value is None or isinstance(column, models.JSONField):
        return value
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.UTC) if timezone.is_aware(value) else value).isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return duration_string(value)
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"{column} holds a {type(value).__name__}, which backups cannot store yet")


def _line(values: list[Any] | dict[str, Any]) -> bytes:
    """A row is a JSON array; the records around the rows (manifest, table, totals) are objects."""
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)
    return text.encode("utf-8")


def _natural_keys(column: models.Field[Any, Any]) -> dict[Any, list[Any]]:
    related = column.related_model
    assert related is not None and not isinstance(related, str)
    return {obj.pk: list(obj.natural_key()) for obj in related._base_manager.all()}  # type: ignore[attr-defined]


def _table_lines(model: type[models.Model]) -> Iterator[bytes]:
    columns = _columns(model)
    natural = {c.attname: _natural_keys(c) for c in columns if _by_natural_key(c)}
    rows = model._base_manager.order_by("pk").values_list(*[c.attname for c in columns])
    for values in rows.iterator(chunk_size=2000):
        yield _line(
            [
                natural[c.attname][v] if c.attname in natural and v is not None else _canonical(c, v)
                for c, v in zip(columns, values, strict=True)
            ]
        )


def _summarise(lines: Iterable[bytes]) -> TableSummary:
    digest, count = hashlib.sha256(), 0
    for line in lines:
        digest.update(line + b"\n")
        count += 1
    return TableSummary(count, digest.hexdigest())


# --- backup ----------------------------------------------------------------------------------------


def _code_migrations() -> set[tuple[str, str]]:
    return set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def _applied_migrations() -> set[tuple[str, str]]:
    return set(MigrationLoader(connection, ignore_no_migrations=True).applied_migrations)


def _version() -> str:
    try:
        return importlib.metadata.version("spacebetween")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@contextlib.contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent view of every table while the practice keeps working: a read-only REPEATABLE
    READ transaction on PostgreSQL; on SQLite a deferred read transaction (WAL keeps writers going;
    Django's own atomic() would BEGIN IMMEDIATE and hold up every writer for the whole backup)."""
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
        return
    if connection.vendor != "sqlite":
        raise BackupError(f"{ERROR_UNSUPPORTED}, not {connection.vendor}.")
    if connection.in_atomic_block:
        raise BackupError("A backup cannot run inside another transaction.")
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            cursor.execute("ROLLBACK")


def _record_operation(action: Action, event_type: str, detail: str) -> AuditEvent:
    """An operator's command on the whole database, in the audit log: no person, the system's role."""
    return record(
        action=action, event_type=event_type, purpose=Purpose.SYSTEM_ADMIN, actor_role="system", detail=detail
    )


def backup_write(path: Path, *, overwrite: bool = False) -> Manifest:
    """Write the whole database to `path` (0600, complete or not there at all)."""
    path = path.absolute()
    if path.exists() and not overwrite:
        raise BackupError(f"{path} already exists; choose a new name (or pass --overwrite).")
    if not path.parent.is_dir():
        raise BackupError(f"The folder {path.parent} does not exist.")
    if _applied_migrations() != _code_migrations():
        raise BackupError(
            f"{ERROR_SCHEMA_BEHIND}: back it up with the version of Space Between it was migrated with, "
            "or run `spacebetween migrate` first."
        )
    field_key = settings.FIELD_ENCRYPTION_KEYS[0]
    out, temp = atomic_private_file(path)
    try:
        writer = ArchiveWriter(out, field_key)
        with _snapshot():
            manifest = Manifest(
                format=FORMAT,
                created_at=clock.now().isoformat(),
                database=connection.vendor,
                version=_version(),
                key_fingerprint=key_fingerprint(field_key),
                migrations=sorted(_applied_migrations()),
            )
            head = {k: v for k, v in manifest.__dict__.items() if k != "tables"}
            writer.write(_line({"manifest": head}) + b"\n")
            for model in backed_up_models():
                columns = [c.attname for c in _columns(model)]
                writer.write(_line({"table": model._meta.label, "columns": columns}) + b"\n")
                digest, count = hashlib.sha256(), 0
                for line in _table_lines(model):
                    writer.write(line + b"\n")
                    digest.update(line + b"\n")
                    count += 1
                manifest.tables[model._meta.label] = TableSummary(count, digest.hexdigest())
        tables = {label: table.__dict__ for label, table in manifest.tables.items()}
        writer.write(_line({"tables": tables}) + b"\n")
        writer.close()
        publish(out, temp, path)
    except BaseException:
        out.close()
        temp.unlink(missing_ok=True)
        raise
    try:
        with transaction.atomic(durable=True):
            _record_operation(
                Action.READ,
                "backup",
                f"{len(manifest.tables)} tables, {manifest.rows} rows, key {manifest.key_fingerprint}",
            )
    except DatabaseError as exc:
        raise BackupNotAudited(
            f"The backup was written to {path}, but its audit event could not be recorded: {exc}. "
            "Keep the file, and note the backup in the practice's log by hand."
        ) from exc
    return manifest


# --- reading a backup ------------------------------------------------------------------------------


def _lines(pieces: Iterable[bytes]) -> Iterator[bytes]:
    pending = b""
    for piece in pieces:
        pending += piece
        *complete, pending = pending.split(b"\n")
        yield from complete
    if pending:
        raise ArchiveError("the backup file's content ends in the middle of a record")


def _control(line: bytes, key: str) -> Any:
    record = json.loads(line)
    if not (isinstance(record, dict) and key in record):
        raise ArchiveError(f"the backup file's content is out of order (expected its {key!r} record)")
    return record[key]


def _schema_problem(migrations: set[tuple[str, str]]) -> str | None:
    code = _code_migrations()
    if migrations == code:
        return None
    missing = sorted(code - migrations)
    extra = sorted(migrations - code)
    parts = []
    if missing:
        parts.append("it lacks " + ", ".join(f"{a}.{n}" for a, n in missing[:5]))
    if extra:
        parts.append(
            "it has migrations this version does not know: " + ", ".join(f"{a}.{n}" for a, n in extra[:5])
        )
    return (
        f"{ERROR_OTHER_SCHEMA}: {'; '.join(parts)}. Restore it with the version of Space Between that "
        "made it, then upgrade (spacebetween migrate)."
    )


Loader = Callable[[type[models.Model], list[list[Any]]], None]


def _read(path: Path, load: Loader | None = None) -> Manifest:
    """Walk the whole backup, checking key, schema, order, counts and checksums; hand each batch of
    rows to `load` when given."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise BackupError(f"Cannot open {path}: {exc.strerror}") from exc
    with raw:
        lines = _lines(read_plaintext(raw, list(settings.FIELD_ENCRYPTION_KEYS)))
        head = _control(next(lines, b"null"), "manifest")
        manifest = Manifest(**{**head, "migrations": [tuple(m) for m in head["migrations"]], "tables": {}})
        problem = _schema_problem(set(manifest.migrations))  # type: ignore[arg-type]
        if problem:
            raise BackupError(problem)
        expected = {model._meta.label: model for model in backed_up_models()}
        model: type[models.Model] | None = None
        digest, count = hashlib.sha256(), 0
        batch: list[list[Any]] = []
        for line in lines:
            if line.startswith(b"{"):
                if model is not None:
                    if load and batch:
                        load(model, batch)
                    manifest.tables[model._meta.label] = TableSummary(count, digest.hexdigest())
                record = json.loads(line)
                if "tables" in record:
                    _check_totals(manifest, record["tables"], expected)
                    if next(lines, None) is not None:
                        raise ArchiveError("the backup file's content goes on after its last record")
                    return manifest
                model = expected.get(record.get("table"))
                if model is None or record.get("columns") != [c.attname for c in _columns(model)]:
                    raise BackupError(
                        f"{ERROR_OTHER_SCHEMA}: the table {record.get('table')} differs from this version's."
                    )
                digest, count, batch = hashlib.sha256(), 0, []
                continue
            if model is None:
                raise ArchiveError("the backup file's content is out of order (a row before its table)")
            digest.update(line + b"\n")
            count += 1
            if load:
                batch.append(json.loads(line))
                if len(batch) >= BATCH:
                    load(model, batch)
                    batch = []
    raise ArchiveError("the backup file's content stops before its table of checksums")


def _check_totals(manifest: Manifest, totals: dict[str, Any], expected: dict[str, Any]) -> None:
    written = {label: TableSummary(**summary) for label, summary in totals.items()}
    if set(written) != set(expected) or written != manifest.tables:
        raise ArchiveError("the backup's rows do not match its own counts and checksums")


def backup_check(path: Path) -> Manifest:
    """Read the whole file and check it (key, integrity, schema, counts, checksums); writes nothing."""
    try:
        return _read(path)
    except ArchiveError as exc:
        raise BackupError(_sentence(exc)) from exc


def _sentence(exc: Exception) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


# --- restore ---------------------------------------------------------------------------------------


def _insert(model: type[models.Model], rows: list[list[Any]]) -> None:
    columns = _columns(model)
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself: `connection` is a proxy, slow per value
    natural: dict[str, dict[tuple[Any, ...], Any]] = {}
    prepared = []
    for row in rows:
        values = []
        for column, value in zip(columns, row, strict=True):
            if value is not None and _by_natural_key(column):
                value = _resolve_natural_key(column, value, natural)
            elif value is not None:
                value = column.get_db_prep_save(column.to_python(value), db)
            values.append(value)
        prepared.append(values)
    quote = db.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names from the model registry, quoted
        quote(model._meta.db_table),
        ", ".join(quote(str(c.column)) for c in columns),
        ", ".join(["%s"] * len(columns)),
    )
    with db.cursor() as cursor:
        cursor.executemany(sql, prepared)


def _resolve_natural_key(
    column: models.Field[Any, Any], key: list[Any], cache: dict[str, dict[tuple[Any, ...], Any]]
) -> Any:
    known = cache.setdefault(column.attname, {})
    flat = tuple(key)
    if flat not in known:
        related = column.related_model
        assert related is not None and not isinstance(related, str)
        try:
            known[flat] = related._default_manager.get_by_natural_key(*flat).pk  # type: ignore[attr-defined]
        except related.DoesNotExist as exc:  # type: ignore[attr-defined]
            raise BackupError(f"{ERROR_NOT_MIGRATED}: {related._meta.label} {flat} is missing.") from exc
    return known[flat]


def _non_empty_tables() -> list[str]:
    return [model._meta.label for model in backed_up_models() if model._base_manager.exists()]


def encrypted_values_decrypt() -> int:
    """Decrypt every encrypted value once, so that a restore whose key cannot read the data fails."""
    done, failed = 0, []
    for spec in ENCRYPTED_FIELDS:
        model = apps.get_model(spec.model)
        rows = model._base_manager.exclude(**{spec.field: ""}).select_related(*spec.related)
        for row in rows.iterator(chunk_size=2000):
            try:
                crypto.decrypt(getattr(row, spec.field), context=spec.context(row))
                done += 1
            except crypto.DecryptionError:
                failed.append(f"{spec.model}.{spec.field} #{row.pk}")
    if failed:
        raise BackupError(f"{ERROR_DECRYPT}: {len(failed)} value(s), first {failed[0]}.")
    return done


def restore(path: Path) -> RestoreReport:
    """Fill this empty, migrated database from the backup at `path`, in one transaction."""
    if connection.vendor not in {"sqlite", "postgresql"}:
        raise BackupError(f"{ERROR_UNSUPPORTED}, not {connection.vendor}.")
    manifest = backup_check(path)  # the whole file first: a damaged one is refused before any write
    if _applied_migrations() != _code_migrations():
        raise BackupError(f"{ERROR_NOT_MIGRATED}: run `spacebetween migrate` on it first.")
    try:
        with transaction.atomic():
            occupied = _non_empty_tables()
            if occupied:
                raise BackupError(
                    f"{ERROR_NOT_EMPTY} ({', '.join(occupied[:5])}{' ...' if len(occupied) > 5 else ''}). "
                    "Restore into a new database: create it, run `spacebetween migrate`, then restore."
                )
            _read(path, load=_insert)
            with connection.cursor() as cursor:
                for statement in connection.ops.sequence_reset_sql(no_style(), backed_up_models()):
                    cursor.execute(statement)
            for model in backed_up_models():
                if _summarise(_table_lines(model)) != manifest.tables[model._meta.label]:
                    raise BackupError(f"{ERROR_CHECKSUM}: table {model._meta.label}.")
            chain = verify_chain()
            if not chain.intact:
                raise BackupError(f"{ERROR_AUDIT}: {chain.problems[0].problem}.")
            decrypted = encrypted_values_decrypt()
            # The restored chain's next event: the database says where its rows came from.
            event = _record_operation(
                Action.CREATE,
                "restore",
                f"backup of {manifest.created_at[:19]} from {manifest.database}, {manifest.rows} rows",
            )
    except ArchiveError as exc:  # the file changed between the check and the load
        raise BackupError(_sentence(exc)) from exc
    return RestoreReport(
        manifest=manifest, audit_events=chain.events, restore_event=event.seq, decrypted=decrypted
    )


# --- key rotation ----------------------------------------------------------------------------------


def field_values_reencrypt() -> int:
    """Re-encrypt every encrypted value under the newest FIELD_ENCRYPTION_KEY, in one transaction, with
    an audit event. Afterwards the database needs no older key (backups made under one still do)."""
    done, newest = 0, key_fingerprint(settings.FIELD_ENCRYPTION_KEYS[0])
    with transaction.atomic():
        for spec in ENCRYPTED_FIELDS:
            manager = apps.get_model(spec.model)._base_manager
            rows = list(manager.exclude(**{spec.field: ""}).values_list("pk", spec.field))
            for pk, token in rows:
                manager.filter(pk=pk).update(**{spec.field: crypto.rotate(token)})
            done += len(rows)
        _record_operation(Action.EXECUTE, "key-rotation", f"{done} values re-encrypted under key {newest}")
    return done
