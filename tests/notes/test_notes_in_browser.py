"""In chromium: the treating therapist goes from the client page to a session's process note, which
starts with the psychodynamic headings; the draft saves itself while she types (the small script),
she signs it with the keyboard alone, and the page passes axe-core (serious and critical) at desktop
width and on a 375 px phone without scrolling sideways."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from spacebetween import crypto
from spacebetween.accounts.models import User
from spacebetween.clients import services as clinical
from spacebetween.notes.models import ProcessNote
from spacebetween.notes.services import note_context
from tests.browser.conftest import DESKTOP, PHONE, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _check_page(page: Page) -> None:
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        assert serious_accessibility_violations(page) == [], f"at {size['width']} px"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), size
    page.set_viewport_size(DESKTOP)


def test_a_process_note_autosaves_and_is_signed_by_keyboard(
    browser_page: Page, sign_in: Any, demo_therapist: User
) -> None:
    client = clinical.client_create(actor=demo_therapist, given_name="Carol", family_name="Jones")
    episode = clinical.episode_open(
        actor=demo_therapist,
        client=client,
        referral_reason="Low mood",
        started_on=dt.date.today() - dt.timedelta(days=7),
    )
    clinical.session_create(
        actor=demo_therapist, episode=episode, starts_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    )
    page = browser_page
    sign_in(page, demo_therapist)
    page.goto(f"/clients/{client.pk}/")
    page.get_by_role("link", name=re.compile(r"^Process note on the session of")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Process note: Carol Jones")
    text = page.get_by_label(re.compile(r"^The note"))
    expect(text).to_contain_text("Counter-transference:")
    _check_page(page)
    text.focus()
    page.keyboard.press("Control+End")
    page.keyboard.type("She came late again")
    expect(page.locator("#autosave-status")).to_contain_text("Draft saved", timeout=10_000)
    stored = ProcessNote.objects.get()
    assert "She came late" not in stored.body  # the stored draft is ciphertext
    assert crypto.decrypt(stored.body, context=note_context(stored.session_id)).endswith(
        "She came late again"
    )
    page.get_by_role("button", name="Save draft").focus()
    page.keyboard.press("Tab")  # to "Sign and lock"
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("Note signed.")
    expect(page.get_by_role("button", name="Add and sign addendum")).to_be_visible()
    assert ProcessNote.objects.get().signed_at is not None
    _check_page(page)
