"""The fixed cast of test users, built with the real services.

- alice: a therapist; her caseload is `client_record` (Carol) with an open episode.
- carol_user: Carol's client-portal login; sees only her own record.
- bob: a colleague therapist in the same practice; sees nothing of Alice's caseload.
- sam: Alice's supervisor; sees only the episodes Alice shares for supervision, read-only.
- admin: the practice admin; manages staff, sees no clinical content.
- oscar: a therapist of another practice; everything of ours is 404 to him.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client as HttpClient
from pytest_django.fixtures import Settings

from spacebetween.accounts import signin
from spacebetween.accounts.models import Role, User
from spacebetween.accounts.services import user_create
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Client, Episode, Session
from spacebetween.practice.models import Practice
from spacebetween.practice.services import practice_create
from tests import selection

PASSWORD = "correct horse battery staple 42"


def pytest_addoption(parser: pytest.Parser) -> None:
    # Here, not in tests/durability/conftest.py: pytest only takes options from conftests it loads at
    # start-up, and `pytest tests` does not load that one before parsing the command line.
    parser.addoption(
        "--soak",
        action="store_true",
        help="run the durability tests (tests/durability, worker kills) many times longer",
    )
    parser.addoption(
        "--fast",
        action="store_true",
        help="leave out the slow tests (browsers, subprocesses, the linters: tests/selection.py)",
    )
    parser.addoption(
        "--db-only",
        action="store_true",
        help="only the tests that use the run's database (DATABASE_URL): CI's PostgreSQL pass",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Here, not in pyproject.toml: set on every test by tests/selection.py, never by hand.
    config.addinivalue_line("markers", "slow: browsers, subprocesses, the full demo (left out by --fast)")
    config.addinivalue_line("markers", "dbless: uses no database of the run's engine (left out by --db-only)")


@pytest.hookimpl(tryfirst=True)  # before `-m` reads the markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selection.mark(items)
    selection.deselect(config, items)


class FakeClock:
    """What `spacebetween.clock.now` returns while the `clock` fixture is in use: `clock.now` is the
    time; `clock.set(when)` and `clock.advance(minutes=16)` move it."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, when: dt.datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("the clock keeps aware times")
        self.now = when

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The one way to move time in a test: the product reads it only through `spacebetween.clock.now`
    (tests/test_clock.py checks), and this replaces that function. It starts at the real time, stopped.
    (A subprocess, such as the console command or a server, keeps the real clock.)"""
    fake = FakeClock(dt.datetime.now(dt.UTC))
    monkeypatch.setattr("spacebetween.clock.now", fake)
    return fake


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Settings) -> None:
    """Argon2 costs ~200 ms and 100 MiB per hash: right for production, too slow for a cast of seven
    users per test. tests/accounts/test_login.py checks that Argon2 is the configured hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def signed_in(user: User, http: HttpClient | None = None) -> HttpClient:
    """A browser session for `user` that is past MFA: for tests about pages, not about signing in
    (tests/accounts signs in through the real login and MFA steps)."""
    http = http or HttpClient()
    http.force_login(user)
    session = http.session
    session[signin.SESSION_MFA_DONE] = True
    session.save()
    return http


def share_for_supervision(therapist: User, episode: Episode) -> Episode:
    """The treating therapist shares an open episode with the practice's supervisors."""
    return clinical.episode_update(
        actor=therapist,
        episode=episode,
        referral_reason=episode.referral_reason,
        started_on=episode.started_on,
        ended_on=None,
        end_reason="",
        shared_for_supervision=True,
    )


@pytest.fixture
def practice(db: None) -> Practice:
    return practice_create(name="Riverside Therapy")


@pytest.fixture
def other_practice(db: None) -> Practice:
    return practice_create(name="Hilltop Clinic")


def _user(practice: Practice, name: str, role: Role, **kw: Any) -> User:
    return user_create(
        practice=practice,
        email=f"{name}@example.org",
        full_name=name.title(),
        role=role,
        password=PASSWORD,
        **kw,
    )


@pytest.fixture
def admin(practice: Practice) -> User:
    return _user(practice, "admin", Role.ADMIN)


@pytest.fixture
def sam(practice: Practice) -> User:
    return _user(practice, "sam", Role.SUPERVISOR)


@pytest.fixture
def alice(practice: Practice, sam: User) -> User:
    return _user(practice, "alice", Role.THERAPIST, supervisor=sam)


@pytest.fixture
def bob(practice: Practice) -> User:
    return _user(practice, "bob", Role.THERAPIST)


@pytest.fixture
def oscar(other_practice: Practice) -> User:
    return _user(other_practice, "oscar", Role.THERAPIST)


@pytest.fixture
def carol_user(practice: Practice) -> User:
    return _user(practice, "carol", Role.CLIENT)


@pytest.fixture
def client_record(alice: User, carol_user: User) -> Client:
    client = clinical.client_create(
        actor=alice, given_name="Carol", family_name="Jones", email="carol@example.org"
    )
    return clinical.client_portal_link(actor=alice, client=client, portal_user=carol_user)


@pytest.fixture
def episode(alice: User, client_record: Client) -> Episode:
    return clinical.episode_open(
        actor=alice,
        client=client_record,
        referral_reason="Low mood after bereavement",
        started_on=dt.date(2026, 9, 1),
    )


@pytest.fixture
def session(alice: User, episode: Episode) -> Session:
    return clinical.session_create(
        actor=alice, episode=episode, starts_at=dt.datetime(2026, 9, 8, 10, 0, tzinfo=dt.UTC)
    )
