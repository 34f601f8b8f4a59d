"""End to end in chromium: the therapist opens a risk flag from the caseload, sees how to reach the
client and their emergency contact, acknowledges it, and the client page keeps it in the risk
history. Both pages pass axe-core (serious and critical) at desktop width and on a 375 px phone."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from spacebetween.answering import services as answering
from spacebetween.clients import services as clinical
from spacebetween.safety.models import RiskFlag
from tests.browser.conftest import DESKTOP, PHONE, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DONE = "Called Carol; no plan or intent. Safety plan reviewed, GP informed."


@pytest.fixture
def flagged(demo_therapist) -> RiskFlag:
    """Carol, with a phone and an emergency contact, answers PHQ-9 item 9 = 2 ("More than half the days")."""
    now = dt.datetime.now(dt.UTC)
    client = clinical.client_create(
        actor=demo_therapist,
        given_name="Carol",
        family_name="Jones",
        phone="07700 900123",
        emergency_contact_name="Mark Jones",
        emergency_contact_relationship="Brother",
        emergency_contact_phone="07700 900456",
    )
    episode = clinical.episode_open(
        actor=demo_therapist, client=client, referral_reason="Low mood", started_on=dt.date.today()
    )
    assignment = answering.assignment_create(
        actor=demo_therapist, episode=episode, instrument_id="phq9", due_at=now, now=now
    )
    answers: dict[str, int | None] = {f"phq9_{i}": 1 for i in range(1, 9)}
    answers["phq9_9"] = 2
    answering.response_submit(assignment=assignment, answers=answers, via="link", now=now)
    return RiskFlag.objects.get()


def _accessible_at_both_sizes(page: Page, heading: str) -> None:
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert serious_accessibility_violations(page) == [], f"{heading} at {size['width']} px"
    page.set_viewport_size(DESKTOP)


def test_the_acknowledged_flag_stays_in_the_risk_history(
    browser_page: Page, sign_in, demo_therapist, flagged, screenshot
) -> None:
    page = browser_page
    sign_in(page, demo_therapist)
    main = page.get_by_role("main")
    main.get_by_role("link", name="Review the risk flag for Carol Jones").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Risk flag: Carol Jones")
    reach = main.locator("section", has=page.get_by_role("heading", name="Reaching the client"))
    expect(reach.get_by_role("link", name="call Carol Jones")).to_have_attribute("href", "tel:07700900123")
    expect(reach).to_contain_text("Mark Jones (Brother)")
    expect(main).to_contain_text("More than half the days (2)")
    expect(main).to_contain_text("Step 0: Alice")
    _accessible_at_both_sizes(page, "Risk flag: Carol Jones")
    screenshot(page, "risk-flag-acting")

    page.get_by_label("Contacted the client").check()
    page.get_by_label("Details").fill(DONE)
    page.get_by_role("button", name="Acknowledge risk flag").click()
    expect(page.get_by_role("status")).to_contain_text("Risk flag acknowledged")

    main.get_by_role("link", name="open the client record").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Carol Jones")
    history = main.locator("section#risk-history")
    expect(history.get_by_role("heading", level=2)).to_have_text("Risk history")
    expect(history).to_contain_text("More than half the days (2)")
    expect(history).to_contain_text("Acknowledged by Alice")
    expect(history).to_contain_text(f"Contacted the client: {DONE}")
    _accessible_at_both_sizes(page, "Carol Jones")
    screenshot(page, "client-risk-history")

    history.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Risk flag: Carol Jones")
