"""The therapist withdraws an unanswered questionnaire from the client record."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from spacebetween.accounts.models import User
from spacebetween.answering import services as answering
from spacebetween.answering.views import WITHDRAWN
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Client, Episode
from spacebetween.measures.models import Assignment, AssignmentStatus
from tests.conftest import signed_in


def _due(alice: User, episode: Episode) -> Assignment:
    now = timezone.now()
    return answering.assignment_create(
        actor=alice, episode=episode, instrument_id="phq9", due_at=now, now=now
    )


def test_the_therapist_withdraws_an_open_questionnaire_from_the_client_page(
    alice: User, client_record: Client, episode: Episode
) -> None:
    assignment = _due(alice, episode)
    http = signed_in(alice)
    page = http.get(reverse("client_detail", args=[client_record.pk])).content.decode()
    url = reverse("assignment_withdraw", args=[assignment.pk])
    assert f'action="{url}"' in page
    response = http.post(url, follow=True)
    assert response.status_code == 200
    assert WITHDRAWN in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.REVOKED
    assert AuditEvent.objects.filter(
        entity_type="Assignment", entity_id=str(assignment.pk), detail="revoked"
    ).exists()
    # Withdrawn: no button any more, and a second post says why nothing changed.
    page = http.get(reverse("client_detail", args=[client_record.pk])).content.decode()
    assert "Questionnaires in this episode" in page and f'action="{url}"' not in page
    again = http.post(url, follow=True).content.decode()
    assert answering.ALREADY_REVOKED in again


def test_an_answered_questionnaire_cannot_be_withdrawn(
    alice: User, client_record: Client, episode: Episode
) -> None:
    assignment = _due(alice, episode)
    answers = {f"phq9_{i}": 0 for i in range(1, 10)}
    answering.response_submit(assignment=assignment, answers=answers, via="link")
    http = signed_in(alice)
    body = http.post(reverse("assignment_withdraw", args=[assignment.pk]), follow=True).content.decode()
    assert answering.ALREADY_SUBMITTED in body
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.ANSWERED
