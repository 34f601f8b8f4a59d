"""In chromium: the treating therapist goes from the client page to consent and data rights, records
a withdrawal with the keyboard alone, and the page passes axe-core (serious and critical) at desktop
width and on a 375 px phone without scrolling sideways."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from spacebetween.clients import services as clinical
from spacebetween.consent.models import ConsentRecord
from tests.browser.conftest import DESKTOP, PHONE, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_consent_and_data_rights_by_keyboard_at_both_sizes(
    browser_page: Page, sign_in, demo_therapist
) -> None:
    client = clinical.client_create(
        actor=demo_therapist, given_name="Carol", family_name="Jones", email="carol@example.org"
    )
    clinical.episode_open(
        actor=demo_therapist, client=client, referral_reason="Low mood", started_on=dt.date.today()
    )
    page = browser_page
    sign_in(page, demo_therapist)
    page.goto(f"/clients/{client.pk}/")
    page.get_by_role("link", name="Change consent, export the record or erase it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Consent and data rights: Carol Jones")
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        assert serious_accessibility_violations(page) == [], f"at {size['width']} px"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), size
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="Record consent given to contact by e-mail").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Consent recorded.")
    page.get_by_role("button", name="Record withdrawal of consent to contact by e-mail").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Contact by e-mail: Withdrawn")).to_be_visible()
    assert list(ConsentRecord.objects.values_list("given", flat=True)) == [True, False]
    assert serious_accessibility_violations(page) == []
