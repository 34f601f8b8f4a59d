"""The mindful-breathing timer, in chromium at 375 px and from the keyboard: it starts, moves, pauses
and fills in the minutes practised; at the end one polite message, not one a second; without
JavaScript the timer is hidden and the minutes are typed by hand. axe finds nothing serious."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from spacebetween import clock
from spacebetween.accounts.models import User
from spacebetween.clients import services as clinical
from spacebetween.exercises import selectors, services
from spacebetween.exercises.models import ExerciseAssignment, ExerciseEntry
from tests.browser.conftest import PHONE, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def breathing(demo_therapist: User, demo_client_user: User) -> ExerciseAssignment:
    client = clinical.client_create(actor=demo_therapist, given_name="Carol", family_name="Jones")
    episode = clinical.episode_open(
        actor=demo_therapist, client=client, referral_reason="Low mood", started_on=dt.date(2026, 1, 5)
    )
    clinical.client_portal_link(actor=demo_therapist, client=client, portal_user=demo_client_user)
    today = services.practice_today(episode, clock.now())
    return services.exercise_assign(
        actor=demo_therapist,
        episode=episode,
        exercise="mindful-breathing",
        frequency="daily",
        starts_on=today,
        ends_on=today + dt.timedelta(days=6),
    )


def test_the_timer_moves_pauses_ends_and_records_the_minutes(
    chromium, live_site, sign_in, demo_client_user, breathing, screenshot
) -> None:
    context = chromium.new_context(viewport=PHONE, base_url=live_site)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, demo_client_user)
    page.goto(f"/me/exercises/{breathing.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mindful breathing")
    left = page.locator("#timer-left")
    expect(left).to_have_text("5:00")
    message = page.locator("#timer-message")
    expect(message).to_have_attribute("aria-live", "polite")
    assert serious_accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.get_by_role("button", name="Start").focus()
    page.keyboard.press("Enter")
    expect(left).not_to_have_text("5:00")  # it moves
    expect(message).to_have_text("")  # and says nothing while it does
    page.keyboard.press("Enter")  # focus moved to Pause
    minutes = page.get_by_label("How many minutes did you practise?")
    expect(minutes).to_have_value("1")
    screenshot(page, "timer-375")
    page.get_by_role("button", name="Reset").click()
    expect(left).to_have_text("5:00")

    # To the end, on a fake clock: one message, and the full length filled in.
    page.clock.install()
    page.reload()
    page.get_by_role("button", name="Start").focus()
    page.keyboard.press("Enter")
    page.clock.run_for(5 * 60 * 1000 + 1000)
    expect(message).to_have_text("Time is up: 5 minutes. The minutes are filled in below.")
    expect(left).to_have_text("0:00")
    expect(minutes).to_have_value("5")
    assert serious_accessibility_violations(page) == []
    page.get_by_label("What did you notice?").fill("My shoulders let go")
    page.get_by_role("button", name="Save").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Saved")
    entry = ExerciseEntry.objects.get()
    assert ("How many minutes did you practise?", "5 minutes") in selectors.entry_answers(breathing, entry)
    context.close()


def test_without_javascript_the_minutes_are_typed_by_hand(
    chromium, live_site, sign_in, demo_client_user, breathing
) -> None:
    context = chromium.new_context(viewport=PHONE, base_url=live_site, java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, demo_client_user)
    page.goto(f"/me/exercises/{breathing.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mindful breathing")
    expect(page.locator("#practice-timer")).to_be_hidden()  # no buttons that would do nothing
    page.get_by_label("How many minutes did you practise?").fill("3")
    page.get_by_role("button", name="Save").click()
    entry = ExerciseEntry.objects.get()
    assert ("How many minutes did you practise?", "3 minutes") in selectors.entry_answers(breathing, entry)
    context.close()
