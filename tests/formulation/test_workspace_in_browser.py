"""In chromium: the treating therapist writes a formulation, revises it, compares the versions, adds a
goal and rates it, by keyboard; every page passes axe-core (serious and critical) at desktop width and
on a 375 px phone without scrolling sideways."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from spacebetween.clients import services as clinical
from spacebetween.clients.models import Attendance
from spacebetween.formulation.models import GoalRating
from tests.browser.conftest import DESKTOP, PHONE, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _checked(page: Page) -> None:
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        assert serious_accessibility_violations(page) == [], f"{page.url} at {size['width']} px"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), size
    page.set_viewport_size(DESKTOP)


def test_formulation_and_goals_by_keyboard_at_both_sizes(browser_page: Page, sign_in, demo_therapist) -> None:
    client = clinical.client_create(actor=demo_therapist, given_name="Carol", family_name="Jones")
    episode = clinical.episode_open(
        actor=demo_therapist, client=client, referral_reason="Low mood", started_on=dt.date(2026, 9, 1)
    )
    session = clinical.session_create(
        actor=demo_therapist, episode=episode, starts_at=dt.datetime(2026, 9, 8, 10, 0, tzinfo=dt.UTC)
    )
    session.attendance = Attendance.ATTENDED
    session.save(update_fields=["attendance"])
    page = browser_page
    sign_in(page, demo_therapist)
    page.goto(f"/clients/{client.pk}/")
    page.get_by_role("link", name="Formulation and goals").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Formulation and goals: Carol Jones")
    for wish in ("To be looked after", "To be close without being controlled"):
        page.get_by_role("link", name="formulation").first.click()
        page.get_by_label("Core conflictual relationship theme: Wish").fill(wish)
        _checked(page)
        page.get_by_role("button", name="Save as a new version").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_contain_text("saved as version")
    page.get_by_role("link", name="Compare versions").click()
    expect(page.get_by_text("1 part changed")).to_be_visible()
    _checked(page)
    page.get_by_role("link", name="Back to the formulation and goals").click()
    page.get_by_label("A goal, in the client's own words").fill("Say no without guilt")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("The goal is added.")
    page.get_by_label("Rating (0 = no progress, 10 = goal reached)").fill("4")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("The rating is saved.")
    assert list(GoalRating.objects.values_list("score", flat=True)) == [4]
    _checked(page)
