"""End to end in chromium at phone width, by keyboard: the therapist tags a session's counter-
transference theme, follows "Write a rupture note" beside the rupture the chart detected, writes the
note, and finds it on the timeline under the space-between chart with the theme and its pattern. Each
page passes axe-core with no serious or critical violation and does not scroll sideways at 375 px."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from spacebetween.accounts.models import Role, User
from spacebetween.answering import services as answering
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Attendance, Episode
from spacebetween.insights import services as insights
from spacebetween.measures import services as measures_catalogue
from spacebetween.measures.selectors import licensed_pack, pack_terms_digest
from spacebetween.relationship.models import RuptureNote
from tests.browser.conftest import _demo_user, serious_accessibility_violations
from tests.insights.conftest import answers_for, session_start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WAI_SR = [50, 52, 51, 40, 45, 52]  # a possible rupture at session 4, repaired at session 6


@pytest.fixture
def ruptured(demo_therapist: User) -> Episode:
    admin = _demo_user(demo_therapist.practice, "admin", Role.ADMIN)
    measures_catalogue.licensed_pack_accept(
        actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True
    )
    client = clinical.client_create(actor=demo_therapist, given_name="Carol", family_name="Jones")
    n = len(WAI_SR)
    episode = clinical.episode_open(
        actor=demo_therapist, client=client, referral_reason="Grief", started_on=session_start(1, n).date()
    )
    for k, total in enumerate(WAI_SR, start=1):
        clinical.session_create(
            actor=demo_therapist,
            episode=episode,
            starts_at=session_start(k, n),
            attendance=Attendance.ATTENDED,
        )
        when = session_start(k, n) + dt.timedelta(hours=8)
        assignment = answering.assignment_create(
            actor=demo_therapist, episode=episode, instrument_id="wai-sr", due_at=when, now=when
        )
        answering.response_submit(
            assignment=assignment, answers=answers_for("wai-sr", total), via="link", now=when
        )
    insights.refresh_practice(demo_therapist.practice)
    return episode


def _fits_the_phone(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert serious_accessibility_violations(page) == []


def test_a_rupture_note_from_the_chart_appears_on_the_timeline_with_a_theme(
    browser_page: Page, sign_in, demo_therapist: User, ruptured: Episode, screenshot
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, demo_therapist)
    sessions = list(ruptured.sessions.order_by("starts_at"))

    # The counter-transference felt in the session before the rupture.
    page.goto(f"/sessions/{sessions[2].pk}/themes/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Transference themes: session with Carol Jones")
    _fits_the_phone(page)
    page.get_by_label("Counter-transference").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.type("wish to rescue")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("The theme is added")
    expect(page.get_by_role("table")).to_contain_text("wish to rescue")

    page.goto(f"/clients/{ruptured.client_id}/")
    timeline = page.locator(f"#timeline-{ruptured.pk}")
    expect(timeline).to_contain_text("Possible rupture (detected)")
    link = timeline.get_by_role("link", name="Write a rupture note")
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Rupture note: session with Carol Jones")
    _fits_the_phone(page)

    page.get_by_label("What happened").focus()
    page.keyboard.type("Went quiet and agreed with everything")
    page.keyboard.press("Tab")
    page.keyboard.type("I hurried on to the plan")
    page.keyboard.press("Tab")
    page.keyboard.type("Not yet talked about")
    page.get_by_label("Withdrawal (moving away)").focus()
    page.keyboard.press("Space")
    page.get_by_label("Not yet repaired").focus()
    page.keyboard.press("Space")
    screenshot(page, "rupture-note-375")
    page.get_by_role("button", name="Save rupture note").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("The rupture note is saved")
    timeline = page.locator(f"#timeline-{ruptured.pk}")
    expect(timeline).to_contain_text("Withdrawal (moving away); not yet repaired.")
    expect(timeline).to_contain_text("wish to rescue")
    expect(timeline.locator("table.theme-patterns")).to_contain_text("1 of 1")
    expect(timeline).not_to_contain_text("Went quiet")  # the note's text is never on the timeline
    _fits_the_phone(page)
    screenshot(page, "rupture-timeline-375")
    assert RuptureNote.objects.get().session_id == sessions[3].pk
