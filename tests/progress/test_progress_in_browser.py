"""In chromium at 375 px, from the keyboard: the client opens "Your progress" from their portal page
and reads their PHQ-9 over time in plain words, with none of the practice's internal words; the
therapist then hides the view from the client page and the client reads the plain sentence instead.
axe-core finds nothing serious or critical on either new page."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from spacebetween.accounts.models import User
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Client
from spacebetween.progress.models import ProgressViewSetting
from spacebetween.progress.wording import INTERNAL_WORDS
from tests.browser.conftest import DESKTOP, PHONE, serious_accessibility_violations
from tests.progress.conftest import phq9

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIRST = dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def carol(demo_therapist: User, demo_client_user: User) -> Client:
    client = clinical.client_create(actor=demo_therapist, given_name="Carol", family_name="Jones")
    episode = clinical.episode_open(
        actor=demo_therapist, client=client, referral_reason="Low mood", started_on=dt.date(2026, 9, 1)
    )
    phq9(demo_therapist, episode, 18, FIRST)
    phq9(demo_therapist, episode, 9, LATER)
    return clinical.client_portal_link(actor=demo_therapist, client=client, portal_user=demo_client_user)


def accessible(page: Page, heading: str) -> None:
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert serious_accessibility_violations(page) == [], f"{heading} at {viewport['width']} px"
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def test_the_client_sees_their_phq9_in_plain_words_and_the_therapist_can_hide_it(
    chromium, live_site, sign_in, demo_therapist, demo_client_user, carol, screenshot
) -> None:
    client = chromium.new_context(viewport=PHONE, base_url=live_site)
    client.set_default_timeout(10_000)
    page = client.new_page()
    sign_in(page, demo_client_user)
    page.get_by_role("link", name="See your progress").focus()
    page.keyboard.press("Enter")
    accessible(page, "Your progress")
    main = page.get_by_role("main")
    expect(main).to_contain_text("Your mood questionnaire (PHQ-9)")
    expect(main).to_contain_text("lower scores mean fewer difficulties")
    expect(main).to_contain_text("Your score went from 18 on 5 Oct 2026 to 9 on 16 Nov 2026.")
    expect(page.get_by_role("table", name="Your PHQ-9 scores, oldest first")).to_be_visible()
    text = main.inner_text().lower()
    assert [word for word in INTERNAL_WORDS if word in text] == []
    screenshot(page, "progress-375")

    therapist = chromium.new_context(viewport=PHONE, base_url=live_site)
    therapist.set_default_timeout(10_000)
    staff = therapist.new_page()
    sign_in(staff, demo_therapist)
    staff.goto(f"/clients/{carol.pk}/")
    expect(staff.get_by_text("Progress in the client's portal: shown")).to_be_visible()
    staff.get_by_role("link", name="Change whether the client sees their progress").press("Enter")
    accessible(staff, "Progress in the portal: Carol Jones")
    staff.get_by_label("Hide it").check()
    staff.get_by_role("button", name="Save").press("Enter")
    expect(staff.get_by_role("status")).to_contain_text("hidden in the portal")
    assert ProgressViewSetting.objects.get(client=carol).shown is False
    therapist.close()

    page.goto("/me/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Carol")
    expect(page.get_by_role("main")).to_contain_text("Your therapist will go through your progress with you")
    expect(page.get_by_role("link", name="See your progress")).to_have_count(0)
    page.goto("/me/progress/")
    accessible(page, "Your progress")
    expect(page.get_by_role("main")).not_to_contain_text("PHQ-9")
    client.close()
