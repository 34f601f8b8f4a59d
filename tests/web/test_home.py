from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_it_sends_a_therapist_to_the_caseload(as_user, alice) -> None:
    assert as_user(alice).get("/").url == "/caseload/"


def test_it_sends_a_supervisor_to_the_caseload(as_user, sam) -> None:
    assert as_user(sam).get("/").url == "/caseload/"


def test_it_sends_a_client_to_their_own_page(as_user, carol_user) -> None:
    assert as_user(carol_user).get("/").url == "/me/"


def test_it_sends_an_admin_to_the_practice_overview(as_user, admin) -> None:
    assert as_user(admin).get("/").url == "/practice/"


def test_it_sends_anonymous_visitors_to_sign_in(client, practice) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_the_navigation_offers_a_client_only_their_own_page(as_user, carol_user, client_record) -> None:
    body = as_user(carol_user).get("/me/").content.decode()
    assert 'href="/me/" aria-current="page"' in body
    assert 'href="/caseload/"' not in body and 'href="/practice/"' not in body


def test_the_navigation_offers_an_admin_no_clinical_pages(as_user, admin) -> None:
    body = as_user(admin).get("/practice/").content.decode()
    assert 'href="/practice/staff/"' in body
    assert 'href="/caseload/"' not in body and 'href="/clients/new/"' not in body
