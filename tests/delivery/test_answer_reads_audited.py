"""The client's reads of their own answers and drafts are audited (Go live, item 11.5): one READ row
per page view of the question, review and done pages, through the portal (the client as actor) and
through a link (no actor, the role "client"), with ids only."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.audit.models import Action, AuditEvent, Entity, Purpose
from spacebetween.measures.models import Assignment
from tests.conftest import signed_in
from tests.delivery.helpers import CALM, answer_all, start_link

pytestmark = pytest.mark.django_db


def _reads_during(http: HttpClient, url: str) -> list[AuditEvent]:
    before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    response = http.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return list(AuditEvent.objects.filter(seq__gt=before, action=Action.READ))


def _portal_urls(assignment: Assignment) -> dict[str, str]:
    kw = {"assignment_id": assignment.pk}
    return {page: reverse(f"portal_{page}", kwargs=kw) for page in ("answer", "review", "done")}


def _check(event: AuditEvent, assignment: Assignment, page: str) -> None:
    assert (event.entity_type, event.entity_id) == (Entity.ASSIGNMENT, str(assignment.pk))
    assert event.practice_id == assignment.episode.client.practice_id
    assert event.purpose == Purpose.PATIENT_REQUEST
    assert event.detail == f"own answers: {page} page"


def test_the_portal_pages_audit_the_clients_reads(carol_user: User, assignment: Assignment) -> None:
    http = signed_in(carol_user)
    urls = _portal_urls(assignment)
    [event] = _reads_during(http, urls["answer"] + "?q=1")
    _check(event, assignment, "question")
    assert (event.actor_id, event.actor_role) == (carol_user.pk, "client")
    answer_all(http, urls["answer"], CALM)
    [event] = _reads_during(http, urls["review"])
    _check(event, assignment, "review")
    assert http.post(urls["review"]).status_code == 302
    [event] = _reads_during(http, urls["done"])
    _check(event, assignment, "done")
    assert event.actor_id == carol_user.pk


def test_the_link_pages_audit_the_clients_reads(token: str, assignment: Assignment) -> None:
    http = start_link(token)
    [event] = _reads_during(http, reverse("link_answer") + "?q=2")
    _check(event, assignment, "question")
    assert (event.actor_id, event.actor_role) == (None, "client")
    answer_all(http, reverse("link_answer"), CALM)
    [event] = _reads_during(http, reverse("link_review"))
    _check(event, assignment, "review")
    assert http.post(reverse("link_review")).status_code == 302
    [event] = _reads_during(http, reverse("link_done"))
    _check(event, assignment, "done")
    assert event.actor_role == "client"


def test_each_view_is_one_row(carol_user: User, assignment: Assignment) -> None:
    http = signed_in(carol_user)
    url = _portal_urls(assignment)["answer"] + "?q=1"
    assert len(_reads_during(http, url)) == 1
    assert len(_reads_during(http, url)) == 1
