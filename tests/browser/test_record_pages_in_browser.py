"""In chromium, at desktop width and at 375 px: the pages a long course sends the therapist to, the
whole episode (`/episodes/<id>/`, reached from the client page's link) and the questionnaire answers
item by item (`/clients/<id>/answers/`). Each is the right page, has no serious accessibility
violation and does not scroll sideways on a phone."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from spacebetween import clock
from spacebetween.accounts.models import User
from spacebetween.answering.services import assignment_create, response_submit
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Attendance
from spacebetween.web.views import RECENT_ROWS
from tests.browser.conftest import DESKTOP, PHONE, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _long_course(therapist: User) -> tuple[int, int]:
    """A client with more weekly sessions than the client page lists, and one answered PHQ-9."""
    now = clock.now()
    client = clinical.client_create(actor=therapist, given_name="Nia", family_name="Okafor")
    weeks = RECENT_ROWS + 4
    episode = clinical.episode_open(
        actor=therapist,
        client=client,
        referral_reason="Low mood",
        started_on=(now - dt.timedelta(weeks=weeks + 1)).date(),
    )
    for week in range(weeks, 0, -1):
        clinical.session_create(
            actor=therapist,
            episode=episode,
            starts_at=now - dt.timedelta(weeks=week),
            attendance=Attendance.ATTENDED,
        )
    assignment = assignment_create(actor=therapist, episode=episode, instrument_id="phq9", due_at=now)
    response_submit(assignment=assignment, answers={f"phq9_{i}": 1 for i in range(1, 11)}, via="link")
    return client.pk, episode.pk


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_whole_episode_and_the_answers_pages(
    browser_page: Page, sign_in, demo_therapist: User, viewport
) -> None:
    client_id, episode_id = _long_course(demo_therapist)
    page = browser_page
    page.set_viewport_size(viewport)
    sign_in(page, demo_therapist)

    page.goto(f"/clients/{client_id}/")
    expect(page.get_by_text(f"The latest {RECENT_ROWS} of the {RECENT_ROWS + 4} sessions")).to_be_visible()
    page.get_by_role("link", name=f"The whole episode: all {RECENT_ROWS + 4} sessions").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Nia Okafor: episode from")
    assert page.url.endswith(f"/episodes/{episode_id}/")
    expect(page.get_by_text(f"The latest {RECENT_ROWS}")).to_have_count(0)
    expect(page.get_by_role("row")).to_have_count(RECENT_ROWS + 4 + 1)  # every session and the header
    assert serious_accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    page.goto(f"/clients/{client_id}/answers/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Nia Okafor")
    expect(page.get_by_text("Little interest or pleasure in doing things")).to_be_visible()
    assert serious_accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
