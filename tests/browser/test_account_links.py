"""End to end in chromium, on a phone (375 px) and by keyboard: a client who forgot their password asks
for a link from the sign-in page and chooses a new one; a therapist accepts the supervisor their admin
proposed. No page has a serious accessibility problem."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from spacebetween.accounts.models import Role, User
from spacebetween.accounts.services import user_create
from spacebetween.notifications.models import OutboxMessage
from spacebetween.practice.models import Practice
from tests.browser.conftest import PHONE, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a fresh long passphrase 31"  # noqa: S105


def _no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_client_resets_a_forgotten_password_on_a_phone(browser_page: Page, demo_practice: Practice) -> None:
    client = user_create(
        practice=demo_practice, email="dora@example.org", full_name="Dora", role=Role.CLIENT, password=None
    )
    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto("/login/")
    forgot = page.get_by_role("link", name="Forgot your password?")
    forgot.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Forgot your password?")
    assert serious_accessibility_violations(page) == []
    _no_sideways_scroll(page)
    page.get_by_label("Email address").fill(client.email)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("If that address has an account, we have sent a link")
    assert serious_accessibility_violations(page) == []

    body = OutboxMessage.objects.get(to_address=client.email).body()
    path = re.search(r"/welcome/[A-Za-z0-9_\-]+/", body)
    assert path
    page.goto(path.group(0))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    assert serious_accessibility_violations(page) == []
    _no_sideways_scroll(page)
    page.get_by_role("button", name="Start").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose your password")
    assert serious_accessibility_violations(page) == []
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/me/$"))
    client.refresh_from_db()
    assert client.check_password(NEW_PASSWORD)


def test_a_therapist_accepts_a_proposed_supervisor_by_keyboard(
    browser_page: Page, sign_in, demo_practice: Practice, demo_therapist: User
) -> None:
    vera = user_create(
        practice=demo_practice,
        email="vera@example.org",
        full_name="Vera",
        role=Role.SUPERVISOR,
        password=None,
    )
    User.objects.filter(pk=demo_therapist.pk).update(proposed_supervisor=vera)
    page = browser_page
    page.set_viewport_size(PHONE)
    sign_in(page, demo_therapist)
    notice = page.get_by_role("note").filter(has_text="proposed a new clinical supervisor")
    expect(notice).to_be_visible()
    notice.get_by_role("link", name="Accept or decline").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Supervision")
    assert serious_accessibility_violations(page) == []
    _no_sideways_scroll(page)
    page.get_by_role("button", name="Accept").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Supervisor accepted")
    assert serious_accessibility_violations(page) == []
    assert User.objects.get(pk=demo_therapist.pk).supervisor_id == vera.pk
