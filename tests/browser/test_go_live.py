"""A real practice from nothing to its first scored questionnaire, in chromium (issue "Go live", "How it
is checked"): `spacebetween setup` prints the admin's one-time link; the admin chooses a password and
sets up an authenticator app; invites a therapist by e-mail; the therapist accepts, chooses a password
and sets up their own app; adds a client, opens an episode and sends a PHQ-9 by e-mail link; the
client answers it from the link; the therapist sees it scored. Every e-mail is read from the outbox the
worker sends from; nobody is a demo account, so MFA is real. No serious accessibility violation on the
pages a newcomer meets first."""

from __future__ import annotations

import io
import re
from typing import Any

import pyotp
import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from spacebetween import clock
from spacebetween.accounts.models import User
from spacebetween.clients.models import Client
from spacebetween.measures.models import Response
from spacebetween.notifications.models import OutboxMessage
from tests.browser.conftest import serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN_PASSWORD = "riverside admin passphrase 7"  # noqa: S105 - a test's own account
THERAPIST_PASSWORD = "a therapist's long passphrase 12"  # noqa: S105
# PHQ-9 answers of the client (items 1-9, then the difficulty item): 2+1+1+2+0+1+1+0+0 = 8.
HALF, SEVERAL, NONE = "More than half the days", "Several days", "Not at all"
ANSWERS = [HALF, SEVERAL, SEVERAL, HALF, NONE, SEVERAL, SEVERAL, NONE, NONE, "Somewhat difficult"]
EXPECTED_TOTAL = 8


def _path(text: str, pattern: str) -> str:
    found = re.search(pattern, text)
    assert found is not None, text
    return found.group(0)


def _choose_password_and_enrol(page: Page, link: str, password: str) -> None:
    """From a one-time link: start, choose a password, set up the authenticator app (its code computed
    from the key the page shows, as an app would)."""
    page.goto(link)
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose your password")
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("New password confirmation").fill(password)
    page.get_by_label("New password confirmation").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your authenticator app")
    assert serious_accessibility_violations(page) == []
    key = page.locator("figcaption code").inner_text().replace(" ", "")
    page.get_by_label("6-digit code from the app").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text(re.compile("recovery code", re.IGNORECASE)).first).to_be_visible()


def test_from_setup_to_a_scored_phq9(chromium: Any, live_site: str, settings: Any) -> None:
    settings.SITE_URL = live_site
    out = io.StringIO()
    call_command(
        "setup",
        yes=True,
        practice_name="Riverside Therapy",
        country="GB",
        time_zone="Europe/London",
        admin_name="Ann Admin",
        admin_email="ann@riverside.example.org",
        stdout=out,
        stderr=io.StringIO(),
    )
    admin_link = _path(out.getvalue(), r"/welcome/[A-Za-z0-9_\-]+/")

    admin_context = chromium.new_context(base_url=live_site)
    admin_page = admin_context.new_page()
    admin_page.set_default_timeout(15_000)
    _choose_password_and_enrol(admin_page, admin_link, ADMIN_PASSWORD)

    # The admin invites a therapist: no password is set for them.
    admin_page.goto("/practice/staff/add/")
    admin_page.get_by_label("Full name").fill("Theo Therapist")
    admin_page.get_by_label("Email").fill("theo@riverside.example.org")
    admin_page.get_by_label("Role").select_option(label="Therapist")
    admin_page.get_by_role("button", name=re.compile("^(Add|Invite)")).click()
    theo = User.objects.get(email="theo@riverside.example.org")
    assert not theo.has_usable_password()
    invitation = OutboxMessage.objects.get(to_address=theo.email).body()
    assert "Riverside Therapy" in invitation
    admin_context.close()

    # The therapist accepts: their own password, their own authenticator.
    therapist_context = chromium.new_context(base_url=live_site)
    page = therapist_context.new_page()
    page.set_default_timeout(15_000)
    _choose_password_and_enrol(page, _path(invitation, r"/welcome/[A-Za-z0-9_\-]+/"), THERAPIST_PASSWORD)
    theo.refresh_from_db()
    assert theo.check_password(THERAPIST_PASSWORD)

    # A first client, an episode, and a PHQ-9 sent now by e-mail link.
    page.goto("/clients/new/")
    page.get_by_label("Given name").fill("Robin")
    page.get_by_label("Family name").fill("Ash")
    page.get_by_label("Email").fill("robin@example.org")
    page.get_by_role("button", name=re.compile("^(Add|Save)")).click()
    robin = Client.objects.get(email="robin@example.org")
    page.goto(f"/clients/{robin.pk}/episodes/new/")
    page.get_by_label("Referral reason").fill("Low mood since the winter")
    page.get_by_label("Start date").fill(clock.now().date().isoformat())
    page.get_by_role("button", name=re.compile("^(Open|Save)")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Robin Ash")
    assert serious_accessibility_violations(page) == []
    page.get_by_text("Send a questionnaire now").click()
    phq9 = "Patient Health Questionnaire-9 (PHQ-9)"
    page.get_by_label("Questionnaire", exact=True).select_option(label=phq9)
    page.get_by_label("By email link").check()
    page.get_by_role("button", name="Send now").click()
    expect(page.get_by_text("The questionnaire is sent")).to_be_visible()

    # The client answers from the link in their e-mail, in a browser of their own.
    email = OutboxMessage.objects.filter(to_address=robin.email, kind="questionnaire-link").get().body()
    client_context = chromium.new_context(base_url=live_site)
    answering = client_context.new_page()
    answering.set_default_timeout(15_000)
    answering.goto(_path(email, r"/a/[A-Za-z0-9_\-]+/"))
    answering.get_by_role("button", name="Start").click()
    for answer in ANSWERS:
        answering.get_by_role("group").get_by_label(answer, exact=True).check()
        answering.get_by_role("button", name=re.compile(r"^Save and")).click()
    answering.get_by_role("button", name="Send my answers").click()
    expect(answering.get_by_role("heading", level=1)).to_contain_text("Thank you")
    client_context.close()

    # The therapist sees it scored, item by item.
    stored = Response.objects.get(assignment__episode__client=robin)
    assert stored.scores["total"]["score"] == EXPECTED_TOTAL
    page.goto(f"/clients/{robin.pk}/answers/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Robin Ash")
    expect(page.get_by_text(re.compile(rf"\b{EXPECTED_TOTAL}\b")).first).to_be_visible()
    expect(page.get_by_text("Little interest or pleasure in doing things")).to_be_visible()
    therapist_context.close()
