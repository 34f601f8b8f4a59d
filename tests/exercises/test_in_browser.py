"""In chromium, from the keyboard, at phone width and on a desktop: the therapist sets an emotion
check-in and shares a page; the client does the check-in and reads the page; axe finds nothing serious."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from spacebetween.accounts.models import User
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Client
from spacebetween.exercises.models import ExerciseEntry, ReadingShare
from tests.browser.conftest import DESKTOP, PHONE, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def carol(demo_therapist: User, demo_client_user: User) -> Client:
    client = clinical.client_create(actor=demo_therapist, given_name="Carol", family_name="Jones")
    clinical.episode_open(
        actor=demo_therapist, client=client, referral_reason="Low mood", started_on=dt.date(2026, 1, 5)
    )
    return clinical.client_portal_link(actor=demo_therapist, client=client, portal_user=demo_client_user)


def accessible(page: Page, heading: str) -> None:
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert serious_accessibility_violations(page) == [], f"{heading} at {viewport['width']} px"
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def test_set_do_share_and_read(
    chromium,
    live_site,
    sign_in,
    demo_therapist,
    demo_client_user,
    carol,
    screenshot,
) -> None:
    therapist = chromium.new_context(viewport=DESKTOP, base_url=live_site)
    therapist.set_default_timeout(10_000)
    page = therapist.new_page()
    sign_in(page, demo_therapist)
    page.goto(f"/clients/{carol.pk}/")
    page.get_by_role("link", name="Set an exercise").click()
    accessible(page, "Set an exercise for Carol Jones")
    page.get_by_label("Emotion check-in").focus()
    page.keyboard.press("Space")
    page.get_by_label("Once a week").check()
    page.get_by_role("button", name="Set exercise").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Exercise set")
    page.get_by_label("Page to share").select_option(label="How emotions work, and why naming them helps")
    page.get_by_role("button", name="Share with the client").click()
    expect(page.get_by_role("status")).to_contain_text("Page shared")
    accessible(page, "Between sessions: Carol Jones")
    therapist.close()

    client = chromium.new_context(viewport=PHONE, base_url=live_site)
    client.set_default_timeout(10_000)
    page = client.new_page()
    sign_in(page, demo_client_user)
    page.get_by_role("link", name="Emotion check-in").click()
    accessible(page, "Emotion check-in")
    page.get_by_label("What are you feeling?").select_option("worried")
    page.get_by_label("How strong is it?").focus()
    page.keyboard.type("120")
    page.keyboard.press("Enter")  # submits the form from the keyboard
    expect(page.get_by_role("main")).to_contain_text("Give a number from 0 to 100.")
    assert not ExerciseEntry.objects.exists()
    page.get_by_label("How strong is it?").fill("60")
    page.get_by_label("What did you need?").fill("A walk outside")
    page.get_by_label("Keep this entry private").check()
    screenshot(page, "exercise-375")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    assert ExerciseEntry.objects.get().private
    page.get_by_role("link", name="How emotions work, and why naming them helps").click()
    accessible(page, "How emotions work, and why naming them helps")
    assert ReadingShare.objects.get().times_read == 1
    client.close()
