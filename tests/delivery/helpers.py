"""Helpers that answer through the pages, as a client's browser does."""

from __future__ import annotations

import datetime as dt

from django.test import Client as HttpClient
from django.urls import reverse

from spacebetween import clock

# Calm answers to PHQ-9 items 1-8 and the difficulty question; item 9 is set per test.
CALM = {f"phq9_{n}": 0 for n in range(1, 11)}


def start_link(token: str, http: HttpClient | None = None) -> HttpClient:
    """A browser that opened the link and pressed Start."""
    http = http or HttpClient()
    response = http.post(reverse("link_start", kwargs={"token": token}))
    assert response.status_code == 302, response.status_code
    return http


def answer_all(http: HttpClient, answer_url: str, answers: dict[str, int]) -> None:
    """Answer every question in order through the question pages."""
    for number in range(1, len(answers) + 1):
        value = answers[f"phq9_{number}"]
        response = http.post(answer_url, {"q": number, "answer": str(value)})
        assert response.status_code == 302, (number, response.status_code)


def later(minutes: float) -> dt.datetime:
    return clock.now() + dt.timedelta(minutes=minutes)
