"""In chromium, at desktop width and on a 375 px phone, with axe-core and the keyboard: the supervisor
writes a supervision note on an episode shared with him and the therapist reads it; her search finds
her progress note and her own process note; a colleague's search finds neither."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from spacebetween.accounts.models import Role, User
from spacebetween.clients import services as clinical
from spacebetween.notes import services as notes
from spacebetween.notes.models import NoteKind
from spacebetween.practice.models import Practice
from tests.browser.conftest import DESKTOP, PHONE, _demo_user, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADVICE = "Notice the pull to rescue before each break"


def _check_page(page: Page) -> None:
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        assert serious_accessibility_violations(page) == [], f"at {size['width']} px"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), size
    page.set_viewport_size(DESKTOP)


def _search(page: Page, query: str) -> None:
    page.goto("/search/")
    page.get_by_label("Search your notes and formulations").fill(query)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Search your caseload")


def test_supervision_note_and_caseload_search(
    browser_page: Page, sign_in: Any, demo_practice: Practice, demo_therapist: User
) -> None:
    sam = _demo_user(demo_practice, "sam", Role.SUPERVISOR)
    bob = _demo_user(demo_practice, "bob", Role.THERAPIST)
    User.objects.filter(pk=demo_therapist.pk).update(supervisor=sam)
    alice = User.objects.get(pk=demo_therapist.pk)
    client = clinical.client_create(actor=alice, given_name="Carol", family_name="Jones")
    episode = clinical.episode_open(
        actor=alice,
        client=client,
        referral_reason="Low mood",
        started_on=dt.date.today() - dt.timedelta(days=9),
    )
    clinical.episode_update(
        actor=alice,
        episode=episode,
        referral_reason="Low mood",
        started_on=episode.started_on,
        ended_on=None,
        end_reason="",
        shared_for_supervision=True,
    )
    session = clinical.session_create(
        actor=alice, episode=episode, starts_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    )
    notes.note_save(actor=alice, session=session, kind=NoteKind.PROGRESS, body="Grief about her father")
    notes.note_save(actor=alice, session=session, kind=NoteKind.PROCESS, body="The father in the room")
    page = browser_page

    sign_in(page, sam)
    page.goto(f"/episodes/{episode.pk}/supervision-notes/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Supervision: Carol Jones")
    _check_page(page)
    page.get_by_role("textbox", name="Supervision note").fill(ADVICE)
    page.get_by_role("textbox", name="Supervision note").focus()
    page.keyboard.press("Tab")  # to "Save supervision note"
    page.keyboard.press("Enter")
    expect(page.locator("[data-supervision-note]")).to_contain_text(ADVICE)

    page.context.clear_cookies()
    sign_in(page, alice)
    page.goto(f"/sessions/{session.pk}/progress-note/")
    expect(page.get_by_role("heading", name="Supervision notes on this episode")).to_be_visible()
    expect(page.locator("[data-supervision-note]")).to_contain_text(ADVICE)
    _search(page, "father")
    expect(page.get_by_role("heading", level=2, name="2 results")).to_be_visible()
    expect(page.get_by_role("link", name="Progress note: Carol Jones", exact=False)).to_be_visible()
    expect(page.get_by_role("link", name="Process note: Carol Jones", exact=False)).to_be_visible()
    _check_page(page)

    page.context.clear_cookies()
    sign_in(page, bob)
    _search(page, "father")
    expect(page.get_by_role("heading", level=2, name="0 results")).to_be_visible()
    expect(page.locator("[data-search-hit]")).to_have_count(0)
