"""End to end in chromium: a risk answer waits at the top of the therapist's caseload; they open it,
say what they did, and it leaves the caseload."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from spacebetween.answering import services as answering
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.safety.models import RiskFlag

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def flagged(demo_therapist) -> RiskFlag:
    """Carol answers PHQ-9 item 9 = 1 ("Several days"); Dan, also on the caseload, has no flag."""
    now = dt.datetime.now(dt.UTC)
    for given, family in (("Dan", "Adams"), ("Carol", "Jones")):
        client = clinical.client_create(actor=demo_therapist, given_name=given, family_name=family)
        episode = clinical.episode_open(
            actor=demo_therapist, client=client, referral_reason="Low mood", started_on=dt.date.today()
        )
    assignment = answering.assignment_create(
        actor=demo_therapist, episode=episode, instrument_id="phq9", due_at=now, now=now
    )
    answers: dict[str, int | None] = {f"phq9_{i}": 1 for i in range(1, 10)}
    answering.response_submit(assignment=assignment, answers=answers, via="link", now=now)
    return RiskFlag.objects.get()


def test_the_therapist_sees_the_flag_first_and_acknowledges_it(
    browser_page: Page, sign_in, demo_therapist, flagged, screenshot
) -> None:
    page = browser_page
    sign_in(page, demo_therapist)
    main = page.get_by_role("main")
    first_section = main.locator("section").first
    expect(first_section.get_by_role("heading", level=2)).to_have_text("Risk flags to review (1)")
    expect(first_section).to_contain_text("Carol Jones")
    expect(first_section).not_to_contain_text("Dan Adams")
    screenshot(page, "caseload-risk-flag")

    first_section.get_by_role("link", name="Review the risk flag for Carol Jones").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Risk flag: Carol Jones")
    expect(main).to_contain_text("better off dead")
    expect(main).to_contain_text("Several days (1)")

    page.get_by_role("button", name="Acknowledge risk flag").click()  # nothing said: refused
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    page.get_by_label("Reviewed the safety plan with the client").check()
    page.get_by_label("Details").fill("Called Carol; no plan or intent. Safety plan reviewed, GP informed.")
    page.get_by_role("button", name="Acknowledge risk flag").click()
    expect(page.get_by_role("status")).to_contain_text("Risk flag acknowledged")
    expect(main).to_contain_text("Reviewed the safety plan with the client: Called Carol")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Caseload").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Caseload")
    expect(main).not_to_contain_text("Risk flags to review")
    flagged.refresh_from_db()
    assert flagged.acknowledged_by_id == demo_therapist.pk
    seen = AuditEvent.objects.filter(
        entity_type="RiskFlag", entity_id=str(flagged.pk), actor_id=demo_therapist.pk
    )
    assert {"R", "U"} <= set(seen.values_list("action", flat=True)), "the review and the acknowledgement"
