"""`spacebetween demo`: loads once, prints the logins, refuses production, never deletes a clinic database."""

from __future__ import annotations

import base64
import secrets
import sqlite3
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from spacebetween.accounts.models import Role, User
from spacebetween.accounts.services import user_create
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Client, Episode, Session
from spacebetween.demo.generator import DEMO_LOGINS, DEMO_PASSWORD, DemoState, demo_email, demo_state
from spacebetween.demo.management.commands.demo import (
    INCOMPLETE_DEMO,
    LICENSED_PACK_NOTE,
    MFA_NOTE,
    MFA_NOTE_DEMO_OFF,
    OTHER_PRACTICES,
    PRODUCTION_REFUSED,
    RESET_HAS_OTHER_DATA,
    RESET_NOT_EMBEDDED,
)
from spacebetween.exercises.models import ExerciseEntry
from spacebetween.measures.models import Response
from spacebetween.practice.models import Practice
from spacebetween.practice.services import practice_create


def _demo(**options: Any) -> str:
    # Without the two years of history (test_generator.py checks the full demo): quicker to load.
    options.setdefault("history", 0)
    out = StringIO()
    call_command("demo", stdout=out, **options)
    return out.getvalue()


def _fixed_part(message: str) -> str:
    return message.split("{")[0]


@pytest.mark.django_db
def test_it_loads_once_prints_every_login_and_keeps_the_data_on_a_second_run(settings: Any) -> None:
    # One test, because each load of the demo takes a while.
    out = _demo(seed=7)
    assert demo_state() == DemoState.COMPLETE
    for login in DEMO_LOGINS:
        assert f"{login.role}  " in out and login.email in out
    assert out.count(DEMO_PASSWORD) == len(DEMO_LOGINS)
    assert MFA_NOTE in out
    assert "http://127.0.0.1:8000/login/" in out
    assert LICENSED_PACK_NOTE in out and "reads each instrument's terms and accepts them" in out
    assert f"{Response.objects.count()} questionnaire answers" in out
    assert "Expected recovery fitted for: none (fewer than 40 completed episodes)" in out
    assert f"({ExerciseEntry.objects.count()} entries by the demo client)" in out  # demo.workspace
    before = (
        Client.objects.count(),
        Episode.objects.count(),
        list(Session.objects.values_list("pk", flat=True)),
        Response.objects.count(),
    )

    settings.ALLOW_DEMO_ACCOUNTS = False
    out = _demo(seed=8)
    assert "already loaded" in out and DEMO_PASSWORD in out
    assert MFA_NOTE_DEMO_OFF in out and MFA_NOTE not in out
    after = (
        Client.objects.count(),
        Episode.objects.count(),
        list(Session.objects.values_list("pk", flat=True)),
        Response.objects.count(),
    )
    assert after == before
    assert Practice.objects.count() == 1


@pytest.mark.django_db
def test_it_refuses_a_negative_history_and_loads_nothing() -> None:
    with pytest.raises(CommandError, match="--history takes a number of episodes, 0 or more, not -3"):
        _demo(history=-3)
    assert not Practice.objects.exists()


@pytest.mark.django_db
def test_it_refuses_to_add_the_demo_to_a_database_with_other_practices() -> None:
    practice_create(name="Riverside Therapy")
    with pytest.raises(CommandError) as exc:
        _demo()
    assert str(exc.value) == OTHER_PRACTICES
    assert not User.objects.exists()


@pytest.mark.django_db
def test_it_refuses_an_interrupted_demo() -> None:
    practice = practice_create(name="Willow Lane Therapy (demo)")
    user_create(practice=practice, email=demo_email("admin"), full_name="A", role=Role.ADMIN, password=None)
    with pytest.raises(CommandError) as exc:
        _demo()
    assert str(exc.value) == INCOMPLETE_DEMO
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_a_demo_cut_off_before_its_workspace_is_incomplete() -> None:
    """The client's portal login is linked before the workspace is written: a run cut off between the
    two is refused as interrupted, not taken for a complete demo."""
    practice = practice_create(name="Willow Lane Therapy (demo)")
    user_create(practice=practice, email=demo_email("admin"), full_name="A", role=Role.ADMIN, password=None)
    therapist = user_create(
        practice=practice, email=demo_email("therapist"), full_name="T", role=Role.THERAPIST, password=None
    )
    login = user_create(
        practice=practice, email=demo_email("client"), full_name="C", role=Role.CLIENT, password=None
    )
    client = clinical.client_create(actor=therapist, given_name="C", family_name="D")
    clinical.client_portal_link(actor=therapist, client=client, portal_user=login)
    assert demo_state() == DemoState.INCOMPLETE
    with pytest.raises(CommandError) as exc:
        _demo()
    assert str(exc.value) == INCOMPLETE_DEMO


@pytest.mark.django_db
def test_reset_refuses_a_database_that_is_not_the_embedded_one() -> None:
    # The test database is not ./var/spacebetween.sqlite3 (in-memory SQLite or PostgreSQL).
    with pytest.raises(CommandError) as exc:
        _demo(reset=True)
    assert str(exc.value).startswith(_fixed_part(RESET_NOT_EMBEDDED))


def test_it_refuses_to_run_in_production(cli: Any, demo_env: dict[str, str]) -> None:
    result = cli(
        "demo",
        SPACEBETWEEN_PRODUCTION="1",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="therapy.example.test",
        FIELD_ENCRYPTION_KEY=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    )
    assert result.returncode == 1, result.stderr
    assert PRODUCTION_REFUSED in result.stderr
    assert not (Path(demo_env["SPACEBETWEEN_DATA_DIR"]) / "spacebetween.sqlite3").exists()


def test_reset_never_touches_a_postgresql_database(cli: Any) -> None:
    # Nothing listens on port 9: the command must refuse before it ever connects.
    result = cli("demo", "--reset", DATABASE_URL="postgres://clinic@127.0.0.1:9/clinic")
    assert result.returncode == 1
    assert _fixed_part(RESET_NOT_EMBEDDED) in result.stderr and "postgresql" in result.stderr


def test_reset_deletes_the_embedded_demo_database_and_loads_afresh(
    cli: Any, demo_env: dict[str, str]
) -> None:
    assert cli("migrate").returncode == 0  # an earlier run's database (loading it twice is slow)
    path = Path(demo_env["SPACEBETWEEN_DATA_DIR"]) / "spacebetween.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE left_by_the_first_run (x)")
    result = cli("demo", "--reset", "--seed", "8", "--history", "0")
    assert result.returncode == 0, result.stderr
    assert "Deleted the demo database" in result.stdout and "seed 8" in result.stdout
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert db.execute("SELECT count(*) FROM practice_practice").fetchone() == (1,)
    assert "left_by_the_first_run" not in tables


def test_reset_refuses_an_embedded_database_with_other_practices(cli: Any, demo_env: dict[str, str]) -> None:
    assert cli("migrate").returncode == 0
    path = Path(demo_env["SPACEBETWEEN_DATA_DIR"]) / "spacebetween.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO practice_practice (name, time_zone, country, created_at) "
            "VALUES ('Solo practice', 'Europe/London', 'GB', '2026-01-01 00:00:00')"
        )
    result = cli("demo", "--reset")
    assert result.returncode == 1
    assert _fixed_part(RESET_HAS_OTHER_DATA) in result.stderr
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT name FROM practice_practice").fetchall() == [("Solo practice",)]
