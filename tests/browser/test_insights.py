"""The insights in a real browser, on the synthetic demo practice: the demo therapist's caseload puts
the client who is off track first, their page shows the expected range and the space-between chart,
and the progress report renders (its first page turned into a PNG and its text read back)."""

from __future__ import annotations

from typing import Any

import pypdfium2
import pytest
from playwright.sync_api import Page, expect

from spacebetween.demo.generator import DEMO_PASSWORD, generate_demo_practice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(live_site: str) -> Any:
    return generate_demo_practice(seed=7)


def _sign_in(page: Page, email: str) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_the_off_track_client_comes_first_and_their_page_shows_why(
    browser_page: Page, demo: Any, screenshot, tmp_path
) -> None:
    page = browser_page
    _sign_in(page, demo.demo_therapist.email)
    page.goto("/caseload/")
    first = page.locator("table.caseload tbody tr").first
    expect(first.locator("th")).to_have_text(demo.demo_client.display_name)
    expect(first).to_contain_text("not on track")
    screenshot(page, "insights-caseload")

    first.locator("th a").click()
    page.wait_for_load_state()
    section = page.locator(f"#episode-{demo.demo_client.episodes.get(ended_on__isnull=True).pk}")
    expect(section.locator("svg .sb-expected").first).to_be_attached()  # the expected range is drawn
    expect(section.locator("svg title", has_text="The space between")).to_have_count(1)
    # The demo therapist answers the session rating (0-10, not validated): another metric than the
    # client's WAI-SR, so their view is a chart of its own beside it and no gap is drawn.
    expect(section.locator("svg title", has_text="the therapist's view")).to_have_count(1)
    expect(section.locator("svg .sb-gap")).to_have_count(0)
    expect(section.get_by_text("Possible rupture").first).to_be_attached()
    expect(section.locator("ul.alerts")).to_contain_text("not on track")
    screenshot(page, "insights-client-page")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    path = tmp_path / "report.pdf"
    download.value.save_as(path)
    pdf = pypdfium2.PdfDocument(str(path))
    first_page = pdf[0]
    image = first_page.render(scale=1).to_pil()
    png = tmp_path / "report-page-1.png"
    image.save(png)
    assert png.stat().st_size > 0
    assert image.convert("L").getextrema()[0] < 128  # something dark was drawn: not a blank page
    text = first_page.get_textpage().get_text_range()
    assert "Progress report for the session" in text
    assert demo.demo_client.display_name in text
    assert "(PHQ-9)" in text
