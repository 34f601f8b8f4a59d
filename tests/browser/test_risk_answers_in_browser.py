"""End to end in chromium, as a client answers in the portal (docs/safety.md):
- before the first question they are told that answers are not watched in real time, with the numbers
  to call;
- a risk answer that is only saved, never sent, raises the flag at once and the next page shows
  crisis help;
- a risk answer given after the therapist withdrew the questionnaire is refused, but flagged, and the
  page shows crisis help.
No serious accessibility problem on these pages, at desktop or phone width."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from spacebetween.accounts.models import User
from spacebetween.answering import services as answering
from spacebetween.clients import services as clinical
from spacebetween.measures.models import Assignment, Response
from spacebetween.safety.models import RiskFlag, RiskNotification
from tests.browser.conftest import DESKTOP, PHONE, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phq9(demo_therapist: User, demo_client_user: User) -> Assignment:
    client = clinical.client_create(actor=demo_therapist, given_name="Carol", family_name="Jones")
    episode = clinical.episode_open(
        actor=demo_therapist, client=client, referral_reason="Low mood", started_on=dt.date.today()
    )
    clinical.client_portal_link(actor=demo_therapist, client=client, portal_user=demo_client_user)
    now = dt.datetime.now(dt.UTC)
    return answering.assignment_create(
        actor=demo_therapist, episode=episode, instrument_id="phq9", due_at=now, now=now
    )


def _accessible(page: Page, heading: str) -> None:
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        expect(page.get_by_role("heading", level=1).first).to_contain_text(heading)
        assert serious_accessibility_violations(page) == [], f"{heading} at {viewport['width']} px"
    page.set_viewport_size(DESKTOP)


def _answer(page: Page, option: str) -> None:
    page.get_by_label(option, exact=True).check()
    page.get_by_role("button", name="Save and continue").click()


def test_a_saved_risk_answer_shows_crisis_help_and_raises_the_flag(
    browser_page: Page, sign_in, demo_client_user: User, phq9: Assignment, screenshot
) -> None:
    page = browser_page
    sign_in(page, demo_client_user)
    page.goto(f"/me/questionnaires/{phq9.pk}/")
    # Before the first answer: not watched in real time, and who to call.
    notice = page.get_by_role("region", name="Before you start")
    expect(notice).to_contain_text("not watched in real time")
    expect(notice).to_contain_text("116 123")
    expect(page.get_by_text("Question 1 of 10")).to_be_visible()
    for _ in range(8):
        _answer(page, "Not at all")
    expect(page.get_by_text("Question 9 of 10")).to_be_visible()
    assert not RiskFlag.objects.exists()
    _answer(page, "More than half the days")

    # Saved, not sent: the flag is raised now, and crisis help is on the next page.
    expect(page.get_by_text("Question 10 of 10")).to_be_visible()
    crisis = page.get_by_role("region", name="If you need help now")
    expect(crisis).to_contain_text("We have let your therapist know")
    expect(crisis).to_contain_text("116 123")
    screenshot(page, "portal-draft-risk-answer")
    [flag] = RiskFlag.objects.all()
    assert (flag.source, flag.answer_value, flag.severity) == ("draft", 2.0, "urgent")
    assert RiskNotification.objects.filter(flag=flag, step=0).exists()
    assert not Response.objects.exists()
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        expect(page.get_by_text("Question 10 of 10")).to_be_visible()
        assert serious_accessibility_violations(page) == [], f"question page at {viewport['width']} px"


def test_a_risk_answer_after_withdrawal_is_refused_but_flagged(
    browser_page: Page, sign_in, demo_therapist: User, demo_client_user: User, phq9: Assignment, screenshot
) -> None:
    page = browser_page
    sign_in(page, demo_client_user)
    page.goto(f"/me/questionnaires/{phq9.pk}/")
    for _ in range(8):
        _answer(page, "Not at all")
    expect(page.get_by_text("Question 9 of 10")).to_be_visible()
    # The therapist withdraws the questionnaire while the client has question 9 open.
    answering.assignment_revoke(actor=demo_therapist, assignment=phq9)
    _answer(page, "Nearly every day")

    _accessible(page, "This questionnaire is closed")
    main = page.get_by_role("main")
    expect(main).to_contain_text(answering.REVOKED)
    crisis = page.get_by_role("region", name="If you need help now")
    expect(crisis).to_contain_text("We have let your therapist know")
    expect(crisis).to_contain_text("116 123")
    screenshot(page, "portal-withdrawn-risk-answer")
    [flag] = RiskFlag.objects.all()
    assert (flag.source, flag.answer_value) == ("closed", 3.0)
    assert not Response.objects.exists()
