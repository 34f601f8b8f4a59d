"""End to end in chromium: the practice admin reaches the settings page, the audit log and the e-mail
outbox from the main navigation, filters the log by keyboard, and switches the WAI-SR on under
Instruments; no page has a serious accessibility problem at desktop width or on a phone (375 px)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from spacebetween.accounts.models import Role, User
from spacebetween.accounts.services import user_create
from spacebetween.measures.selectors import instruments_for
from spacebetween.notifications.services import outbox_enqueue
from spacebetween.practice.models import Practice
from tests.browser.conftest import PASSWORD, PHONE, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_admin(demo_practice: Practice) -> User:
    return user_create(
        practice=demo_practice,
        email="admin@demo.example.org",
        full_name="Ada Admin",
        role=Role.ADMIN,
        password=PASSWORD,
        is_demo_account=True,
    )


def _no_serious_problems(page: Page) -> None:
    assert serious_accessibility_violations(page) == []
    page.set_viewport_size(PHONE)
    assert serious_accessibility_violations(page) == []
    wide = page.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 376)"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className + ': ' + e.textContent.slice(0, 60))"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], wide


def test_the_owner_pages_by_keyboard_and_on_a_phone(browser_page: Page, sign_in, demo_admin: User) -> None:
    outbox_enqueue(
        practice_id=demo_admin.practice_id,
        to_address="carol@example.test",
        subject="A questionnaire is waiting for you",
        body_text="secret",
        kind="reminder",
    )
    page = browser_page
    sign_in(page, demo_admin)
    nav = page.get_by_role("navigation", name="Main")

    nav.get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Practice settings")
    _no_serious_problems(page)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    page.get_by_label("Action").select_option("R")
    page.get_by_role("button", name="Show events").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"action=R"))
    expect(page.get_by_role("table")).to_contain_text("Ada Admin")
    _no_serious_problems(page)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("navigation", name="Main").get_by_role("link", name="E-mail outbox").click()
    expect(page.get_by_role("table")).to_contain_text("A questionnaire is waiting for you")
    _no_serious_problems(page)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Instruments").click()
    section = page.get_by_role(
        "region", name="Working Alliance Inventory - Short Revised (WAI-SR), client form"
    )
    section.get_by_label("The practice accepts these terms").check()
    section.get_by_role("button", name="Accept the terms").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("is switched on")
    assert {"wai-sr"} == {
        i for i in instruments_for(demo_admin.practice) if i in {"wai-sr", "ders16", "ffmq15"}
    }
    _no_serious_problems(page)
