"""Browser tests: Playwright (sync API) driving Debian's chromium against pytest-django's live server.

Chromium missing: skipped locally, a failure under CI (CI=true), so that CI never passes by skipping.
Staff sign in with demo accounts (is_demo_account=True), which skip MFA outside production.

The live server needs a transactional database, which pytest-django empties after each test; the
audit log's append-only triggers refuse that, so `live_site` lifts them just before the flush and a
post_migrate receiver (the flush emits post_migrate) puts them back right after it.
"""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connections
from django.db.models.signals import post_migrate

from spacebetween.accounts.models import Role, User
from spacebetween.accounts.services import user_create
from spacebetween.practice.models import Practice
from spacebetween.practice.services import practice_create

if TYPE_CHECKING:  # playwright is imported where a browser starts
    from playwright.sync_api import ViewportSize

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE: ViewportSize = {"width": 375, "height": 812}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PASSWORD = "correct horse battery staple 42"
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "var" / "screenshots")
)

_triggers = importlib.import_module("spacebetween.audit.migrations.0002_append_only_triggers")


def _restore_audit_triggers(sender: Any, using: str = "default", **kwargs: Any) -> None:
    if getattr(sender, "label", "") != "audit":
        return
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for statement in _triggers.SQLITE_FORWARD:
                cursor.execute(statement.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1))
        elif connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


post_migrate.connect(_restore_audit_triggers, dispatch_uid="tests.browser.restore_audit_triggers")


def _lift_audit_triggers() -> None:
    connection = connections["default"]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for statement in _triggers.SQLITE_BACKWARD:
                cursor.execute(statement)
        elif connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")


@pytest.fixture
def live_site(live_server: Any) -> Iterator[str]:
    yield live_server.url
    _lift_audit_triggers()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is missing; CI must run the browser tests (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, which Django's async-safety
    # check takes for async code calling the ORM. Allowed only while the browser runs: the variable
    # must not leak into other tests (`check --deploy` rightly refuses it).
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium: Any, live_site: str) -> Iterator[Any]:
    """A fresh browser context (no cookies) on the live site, desktop-sized; resize for phone tests."""
    context = chromium.new_context(viewport=DESKTOP, base_url=live_site)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    def take(page: Any, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def demo_practice(live_site: str) -> Practice:
    return practice_create(name="Riverside Therapy")


def _demo_user(practice: Practice, name: str, role: Role) -> User:
    return user_create(
        practice=practice,
        email=f"{name}@demo.example.org",
        full_name=name.title(),
        role=role,
        password=PASSWORD,
        is_demo_account=True,
    )


@pytest.fixture
def demo_therapist(demo_practice: Practice) -> User:
    return _demo_user(demo_practice, "alice", Role.THERAPIST)


@pytest.fixture
def demo_client_user(demo_practice: Practice) -> User:
    return _demo_user(demo_practice, "carol", Role.CLIENT)


@pytest.fixture
def sign_in() -> Callable[[Any, User], None]:
    """Sign in through the real login page."""

    def go(page: Any, user: User) -> None:
        page.goto("/login/")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()

    return go


def serious_accessibility_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each (id, impact,
    the first offending element). axe-core comes from its package (axe-playwright-python bundles it),
    never from a CDN. Assert the list is empty, and check separately that the page is the right one."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target'] if v['nodes'] else ''} - {v['help']}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
