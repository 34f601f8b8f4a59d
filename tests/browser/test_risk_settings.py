"""End to end in chromium: the practice admin makes "Several days" on PHQ-9 question 9 urgent and
shortens the urgent interval, by keyboard only; the page has no serious accessibility problem at
desktop width or on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from spacebetween.accounts.models import Role, User
from spacebetween.accounts.services import user_create
from spacebetween.practice.models import Practice
from spacebetween.safety.models import EscalationPolicy, RiskSeverityRule
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


def test_the_admin_changes_a_severity_and_an_interval_by_keyboard(
    browser_page: Page, sign_in, demo_admin: User, screenshot
) -> None:
    page = browser_page
    sign_in(page, demo_admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Risk settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Risk settings")
    assert serious_accessibility_violations(page) == []
    screenshot(page, "risk-settings")

    several_days = page.get_by_role("group", name="Answer 1: Several days")
    expect(several_days.get_by_role("radio", name="Review within one working day")).to_be_checked()
    several_days.get_by_role("radio", name="Review within one working day").focus()
    page.keyboard.press("ArrowUp")  # arrow keys move the choice within a radio group
    expect(several_days.get_by_role("radio", name="Urgent: act today")).to_be_checked()
    save = page.get_by_role("button", name=re.compile(r"^Save what each answer means for .*PHQ-9"))
    for _ in range(3):  # answers 2 and 3, then the button
        page.keyboard.press("Tab")
    expect(save).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Saved what each answer means")
    expect(
        page.get_by_role("group", name="Answer 1: Several days").get_by_role(
            "radio", name="Urgent: act today"
        )
    ).to_be_checked()
    assert list(RiskSeverityRule.objects.values_list("rule_id", "min_value", "severity")) == [
        ("phq9_9", 1.0, "urgent")
    ]

    minutes = page.get_by_label("Urgent flags: minutes before the next person is told")
    minutes.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("2")  # below five: refused on its field
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(page.get_by_role("heading", level=1)).to_have_text("Risk settings")
    assert not EscalationPolicy.objects.exists()
    assert serious_accessibility_violations(page) == []

    page.get_by_role("link", name=re.compile("Urgent flags: minutes")).press("Enter")  # the summary's link
    expect(minutes).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("30")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Saved the escalation times")
    expect(minutes).to_have_value("30")
    assert EscalationPolicy.objects.get().urgent_minutes == 30

    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Risk settings")
    assert serious_accessibility_violations(page) == []
    screenshot(page, "risk-settings-phone")
