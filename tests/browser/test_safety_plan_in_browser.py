"""End to end in chromium: the therapist writes a safety plan from the keyboard on its page, the client
signs in and finds it in the portal, ready to print; no serious accessibility problem at desktop or
phone width on either page."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from spacebetween.accounts.models import User
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Client
from spacebetween.safety.models import SafetyPlan
from tests.browser.conftest import DESKTOP, PHONE, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def carol(demo_therapist: User, demo_client_user: User) -> Client:
    client = clinical.client_create(actor=demo_therapist, given_name="Carol", family_name="Jones")
    clinical.episode_open(
        actor=demo_therapist,
        client=client,
        referral_reason="Low mood",
        started_on=dt.date.today() - dt.timedelta(days=30),
    )
    return clinical.client_portal_link(actor=demo_therapist, client=client, portal_user=demo_client_user)


def accessible_at_both_widths(page: Page, heading: str) -> None:
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert serious_accessibility_violations(page) == [], f"{heading} at {viewport['width']} px"
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.set_viewport_size(DESKTOP)


def test_the_therapist_writes_the_plan_and_the_client_reads_it(
    chromium, live_site, sign_in, demo_therapist, demo_client_user, carol, screenshot
) -> None:
    therapist = chromium.new_context(viewport=DESKTOP, base_url=live_site)
    therapist.set_default_timeout(10_000)
    page = therapist.new_page()
    sign_in(page, demo_therapist)
    page.goto(f"/clients/{carol.pk}/")
    page.get_by_role("link", name="Safety plan").click()
    accessible_at_both_widths(page, "Safety plan for Carol Jones")

    # From the keyboard: type a section, Tab to the next, and send the form with Enter.
    page.get_by_label("Warning signs").focus()
    page.keyboard.type("Not sleeping, staying in bed")
    page.keyboard.press("Tab")
    page.keyboard.type("A walk by the river")
    for _ in range(2):
        page.keyboard.press("Tab")
    page.keyboard.type("My sister Ann, 07700 900123")
    for _ in range(3):
        page.keyboard.press("Tab")
    page.keyboard.type("My niece")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Save safety plan")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("Safety plan saved as version 1.")
    expect(page.get_by_label("Things I can do on my own")).to_have_value("A walk by the river")
    expect(page.get_by_role("table")).to_contain_text("Alice")
    accessible_at_both_widths(page, "Safety plan for Carol Jones")
    screenshot(page, "safety-plan-therapist")
    therapist.close()
    plan = SafetyPlan.objects.get()
    assert (
        plan.version,
        plan.warning_signs,
        plan.people_to_ask,
        plan.reasons_for_living,
        plan.distractions,
    ) == (
        1,
        "Not sleeping, staying in bed",
        "My sister Ann, 07700 900123",
        "My niece",
        "",
    )

    client = chromium.new_context(viewport=DESKTOP, base_url=live_site)
    client.set_default_timeout(10_000)
    page = client.new_page()
    sign_in(page, demo_client_user)
    page.goto("/me/")
    page.get_by_role("link", name="Read or print your safety plan").click()
    accessible_at_both_widths(page, "Your safety plan")
    main = page.get_by_role("main")
    expect(main).to_contain_text("Not sleeping, staying in bed")
    expect(main).to_contain_text("My sister Ann, 07700 900123")
    expect(page.get_by_role("button", name="Print")).to_be_visible()  # print.js ran under the CSP
    screenshot(page, "safety-plan-portal")

    # On paper only the plan: no navigation, no buttons.
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(main).to_contain_text("My niece")
    client.close()
