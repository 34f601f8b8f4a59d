"""The link's pages: what the start page shows, the exchange for a session, and that the token appears
in no later URL, header or log line."""

from __future__ import annotations

import logging

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.measures.models import Assignment, AssignmentStatus
from tests.conftest import FakeClock, signed_in
from tests.delivery.helpers import CALM, answer_all, later, start_link


def test_the_start_page_shows_the_title_and_item_count_only(token: str) -> None:
    response = HttpClient().get(reverse("link_start_page", kwargs={"token": token}))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Patient Health Questionnaire-9" in body
    assert "10 short questions" in body
    assert "Little interest or pleasure" not in body
    assert response["Referrer-Policy"] == "strict-origin"
    assert '<meta name="referrer" content="strict-origin">' in body
    assert "no-store" in response["Cache-Control"]
    assert response["X-Robots-Tag"].startswith("noindex")


def test_start_leads_to_a_url_without_the_token(token: str, assignment: Assignment) -> None:
    http = HttpClient()
    response = http.post(reverse("link_start", kwargs={"token": token}))
    assert response.status_code == 302
    assert response["Location"] == reverse("link_answer")
    page = http.get(response["Location"], follow=True)
    assert page.status_code == 200
    for url, _ in page.redirect_chain:
        assert token not in url
    assert token not in page.content.decode()
    assert "Question 1 of 10" in page.content.decode()
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.OPENED


def test_no_page_after_the_start_carries_the_token(token: str) -> None:
    http = start_link(token)
    answer_url = reverse("link_answer")
    for number in range(1, 11):
        response = http.post(answer_url, {"q": number, "answer": "0"})
        assert token not in response["Location"]
    for url in (answer_url, reverse("link_review")):
        response = http.get(url)
        assert token not in response.content.decode()
        assert response["Referrer-Policy"] == "strict-origin"
    response = http.post(reverse("link_review"))
    assert token not in response["Location"]
    assert token not in http.get(response["Location"]).content.decode()


def test_the_token_is_not_in_the_logs(token: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bad = "z" * 43
    HttpClient().get(reverse("link_start_page", kwargs={"token": bad}))
    start_link(token)
    HttpClient().post(reverse("link_start", kwargs={"token": token}))  # used: 410, logged by Django
    assert any("/a/[token]" in r.getMessage() for r in caplog.records), "the refusals were logged"
    assert bad not in caplog.text
    assert token not in caplog.text


def test_the_token_is_not_in_a_refused_csrf_log_line(token: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    response = HttpClient(enforce_csrf_checks=True).post(reverse("link_start", kwargs={"token": token}))
    assert response.status_code == 403
    assert token not in caplog.text


def test_starting_signs_out_whoever_was_signed_in_here(token: str, alice: User) -> None:
    http = start_link(token, signed_in(alice))
    assert http.get(reverse("caseload")).status_code == 302


def test_the_answering_pages_need_an_answering_session() -> None:
    http = HttpClient()
    for name in ("link_answer", "link_review", "link_done"):
        response = http.get(reverse(name))
        assert response.status_code == 403
        assert "Open the link in your email again" in response.content.decode()


def test_the_answering_session_ends_after_30_idle_minutes(token: str, clock: FakeClock) -> None:
    http = start_link(token)
    assert http.get(reverse("link_answer")).status_code == 200
    moved = later(31)
    clock.set(moved)
    assert http.get(reverse("link_answer")).status_code == 403


def test_the_session_reaches_its_own_assignment_only(token: str) -> None:
    http = start_link(token)
    answer_all(http, reverse("link_answer"), CALM)
    assert http.get(reverse("portal")).status_code == 302  # no one is signed in
