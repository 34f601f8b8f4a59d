"""End to end in chromium: the client opens the link from the email a local SMTP server received,
answers the PHQ-9 with item 9 = "Several days", and is shown the crisis resources; the same at phone
width. Uses the browser fixtures of tests/browser and the SMTP sink of tests/notifications."""

from __future__ import annotations

import email
import email.policy
import re
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from spacebetween import clock
from spacebetween.accounts.models import Role
from spacebetween.accounts.services import user_create
from spacebetween.answering.services import assignment_create
from spacebetween.audit.models import AuditEvent
from spacebetween.audit.selectors import verify_chain
from spacebetween.clients import services as clinical
from spacebetween.delivery import services
from spacebetween.plans.services import episode_plan_save
from spacebetween.practice.services import practice_create
from tests.browser.conftest import PHONE
from tests.notifications.conftest import SmtpSink

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple 42"


def _send_link_by_email(live_site: str, sink: SmtpSink, settings: Any) -> str:
    """Assign the PHQ-9, send its link through the outbox and the worker, and return the URL the
    client's email contains."""
    settings.SITE_URL = live_site
    practice = practice_create(name="Riverside Therapy")
    alice = user_create(
        practice=practice,
        email="alice@demo.example.org",
        full_name="Alice",
        role=Role.THERAPIST,
        password=PASSWORD,
        is_demo_account=True,
    )
    client = clinical.client_create(
        actor=alice, given_name="Carol", family_name="Jones", email="carol@example.org"
    )
    episode = clinical.episode_open(
        actor=alice, client=client, referral_reason="Low mood", started_on=clock.now().date()
    )
    # No measurement plan for this episode: the worker's scheduled job would otherwise email links for
    # the practice's intake questionnaires too, but only outside quiet hours, so the number of emails
    # would depend on the hour the test runs at.
    episode_plan_save(actor=alice, episode=episode, rows=[])
    assignment = assignment_create(actor=alice, episode=episode, instrument_id="phq9", due_at=clock.now())
    services.link_send(actor=alice, assignment=assignment)
    call_command("worker", "--once")
    [envelope] = sink.envelopes
    assert envelope.rcpt_tos == ["carol@example.org"]
    content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
    message = email.message_from_bytes(content, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "PHQ" not in text and "Patient Health" not in text
    match = re.search(r"https?://\S+/a/[A-Za-z0-9_\-]+/", text)
    assert match, "the email carries the link"
    return match.group(0)


def _answer_with_item_9(page: Page, url: str, token: str) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text("A questionnaire from your therapist")
    page.get_by_role("button", name="Start").click()
    for number in range(1, 11):
        expect(page.get_by_text(f"Question {number} of 10")).to_be_visible()
        assert token not in page.url
        group = page.get_by_role("group")
        if number == 9:
            group.get_by_label("Several days").check()
        elif number == 10:
            group.get_by_label("Not difficult at all").check()
        else:
            group.get_by_label("Not at all").check()
        page.get_by_role("button", name=re.compile(r"^Save and")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    expect(page.get_by_role("link", name="Change your answer to question 9")).to_be_visible()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("If you need help now")
    expect(page.get_by_text("116 123")).to_be_visible()
    expect(page.get_by_text("not watched in real time")).to_be_visible()
    assert token not in page.url


def test_the_client_answers_from_the_email_link_and_sees_the_crisis_page(
    browser_page: Page,
    live_site: str,
    smtp_sink: SmtpSink,
    settings: Any,
    screenshot: Any,
) -> None:
    url = _send_link_by_email(live_site, smtp_sink, settings)
    token = url.rstrip("/").rsplit("/", 1)[1]
    _answer_with_item_9(browser_page, url, token)
    screenshot(browser_page, "delivery-crisis-desktop")
    # Every step is in the audit log, in order, and the chain is intact.
    trail = [
        (e.entity_type, e.action)
        for e in AuditEvent.objects.order_by("seq")
        if e.entity_type in {"QuestionnaireLink", "Response", "RiskFlag", "RiskNotification"}
    ]
    assert trail == [
        ("QuestionnaireLink", "C"),  # issued and emailed
        ("QuestionnaireLink", "E"),  # exchanged for an answering session
        ("RiskFlag", "C"),  # item 9 endorsed, flagged as soon as it was saved
        ("RiskNotification", "C"),  # the treating therapist told
        ("Response", "C"),  # the answers, scored
        ("RiskFlag", "U"),  # the flag attached to the stored response
    ]
    assert verify_chain().intact


def test_the_same_at_phone_width(
    browser_page: Page,
    live_site: str,
    smtp_sink: SmtpSink,
    settings: Any,
    screenshot: Any,
) -> None:
    browser_page.set_viewport_size(PHONE)
    url = _send_link_by_email(live_site, smtp_sink, settings)
    token = url.rstrip("/").rsplit("/", 1)[1]
    browser_page.goto(url)
    screenshot(browser_page, "delivery-start-phone")
    browser_page.get_by_role("button", name="Start").click()
    screenshot(browser_page, "delivery-question-phone")
    start_box = browser_page.get_by_role("group").get_by_text("Not at all").bounding_box()
    assert start_box is not None and start_box["height"] >= 24
    width = browser_page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "no sideways scrolling at 375 px"
    browser_page.go_back()  # back to the start page: the link is spent
    browser_page.reload()
    expect(browser_page.get_by_role("heading", level=1)).to_have_text("This link does not work")
    # A fresh start from the email is refused too; the answering session is what carries on.
    _continue = browser_page.goto(live_site + "/answer/")
    assert _continue is not None and _continue.status == 200
    _answer_rest(browser_page, token)
    screenshot(browser_page, "delivery-crisis-phone")


def _answer_rest(page: Page, token: str) -> None:
    for number in range(1, 11):
        group = page.get_by_role("group")
        label = "Several days" if number == 9 else ("Not difficult at all" if number == 10 else "Not at all")
        group.get_by_label(label).check()
        page.get_by_role("button", name=re.compile(r"^Save and")).click()
        assert token not in page.url
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("If you need help now")
    expect(page.get_by_role("link", name="116 123")).to_be_visible()
