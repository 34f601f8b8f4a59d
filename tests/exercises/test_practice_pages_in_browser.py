"""A practice's own library page in chromium, by keyboard, at phone width and on a desktop: the
therapist writes it (an error first), shares it; the client reads it, with no script run and no
remote image; axe finds nothing serious on either page."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from spacebetween.accounts.models import User
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Client
from spacebetween.exercises.models import ReadingShare
from tests.browser.conftest import DESKTOP, PHONE
from tests.exercises.test_in_browser import accessible, keyboard_fill

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BODY = (
    "# Finding us\n\nThe quiet room is on the **second** floor. [Map](https://example.org/map)\n\n"
    "<script>window.ran = true</script>\n\n![the door](https://tracker.example/pixel.png)\n"
)


@pytest.fixture
def robin(demo_therapist: User, demo_client_user: User) -> Client:
    client = clinical.client_create(actor=demo_therapist, given_name="Robin", family_name="Hale")
    clinical.episode_open(
        actor=demo_therapist, client=client, referral_reason="Worry", started_on=dt.date(2026, 1, 5)
    )
    return clinical.client_portal_link(actor=demo_therapist, client=client, portal_user=demo_client_user)


def test_a_practice_page_written_shared_and_read(
    chromium,
    live_site,
    sign_in,
    demo_therapist,
    demo_client_user,
    robin,
    screenshot,
) -> None:
    therapist = chromium.new_context(viewport=PHONE, base_url=live_site)
    therapist.set_default_timeout(10_000)
    page = therapist.new_page()
    sign_in(page, demo_therapist)
    page.goto("/library/")
    page.get_by_role("link", name="Write a page").focus()
    page.keyboard.press("Enter")
    accessible(page, "Write a page for the practice")
    keyboard_fill(page, "Title", "Finding the quiet room")
    page.get_by_role("button", name="Write page").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_contain_text("Say in one line what the page is about")
    accessible(page, "Write a page for the practice")
    keyboard_fill(page, "In one line", "Where to wait before a session.")
    page.get_by_label("The page", exact=True).fill(BODY)
    keyboard_fill(page, "Sources", "Our own experience")
    page.get_by_role("button", name="Write page").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Page written")
    page.goto(f"/clients/{robin.pk}/")
    page.get_by_role("link", name="Exercises, entries and pages").click()
    page.get_by_label("Page to share").select_option(
        label="Finding the quiet room (written in this practice)"
    )
    page.get_by_role("button", name="Share with the client").click()
    expect(page.get_by_role("status")).to_contain_text("Page shared")
    therapist.close()

    client = chromium.new_context(viewport=DESKTOP, base_url=live_site)
    client.set_default_timeout(10_000)
    remote: list[str] = []
    client.on("request", lambda r: remote.append(r.url) if "tracker.example" in r.url else None)
    page = client.new_page()
    sign_in(page, demo_client_user)
    page.get_by_role("link", name="Finding the quiet room").click()
    accessible(page, "Finding the quiet room")
    expect(page.get_by_role("heading", level=2, name="Finding us")).to_be_visible()
    expect(page.get_by_role("link", name="Map")).to_have_attribute("href", "https://example.org/map")
    assert page.evaluate("window.ran === undefined")  # the script is text, not run
    assert page.locator("main img").count() == 0 and remote == []
    screenshot(page, "practice-page-375")
    assert ReadingShare.objects.get().times_read == 1
    client.close()
