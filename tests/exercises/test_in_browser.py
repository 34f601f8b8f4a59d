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


def keyboard_fill(page: Page, label: str, text: str) -> None:
    page.get_by_label(label, exact=True).focus()
    page.keyboard.type(text)


def test_a_practice_exercise_and_the_relationship_diary_by_keyboard(
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
    page.goto("/library/")
    page.get_by_role("link", name="Write an exercise").focus()
    page.keyboard.press("Enter")
    accessible(page, "Write an exercise for the practice")
    keyboard_fill(page, "Title", "Urge surfing")
    keyboard_fill(page, "Why this can help", "An urge rises and falls like a wave.")
    keyboard_fill(page, "Steps", "Notice the urge.\nWatch it rise and fall.")
    keyboard_fill(page, "Question 1", "How calm are you now?")
    page.get_by_label("Answer to question 1").focus()
    page.keyboard.type("A scale from 0 to 10")
    page.get_by_label("Question 1 must be answered").focus()
    page.keyboard.press("Space")
    keyboard_fill(page, "Question 2", "Where did you do it?")
    page.get_by_label("Answer to question 2").focus()
    page.keyboard.type("Pick")
    keyboard_fill(page, "Options for question 2", "Only here")
    page.get_by_role("button", name="Write exercise").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_contain_text("A list needs 2 to")
    accessible(page, "Write an exercise for the practice")
    page.get_by_label("Options for question 2").focus()
    page.keyboard.press("End")
    page.keyboard.type("\nOutside")
    page.get_by_role("button", name="Write exercise").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Exercise written")
    accessible(page, "Between-sessions library")
    for title in ("Relationship diary", "Urge surfing (written in this practice)"):
        page.goto(f"/clients/{carol.pk}/")
        page.get_by_role("link", name="Set an exercise").focus()
        page.keyboard.press("Enter")
        page.get_by_label(title).focus()
        page.keyboard.press("Space")
        page.get_by_role("button", name="Set exercise").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_contain_text("Exercise set")
    therapist.close()

    client = chromium.new_context(viewport=PHONE, base_url=live_site)
    client.set_default_timeout(10_000)
    page = client.new_page()
    sign_in(page, demo_client_user)
    page.get_by_role("link", name="Relationship diary").focus()
    page.keyboard.press("Enter")
    accessible(page, "Relationship diary")
    expect(page.get_by_role("main")).to_contain_text("Luborsky")
    keyboard_fill(page, "Who was it, and what was happening?", "My sister, at dinner")
    keyboard_fill(page, "What did I want from them?", "To be listened to")
    keyboard_fill(page, "What did I expect them to do?", "Change the subject")
    keyboard_fill(page, "What did they really do?", "She asked a question")
    keyboard_fill(page, "What did I do?", "I went quiet")
    page.get_by_label("How did I feel afterwards?").focus()
    page.keyboard.type("confused")
    screenshot(page, "relationship-diary-375")
    page.get_by_role("button", name="Save").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Saved.")

    page.get_by_role("link", name="Urge surfing").focus()
    page.keyboard.press("Enter")
    accessible(page, "Urge surfing")
    keyboard_fill(page, "How calm are you now?", "12")
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_contain_text("Give a number from 0 to 10.")
    page.get_by_label("How calm are you now?").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("7")
    page.get_by_label("Where did you do it?").focus()
    page.keyboard.type("Outside")
    page.get_by_role("button", name="Save").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    client.close()
    titles = sorted(e.assignment.exercise for e in ExerciseEntry.objects.select_related("assignment"))
    assert titles[1] == "relationship-diary" and titles[0].startswith("practice-")
