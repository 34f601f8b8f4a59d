"""The data folder and what is in it are the service user's alone (Go live, item 11.4): the SQLite
database with its -wal and -shm, and the generated keys, even under the usual umask of 022."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

_CLEARED = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "FIELD_ENCRYPTION_KEY",
    "DATABASE_URL",
    "DJANGO_SETTINGS_MODULE",
)

# While a connection is open and has written, WAL mode keeps -wal and -shm beside the database.
_OPEN_AND_STAT = """
import json, os
from django.core import signing
from django.db import connection, transaction
from spacebetween import crypto
crypto.encrypt("x", context="test")
signing.dumps("x")
with transaction.atomic():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE probe (x integer)")
data = os.environ["SPACEBETWEEN_DATA_DIR"]
modes = {name: oct(os.stat(os.path.join(data, name)).st_mode & 0o777) for name in os.listdir(data)}
modes["."] = oct(os.stat(data).st_mode & 0o777)
print(json.dumps(modes))
"""


def _run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if k not in _CLEARED and not k.startswith("SPACEBETWEEN_")
    }
    environment["SPACEBETWEEN_DATA_DIR"] = str(data)
    return subprocess.run(
        [sys.executable, "-m", "spacebetween.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        umask=0o022,
    )


def test_a_fresh_installation_keeps_its_data_private(tmp_path) -> None:
    data = tmp_path / "data"
    migrated = _run(data, "migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stderr
    shown = _run(data, "shell", "-c", _OPEN_AND_STAT)
    assert shown.returncode == 0, shown.stderr
    modes = json.loads(shown.stdout.strip().splitlines()[-1])
    expected = {"spacebetween.sqlite3", "spacebetween.sqlite3-wal", "spacebetween.sqlite3-shm"}
    assert expected | {"secret_key", "field_key"} <= set(modes), modes
    assert modes.pop(".") == "0o700"
    assert {name: mode for name, mode in modes.items() if mode != "0o600"} == {}


def test_an_existing_database_left_readable_is_made_private(tmp_path) -> None:
    data = tmp_path / "data"
    assert _run(data, "migrate", "--no-input").returncode == 0
    database = data / "spacebetween.sqlite3"
    database.chmod(0o644)
    shown = _run(data, "shell", "-c", _OPEN_AND_STAT)
    assert shown.returncode == 0, shown.stderr
    modes = json.loads(shown.stdout.strip().splitlines()[-1])
    assert modes["spacebetween.sqlite3"] == modes["spacebetween.sqlite3-wal"] == "0o600"


def test_a_folder_the_database_is_put_in_by_the_operator_is_left_as_it_is(tmp_path) -> None:
    # DATABASE_URL may name a file in a shared folder: only a folder the product makes is made 0700.
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    environment = {
        k: v for k, v in os.environ.items() if k not in _CLEARED and not k.startswith("SPACEBETWEEN_")
    }
    environment.update(
        {"SPACEBETWEEN_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": f"sqlite:///{shared}/db.sqlite3"}
    )
    result = subprocess.run(
        [sys.executable, "-m", "spacebetween.cli", "migrate", "--no-input"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        umask=0o022,
    )
    assert result.returncode == 0, result.stderr
    assert shared.stat().st_mode & 0o777 == 0o755
    assert (shared / "db.sqlite3").stat().st_mode & 0o777 == 0o600
