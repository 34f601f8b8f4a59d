"""End to end in chromium: a therapist builds a record (client, episode, session) and sees it; the
same at phone width; a client sees only their own page."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from playwright.sync_api import Page, expect

from spacebetween.clients import services as clinical

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONDON = zoneinfo.ZoneInfo("Europe/London")


def _next_session_local() -> dt.datetime:
    """Ten days ahead at 09:30 practice time: always upcoming, whatever day the suite runs."""
    day = dt.datetime.now(LONDON).date() + dt.timedelta(days=10)
    return dt.datetime(day.year, day.month, day.day, 9, 30)


def _build_a_record(page: Page) -> None:
    """Caseload -> add client (after one refused attempt) -> open episode -> schedule session."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Caseload")
    page.get_by_role("main").get_by_role("link", name="Add client").click()

    page.get_by_role("button", name="Add client").click()  # nothing typed: refused, field by field
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(page.get_by_label("Given name")).to_have_attribute("aria-invalid", "true")
    page.get_by_role("link", name="Given name: This field is required.").click()
    expect(page.get_by_label("Given name")).to_be_focused()

    page.get_by_label("Given name").fill("Erin")
    page.get_by_label("Family name").fill("Walsh")
    page.get_by_label("Email").fill("erin@example.org")
    page.get_by_role("button", name="Add client").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Erin Walsh")
    expect(page.get_by_role("status")).to_contain_text("Client added.")

    page.get_by_role("main").get_by_role("link", name="Open an episode").first.click()
    page.get_by_label("Referral reason").fill("Panic attacks on the commute")
    page.get_by_label("Start date").fill(dt.date.today().isoformat())
    page.get_by_role("button", name="Open episode").click()
    expect(page.get_by_text("Panic attacks on the commute")).to_be_visible()

    page.get_by_role("link", name="Schedule a session").click()
    page.get_by_label("Date and time").fill(_next_session_local().strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Schedule session").click()
    expect(page.get_by_role("status")).to_contain_text("Session scheduled.")


def _expect_record_on_pages(page: Page) -> None:
    when = _next_session_local()
    shown = f"{when:%a} {when.day} {when:%b %Y}, 09:30"  # in the practice's time zone, as typed
    expect(page.get_by_role("table").first).to_contain_text(shown)
    expect(page.get_by_role("table").first).to_contain_text("Scheduled")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Caseload").click()
    row = page.get_by_role("row", name=re.compile("Erin Walsh"))
    expect(row).to_contain_text(shown)


def _no_sideways_scrolling(page: Page) -> None:
    size = page.viewport_size
    assert size is not None
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]


def test_a_therapist_adds_a_client_episode_and_session_and_sees_them(
    browser_page: Page, sign_in, demo_therapist
) -> None:
    page = browser_page
    sign_in(page, demo_therapist)
    assert page.url.endswith("/caseload/")
    _build_a_record(page)
    _expect_record_on_pages(page)


def test_the_same_flow_works_at_phone_width(browser_page: Page, sign_in, demo_therapist, screenshot) -> None:
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, demo_therapist)
    _build_a_record(page)
    _no_sideways_scrolling(page)
    screenshot(page, "client-page-375")
    _expect_record_on_pages(page)
    _no_sideways_scrolling(page)
    screenshot(page, "caseload-375")
    # The table turns into labelled blocks: the column header is hidden, each cell says what it is.
    expect(page.get_by_role("row", name=re.compile("Erin Walsh")).locator("td").last).to_be_visible()
    label = page.evaluate(
        "getComputedStyle(document.querySelector('td[data-label=\"Next session\"]'), '::before').content"
    )
    assert "Next session" in label


def test_keyboard_users_can_skip_to_the_content(browser_page: Page, sign_in, demo_therapist) -> None:
    page = browser_page
    sign_in(page, demo_therapist)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # visible focus


@pytest.fixture
def carol_with_sessions(demo_therapist, demo_client_user, demo_practice):
    carol = clinical.client_create(actor=demo_therapist, given_name="Carol", family_name="Jones")
    clinical.client_portal_link(actor=demo_therapist, client=carol, portal_user=demo_client_user)
    dan = clinical.client_create(actor=demo_therapist, given_name="Dan", family_name="Price")
    soon = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=7)
    for client, reason, starts_at in (
        (carol, "Grief", soon),
        (dan, "Work stress", soon + dt.timedelta(hours=2)),
    ):
        episode = clinical.episode_open(
            actor=demo_therapist, client=client, referral_reason=reason, started_on=dt.date.today()
        )
        clinical.session_create(actor=demo_therapist, episode=episode, starts_at=starts_at)
    return carol


def test_a_client_sees_only_their_own_page(
    browser_page: Page, sign_in, demo_client_user, carol_with_sessions, screenshot
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, demo_client_user)
    assert page.url.endswith("/me/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Carol")
    expect(page.get_by_role("table")).to_contain_text("Alice")
    assert page.get_by_role("table").locator("tbody tr").count() == 1
    body = page.locator("main").inner_text()
    for other in ("Dan", "Price", "Grief", "Work stress"):
        assert other not in body
    _no_sideways_scrolling(page)
    screenshot(page, "portal-375")

    for url in (f"/clients/{carol_with_sessions.pk}/", "/caseload/", "/practice/"):
        page.goto(url)
        expect(page.get_by_role("heading", level=1)).to_have_text("You cannot do this")


def test_the_client_page_at_desktop_width(browser_page: Page, sign_in, demo_therapist, screenshot) -> None:
    page = browser_page
    sign_in(page, demo_therapist)
    _build_a_record(page)
    screenshot(page, "client-page-desktop")
    expect(page.get_by_role("columnheader", name="Date and time")).to_be_visible()
