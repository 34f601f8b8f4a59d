"""In chromium: the treating therapist goes from the client page to a session's transcript, uploads a
WebVTT file, says who each speaker is with the keyboard alone, reads the coded session and then its
figures across the episode beside the outcome and alliance charts; every page
passes axe-core (serious and critical) at desktop width and on a 375 px phone without scrolling
sideways."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from spacebetween.accounts.models import User
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Attendance
from spacebetween.transcripts.models import Transcript
from tests.browser.conftest import DESKTOP, PHONE, serious_accessibility_violations
from tests.transcripts.conftest import SECRET, VTT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _check_page(page: Page) -> None:
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        assert serious_accessibility_violations(page) == [], f"at {size['width']} px"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), size
    page.set_viewport_size(DESKTOP)


def test_upload_a_vtt_map_speakers_by_keyboard_and_read_the_coded_session(
    browser_page: Page, sign_in: Any, demo_therapist: User, tmp_path: Path
) -> None:
    client = clinical.client_create(actor=demo_therapist, given_name="Carol", family_name="Jones")
    episode = clinical.episode_open(
        actor=demo_therapist,
        client=client,
        referral_reason="Drinking",
        started_on=dt.date.today() - dt.timedelta(days=7),
    )
    clinical.session_create(
        actor=demo_therapist,
        episode=episode,
        starts_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
        attendance=Attendance.ATTENDED,
    )
    file = tmp_path / "session.vtt"
    file.write_bytes(VTT)
    page = browser_page
    sign_in(page, demo_therapist)
    page.goto(f"/clients/{client.pk}/")
    page.get_by_role("link", name=re.compile(r"^Transcript of the session of")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Session transcript: Carol Jones")
    _check_page(page)
    page.get_by_label("Transcript file").set_input_files(str(file))
    page.get_by_role("button", name="Upload and read").press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Who is who in the transcript")
    _check_page(page)
    # Keyboard only: the first radio of each group, then arrow keys within it (native radio groups).
    for name, presses in (("Dr Ames", 0), ("Carol", 1), ("Interpreter", 2)):
        group = page.get_by_role("group", name=name)
        group.get_by_role("radio").first.focus()
        page.keyboard.press("Space")
        for _ in range(presses):
            page.keyboard.press("ArrowDown")
    expect(
        page.get_by_role("group", name="Interpreter").get_by_role("radio", name="Leave out")
    ).to_be_checked()
    page.get_by_role("button", name="Save and code the transcript").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Session transcript: Carol Jones")
    expect(page.get_by_role("heading", name="The transcript, coded")).to_be_visible()
    expect(page.get_by_text(SECRET)).to_be_visible()
    expect(page.locator("[data-figure=reflection_to_question]")).to_contain_text(
        "Reflection-to-question ratio"
    )
    expect(page.get_by_text(re.compile("never on its own to judge a therapist"))).to_be_visible()
    assert Transcript.objects.get().coded_at is not None
    codes = page.locator("[data-code]")
    assert codes.count() == 5  # every turn but the interpreter's, each with its written label
    _check_page(page)

    # The figures across the episode, beside its outcome and alliance charts, reached by keyboard.
    link = page.get_by_role("link", name=re.compile("beside its outcome and alliance charts"))
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Session transcripts across the episode: Carol Jones"
    )
    expect(page.get_by_role("heading", level=2, name="Progress and the relationship")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^session 1 "))).to_have_count(5)  # one per small chart
    _check_page(page)
