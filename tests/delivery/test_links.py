"""One-time links: issued, stored as a hash, expiring, used once, revoked on reissue, rate-limited."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client as HttpClient
from django.urls import reverse
from pytest_django.fixtures import Settings

from spacebetween.accounts.models import User
from spacebetween.answering.services import assignment_revoke
from spacebetween.delivery import services
from spacebetween.delivery.models import QuestionnaireLink
from spacebetween.measures.models import Assignment, AssignmentStatus
from spacebetween.notifications.models import OutboxMessage
from tests.conftest import FakeClock
from tests.delivery.helpers import later


def start_page(token: str, http: HttpClient | None = None) -> int:
    return (http or HttpClient()).get(reverse("link_start_page", kwargs={"token": token})).status_code


def start(token: str, http: HttpClient | None = None) -> int:
    return (http or HttpClient()).post(reverse("link_start", kwargs={"token": token})).status_code


def test_the_token_is_256_bits_and_only_its_sha256_is_stored(token: str, assignment: Assignment) -> None:
    assert len(token) >= 43
    link = QuestionnaireLink.objects.get(assignment=assignment)
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = [str(v) for v in QuestionnaireLink.objects.values_list(flat=False).get(pk=link.pk)]
    assert not any(token in value for value in stored)


def test_a_link_expires_with_its_assignment(token: str, assignment: Assignment) -> None:
    link = QuestionnaireLink.objects.get(assignment=assignment)
    assert link.expires_at == assignment.expires_at
    assert assignment.expires_at - assignment.due_at == dt.timedelta(days=7)


def test_it_works_one_second_before_expiry_and_not_one_second_after(
    token: str, assignment: Assignment, clock: FakeClock
) -> None:
    expires = assignment.expires_at
    clock.set(expires - dt.timedelta(seconds=1))
    assert start_page(token) == 200
    clock.set(expires + dt.timedelta(seconds=1))
    assert start_page(token) == 410
    assert start(token) == 410
    assert QuestionnaireLink.objects.get(assignment=assignment).used_at is None


def test_opening_the_link_consumes_nothing(token: str, assignment: Assignment) -> None:
    assert start_page(token) == 200
    assert start_page(token) == 200
    assert QuestionnaireLink.objects.get(assignment=assignment).used_at is None
    assert start(token) == 302


def test_a_used_link_is_refused(token: str, assignment: Assignment) -> None:
    assert start(token) == 302
    assert start(token) == 410
    assert start_page(token) == 410
    assert QuestionnaireLink.objects.get(assignment=assignment).used_at is not None


def test_reissuing_revokes_the_old_link(alice: User, token: str, assignment: Assignment) -> None:
    new = services.link_issue(actor=alice, assignment=assignment)
    assert start(token) == 410
    assert start(new) == 302
    old = QuestionnaireLink.objects.get(token_hash=hashlib.sha256(token.encode()).hexdigest())
    assert old.revoked_at is not None


def test_the_database_allows_one_usable_link_per_assignment(token: str, assignment: Assignment) -> None:
    link = QuestionnaireLink.objects.get(assignment=assignment)
    with pytest.raises(IntegrityError), transaction.atomic():
        QuestionnaireLink.objects.create(
            assignment=assignment, token_hash="0" * 64, created_at=link.created_at, expires_at=link.expires_at
        )


def test_a_withdrawn_assignment_stops_its_link(alice: User, token: str, assignment: Assignment) -> None:
    assignment_revoke(actor=alice, assignment=assignment)
    assert start(token) == 410


def test_an_unknown_token_is_404_with_nothing_to_tell_it_apart(token: str) -> None:
    response = HttpClient().get(reverse("link_start_page", kwargs={"token": "x" * 43}))
    assert response.status_code == 404
    assert "PHQ" not in response.content.decode()


def test_guessing_is_rate_limited_per_address(token: str) -> None:
    http = HttpClient()
    for n in range(services.MAX_LINK_FAILURES):
        assert start_page(f"guess-{n}-" + "x" * 40, http) == 404
    assert start_page("y" * 43, http) == 429
    assert start(token, http) == 429  # even a good token, from this address, until the window passes
    assert start(token, HttpClient(REMOTE_ADDR="192.0.2.7")) == 302


def test_the_limit_lifts_after_the_window(token: str, clock: FakeClock) -> None:
    for n in range(services.MAX_LINK_FAILURES):
        start_page(f"guess-{n}-" + "x" * 40)
    assert start_page(token) == 429
    moved = later(services.LINK_FAILURE_WINDOW.total_seconds() / 60 + 1)
    clock.set(moved)
    assert start_page(token) == 200


def test_only_the_episodes_therapist_can_issue_a_link(bob: User, assignment: Assignment) -> None:
    with pytest.raises(PermissionDenied):
        services.link_issue(actor=bob, assignment=assignment)
    assert not QuestionnaireLink.objects.exists()


def test_no_link_for_an_answered_or_withdrawn_assignment(alice: User, assignment: Assignment) -> None:
    assignment_revoke(actor=alice, assignment=assignment)
    with pytest.raises(ValidationError):
        services.link_issue(actor=alice, assignment=assignment)


def test_the_email_carries_the_link_and_no_health_content(
    alice: User, assignment: Assignment, settings: Settings
) -> None:
    settings.SITE_URL = "https://riverside.example.org"
    message = services.link_send(actor=alice, assignment=assignment)
    assert message.to_address == "carol@example.org"
    assert "Your therapist has asked you to answer a short questionnaire" in message.body()
    url = next(w for w in message.body().split() if w.startswith("https://"))
    assert url.startswith("https://riverside.example.org/a/")
    for word in ("PHQ", "Patient Health", "depress", "Carol", "Jones"):
        assert word.lower() not in (message.subject + message.body()).lower()
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SENT
    token = url.removeprefix("https://riverside.example.org/a/").rstrip("/")
    assert start(token) == 302


def test_sending_again_revokes_the_first_emails_link(alice: User, assignment: Assignment) -> None:
    first = services.link_send(actor=alice, assignment=assignment)
    services.link_send(actor=alice, assignment=assignment)
    assert OutboxMessage.objects.count() == 2
    url = next(w for w in first.body().split() if "/a/" in w)
    token = url.rsplit("/a/", 1)[1].rstrip("/")
    assert start(token) == 410
