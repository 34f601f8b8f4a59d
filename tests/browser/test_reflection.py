"""End to end in chromium at phone width: after a session the therapist records their view of the
relationship and a counter-transference check-in from the keyboard, and the client page says so."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from spacebetween.clients import services as clinical
from spacebetween.clients.models import Session
from spacebetween.relationship.models import SessionReflection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def last_session(demo_therapist) -> Session:
    client = clinical.client_create(actor=demo_therapist, given_name="Carol", family_name="Jones")
    episode = clinical.episode_open(
        actor=demo_therapist,
        client=client,
        referral_reason="Grief",
        started_on=dt.date.today() - dt.timedelta(days=30),
    )
    starts_at = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)
    return clinical.session_create(actor=demo_therapist, episode=episode, starts_at=starts_at)


def test_the_reflection_at_phone_width(
    browser_page: Page, sign_in, demo_therapist, last_session, screenshot
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, demo_therapist)
    page.goto(f"/clients/{last_session.episode.client_id}/")
    expect(page.get_by_role("main")).to_contain_text("No reflection yet")
    page.get_by_role("link", name="Record reflection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("After the session with Carol Jones")
    expect(page.get_by_role("main")).to_contain_text("not a validated instrument")

    # From the keyboard: four numbers, a feeling, its intensity.
    page.get_by_label("How connected did we feel in this session?").focus()
    for value in ("7", "6", "5", "8"):
        page.keyboard.type(value)
        page.keyboard.press("Tab")
    page.get_by_label("Protective").check()
    page.get_by_label("Moderate").check()
    page.get_by_label("Anything else you noticed in yourself").fill("Pulled to rescue her")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "reflection-375")
    page.get_by_role("button", name="Save reflection").click()

    expect(page.get_by_role("status")).to_contain_text("Your reflection on the session is saved.")
    expect(page.get_by_role("main")).to_contain_text("Reflection recorded")
    expect(page.get_by_role("main")).not_to_contain_text("Pulled to rescue her")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    saved = SessionReflection.objects.get()
    assert (saved.answers, saved.feelings, saved.intensity) == (
        {"bond": 7, "goals": 6, "tasks": 5, "overall": 8},
        ["protective"],
        3,
    )
