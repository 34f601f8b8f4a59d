"""In chromium: a memory-reconsolidation workflow taken from the symptom to its verification markers
and shown at the 3-month follow-up (due, then done), on its own page and on the client page's
timeline, by keyboard; every page passes axe-core (serious
and critical) at desktop width and on a 375 px phone without scrolling sideways."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from spacebetween.clients import services as clinical
from spacebetween.formulation import services
from spacebetween.formulation.models import MarkerCheck, ReconsolidationStep
from tests.browser.conftest import DESKTOP, PHONE, serious_accessibility_violations
from tests.conftest import FakeClock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _checked(page: Page) -> None:
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        assert serious_accessibility_violations(page) == [], f"{page.url} at {size['width']} px"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), size
    page.set_viewport_size(DESKTOP)


def _press(page: Page, button: str) -> None:
    page.get_by_role("button", name=button).focus()
    page.keyboard.press("Enter")


def _markers(page: Page, occasion: str, day: str, results: tuple[str, str, str]) -> None:
    page.get_by_label("When", exact=True).select_option(label=occasion)
    page.get_by_label("Date checked").fill(day)
    for group, result in zip(
        ("no longer re-triggered", "symptom has ceased", "persists without effort"), results, strict=True
    ):
        radio = page.get_by_role("group", name=group).get_by_role("radio", name=result, exact=True)
        radio.focus()
        page.keyboard.press("Space")
    _press(page, "Record the check")
    expect(page.get_by_role("status")).to_contain_text("The verification markers are recorded.")


def test_reconsolidation_to_the_three_month_follow_up(
    browser_page: Page, sign_in, demo_therapist, clock: FakeClock
) -> None:
    clock.set(dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC))
    client = clinical.client_create(actor=demo_therapist, given_name="Carol", family_name="Jones")
    episode = clinical.episode_open(
        actor=demo_therapist, client=client, referral_reason="Low mood", started_on=dt.date(2026, 9, 1)
    )
    services.formulation_revise(actor=demo_therapist, episode=episode, fields={"ccrt_wish": "To be heard"})
    page = browser_page
    sign_in(page, demo_therapist)
    page.goto(f"/episodes/{episode.pk}/workspace/")
    page.get_by_role("link", name="Start reconsolidation work").click()
    page.get_by_label("The symptom to be dissolved").fill("Goes silent when anyone is angry")
    page.get_by_label("Its emotional truth").fill("If I speak up when someone is angry, they leave")
    _checked(page)
    _press(page, "Start the work")
    expect(page.get_by_role("status")).to_contain_text("The reconsolidation work is started.")
    for step, day, text in (
        ("B. Retrieval", "2026-09-08", "Felt it: if I speak, Dad goes"),
        ("C. Disconfirming", "2026-09-15", "Gran stayed every time she shouted back"),
        ("D. Juxtaposition", "2026-09-22", "Held both at once: he left, and Gran stayed"),
    ):
        page.get_by_label("Step", exact=True).select_option(
            label=next(o for o in _options(page) if o.startswith(step))
        )
        page.get_by_label("Date", exact=True).fill(day)
        page.get_by_label("What happened, in the client's words").fill(text)
        _press(page, "Record the step")
        expect(page.get_by_role("status")).to_contain_text("The step is recorded.")
    assert ReconsolidationStep.objects.count() == 3
    _markers(page, "At a later session", "2026-09-29", ("Yes", "Partly", "Not checked"))
    expect(page.get_by_text("3-month follow-up: 22 Dec 2026 — Upcoming")).to_be_visible()
    _checked(page)

    clock.set(dt.datetime(2027, 1, 5, 12, 0, tzinfo=dt.UTC))  # two weeks after the 3-month date
    sign_in(page, demo_therapist)  # three months on, the sign-in has long expired
    page.goto(f"/episodes/{episode.pk}/workspace/")
    expect(page.get_by_text("3-month follow-up due")).to_be_visible()
    # On the client page's timeline (issue #17, part 5): the dated events, the follow-up due, a link
    page.goto(f"/clients/{client.pk}/")
    on_timeline = page.get_by_role("table", name="Steps, verification-marker checks and follow-ups due")
    expect(on_timeline.get_by_role("row").filter(has_text="D. Juxtaposition")).to_contain_text("22 Sep 2026")
    expect(on_timeline.get_by_role("row").filter(has_text="22 Dec 2026")).to_contain_text(
        "3-month follow-up: due"
    )
    _checked(page)
    on_timeline.get_by_role("link", name="Work 1").first.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("3-month follow-up: 22 Dec 2026 — Due")).to_be_visible()
    _markers(page, "3-month follow-up", "2027-01-05", ("Yes", "Yes", "Yes"))
    expect(page.get_by_text("3-month follow-up: 22 Dec 2026 — Done")).to_be_visible()
    timeline = page.get_by_role("list", name="Steps and marker checks, oldest first")
    expect(
        timeline.get_by_role("heading", name="5 Jan 2027: E. Verification markers: 3-month follow-up")
    ).to_be_visible()
    assert list(MarkerCheck.objects.values_list("occasion", flat=True).order_by("number")) == [
        "session",
        "3m",
    ]
    _checked(page)
    page.goto(f"/clients/{client.pk}/")
    on_timeline = page.get_by_role("table", name="Steps, verification-marker checks and follow-ups due")
    expect(on_timeline.get_by_role("row").filter(has_text="5 Jan 2027")).to_contain_text(
        "E. Verification markers: 3-month follow-up"
    )
    expect(on_timeline).not_to_contain_text("3-month follow-up: due")  # done, so no longer due


def _options(page: Page) -> list[str]:
    return page.get_by_label("Step", exact=True).locator("option").all_inner_texts()
