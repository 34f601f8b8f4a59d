"""In chromium at phone width: the therapist sends two questionnaires for one session from the client
page, with the keyboard; the client opens the one link, answers the first with a risk answer, sees the
crisis page and goes on to the second. No serious accessibility violation on the way."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from spacebetween import clock
from spacebetween.accounts.models import User
from spacebetween.clients import services as clinical
from spacebetween.notifications.models import OutboxMessage
from spacebetween.plans.services import episode_plan_save
from tests.browser.conftest import PHONE, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _send(page: Page, instrument: str) -> None:
    page.get_by_text("Send a questionnaire now").click()
    page.get_by_label("Questionnaire", exact=True).select_option(label=instrument)
    page.get_by_label("For", exact=True).select_option(index=1)
    page.get_by_label("By email link").check()
    button = page.get_by_role("button", name="Send now")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("The questionnaire is sent")).to_be_visible()


def test_two_questionnaires_for_one_session_one_link_past_the_crisis_page(
    browser_page: Page, sign_in: Any, demo_therapist: User, settings: Any, live_site: str
) -> None:
    settings.SITE_URL = live_site
    client = clinical.client_create(
        actor=demo_therapist, given_name="Dana", family_name="Reed", email="dana@example.org"
    )
    episode = clinical.episode_open(
        actor=demo_therapist, client=client, referral_reason="Panic", started_on=clock.now().date()
    )
    episode_plan_save(actor=demo_therapist, episode=episode, rows=[])  # only what the therapist sends
    clinical.session_create(
        actor=demo_therapist, episode=episode, starts_at=clock.now() + dt.timedelta(days=2)
    )
    page = browser_page
    page.set_viewport_size(PHONE)
    sign_in(page, demo_therapist)
    page.goto(f"/clients/{client.pk}/")
    _send(page, "Patient Health Questionnaire-9 (PHQ-9)")
    _send(page, "Generalized Anxiety Disorder-7 (GAD-7)")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert serious_accessibility_violations(page) == []
    page.get_by_text("Questionnaires in this episode (2)").click()
    expect(page.get_by_role("button", name=re.compile("^Send again"))).to_have_count(2)

    latest = OutboxMessage.objects.filter(kind="questionnaire-link").order_by("-pk").first()
    assert latest is not None
    url = re.search(r"https?://\S+/a/[A-Za-z0-9_\-]+/", latest.body())
    assert url is not None
    page.context.clear_cookies()
    page.goto(url.group(0))
    expect(page.get_by_text("2 questionnaires, one after the other")).to_be_visible()
    assert serious_accessibility_violations(page) == []
    page.get_by_role("button", name="Start").click()
    for number in range(1, 11):
        group = page.get_by_role("group")
        label = "Several days" if number == 9 else ("Not difficult at all" if number == 10 else "Not at all")
        group.get_by_label(label).check()
        page.get_by_role("button", name=re.compile(r"^Save and")).click()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("If you need help now")
    assert serious_accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("button", name="Go on to the next questionnaire").click()
    expect(page.get_by_text("Question 1 of 8")).to_be_visible()
