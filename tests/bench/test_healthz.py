"""GET /healthz answers from the web process alone: no database (pytest-django refuses any query
here, as no test below asks for the database), no session, no template."""

from __future__ import annotations

from django.test import Client as HttpClient


def test_healthz_answers_ok_without_the_database() -> None:
    response = HttpClient().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"]
    assert "sessionid" not in response.cookies


def test_healthz_takes_head_and_refuses_writes() -> None:
    http = HttpClient()
    assert http.head("/healthz").status_code == 200
    assert http.post("/healthz").status_code == 405
