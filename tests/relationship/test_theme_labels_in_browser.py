"""In chromium: the practice admin renames a mistyped theme label and merges two, by keyboard, from the
practice settings page; the page passes axe-core (serious and critical) at desktop width and on a
375 px phone without scrolling sideways."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from spacebetween.accounts.models import Role
from spacebetween.clients import services as clinical
from spacebetween.relationship import services
from spacebetween.relationship.models import SessionTheme, ThemeLabel
from tests.browser.conftest import DESKTOP, PHONE, _demo_user, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _checked(page: Page) -> None:
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        assert serious_accessibility_violations(page) == [], f"{page.url} at {size['width']} px"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), size
    page.set_viewport_size(DESKTOP)


def _press(page: Page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).focus()
    page.keyboard.press("Enter")


def test_the_admin_renames_and_merges_labels(
    browser_page: Page, sign_in, demo_practice, demo_therapist
) -> None:
    client = clinical.client_create(actor=demo_therapist, given_name="Carol", family_name="Jones")
    episode = clinical.episode_open(
        actor=demo_therapist, client=client, referral_reason="Low mood", started_on=dt.date(2026, 9, 1)
    )
    session = clinical.session_create(
        actor=demo_therapist, episode=episode, starts_at=dt.datetime(2026, 9, 8, 10, 0, tzinfo=dt.UTC)
    )
    for label, kind in (("feeling pushd away", "transference"), ("wish to rescue", "counter_transference")):
        services.theme_tag(actor=demo_therapist, session=session, kind=kind, label=label)
    services.theme_tag(actor=demo_therapist, session=session, kind="transference", label="rescuer wish")
    admin = _demo_user(demo_practice, "ada", Role.ADMIN)
    page = browser_page
    sign_in(page, admin)
    page.goto("/practice/settings/")
    page.get_by_role("link", name="Theme labels").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Theme labels", level=1)).to_be_visible()
    _checked(page)

    page.get_by_label("Label to rename").select_option(label="feeling pushd away")
    page.get_by_label("New name").fill("feeling pushed away")
    _press(page, "Rename")
    expect(page.get_by_role("status")).to_contain_text("The label is renamed")
    page.get_by_label("Merge this label").select_option(label="rescuer wish")
    page.get_by_label("Into this label").select_option(label="wish to rescue")
    _press(page, "Merge")
    expect(page.get_by_role("status")).to_contain_text("The labels are merged")
    table = page.get_by_role("table", name="The practice's theme labels")
    expect(table.get_by_role("row").filter(has_text="wish to rescue")).to_contain_text("2")
    expect(table).not_to_contain_text("rescuer wish")
    _checked(page)
    assert sorted(ThemeLabel.objects.values_list("label", flat=True)) == [
        "feeling pushed away",
        "wish to rescue",
    ]
    assert SessionTheme.objects.filter(label__label="wish to rescue").count() == 2

    page.get_by_label("Merge this label").select_option(label="wish to rescue")
    page.get_by_label("Into this label").select_option(label="wish to rescue")
    _press(page, "Merge")
    expect(page.get_by_role("alert").first).to_be_visible()  # the error summary
    _checked(page)
