"""Issue #18's walk, in chromium: the therapist sets a thought record and mindful breathing; the
client does both in the portal at phone width from the keyboard alone (focus, type, Enter: no
clicks); the therapist then reads both entries on the episode's between-sessions page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from spacebetween.exercises.models import ExerciseEntry
from tests.browser.conftest import DESKTOP, PHONE
from tests.exercises.test_in_browser import accessible, carol  # noqa: F401  (carol: the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BALANCED = "She is probably busy; I can ask tomorrow"
NOTICED = "My shoulders dropped after a while"


def type_into(page: Page, label: str, text: str) -> None:
    page.get_by_label(label, exact=True).focus()
    page.keyboard.type(text)


def set_exercise(page: Page, name: str) -> None:
    page.get_by_label(name).focus()
    page.keyboard.press("Space")
    page.get_by_label("Every day").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Set exercise").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Exercise set")


def test_a_thought_record_and_mindful_breathing_set_done_by_keyboard_and_read(
    chromium,
    live_site,
    sign_in,
    demo_therapist,
    demo_client_user,
    carol,  # noqa: F811
) -> None:
    therapist = chromium.new_context(viewport=DESKTOP, base_url=live_site)
    therapist.set_default_timeout(10_000)
    page = therapist.new_page()
    sign_in(page, demo_therapist)
    for name in ("Thought record", "Mindful breathing"):
        page.goto(f"/clients/{carol.pk}/")
        page.get_by_role("link", name="Set an exercise").click()
        set_exercise(page, name)

    client = chromium.new_context(viewport=PHONE, base_url=live_site)
    client.set_default_timeout(10_000)
    portal = client.new_page()
    sign_in(portal, demo_client_user)
    portal.get_by_role("link", name="Thought record").focus()
    portal.keyboard.press("Enter")
    accessible(portal, "Thought record")
    type_into(portal, "What happened? Where were you, and who was there?", "My friend did not answer")
    portal.get_by_label("What did you feel?").focus()
    portal.keyboard.type("worr")  # a native select's type-ahead
    type_into(portal, "How strong was the feeling? (0 = not at all, 100 = the strongest ever)", "80")
    type_into(portal, "What went through your mind?", "She is angry with me")
    type_into(portal, "A fairer thought, taking both sides into account", BALANCED)
    type_into(portal, "How strong is the feeling now? (0 to 100)", "40")
    portal.get_by_role("button", name="Save").focus()
    portal.keyboard.press("Enter")
    expect(portal.get_by_role("status")).to_contain_text("Saved.")

    portal.goto("/me/")
    portal.get_by_role("link", name="Mindful breathing").focus()
    portal.keyboard.press("Enter")
    accessible(portal, "Mindful breathing")
    type_into(portal, "How many minutes did you practise?", "5")
    type_into(portal, "What did you notice?", NOTICED)
    portal.get_by_role("button", name="Save").focus()
    portal.keyboard.press("Enter")
    expect(portal.get_by_role("status")).to_contain_text("Saved.")
    client.close()
    entries = ExerciseEntry.objects.select_related("assignment").order_by("pk")
    assert [e.assignment.exercise for e in entries] == ["thought-record", "mindful-breathing"]
    assert not any(e.private for e in entries)

    page.goto(f"/clients/{carol.pk}/")
    page.get_by_role("link", name="Exercises, entries and pages").first.click()
    accessible(page, "Between sessions: Carol Jones")
    main = page.get_by_role("main")
    expect(main).to_contain_text(BALANCED)
    expect(main).to_contain_text(NOTICED)
    expect(main).to_contain_text("worried")
    therapist.close()
