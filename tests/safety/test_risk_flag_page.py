"""GET /risk-flags/<id>/ (minimal PHI) and POST /risk-flags/<id>/acknowledge/ (what was done)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client as HttpClient

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Episode
from spacebetween.safety.escalation import escalate_due
from spacebetween.safety.models import RiskFlag
from spacebetween.safety.risk import ALREADY_ACKNOWLEDGED
from spacebetween.safety.views import ACKNOWLEDGED
from tests.conftest import signed_in
from tests.safety.conftest import RAISED

pytestmark = pytest.mark.django_db

ITEM_9 = "Thoughts that you would be better off dead or of hurting yourself in some way"
DONE = {"action": "contacted_client", "details": "Phoned her; no plan or intent; safety plan agreed."}


def page(flag: RiskFlag) -> str:
    return f"/risk-flags/{flag.pk}/"


def ack(flag: RiskFlag) -> str:
    return f"/risk-flags/{flag.pk}/acknowledge/"


def _unchanged(flag: RiskFlag) -> None:
    flag.refresh_from_db()
    assert (flag.acknowledged_at, flag.acknowledged_by_id, flag.action_taken) == (None, None, "")


def test_the_therapist_sees_who_what_and_when(alice: User, flag: RiskFlag) -> None:
    response = signed_in(alice).get(page(flag))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Carol Jones" in body
    assert "PHQ-9" in body
    assert ITEM_9 in body
    assert "Several days (1)" in body
    assert "Thu 10 Sep 2026, 10:00" in body  # in the practice's time zone
    assert "Not escalated yet" in body
    assert "Low mood after bereavement" not in body  # nothing else of the record


def test_the_page_shows_the_escalation(alice: User, flag: RiskFlag) -> None:
    escalate_due(now=RAISED + dt.timedelta(hours=5))
    assert "Escalated to" in signed_in(alice).get(page(flag)).content.decode()


def test_the_read_is_audited(alice: User, flag: RiskFlag) -> None:
    signed_in(alice).get(page(flag))
    event = AuditEvent.objects.get(action="R", entity_type="RiskFlag")
    assert (event.actor_id, event.entity_id, event.purpose, event.detail) == (
        alice.pk,
        str(flag.pk),
        "TREAT",
        "",
    )


def test_acknowledging_records_what_was_done(alice: User, flag: RiskFlag) -> None:
    response = signed_in(alice).post(ack(flag), DONE, follow=True)
    assert response.redirect_chain[-1][0] == page(flag)
    body = response.content.decode()
    assert ACKNOWLEDGED in body
    assert "Acknowledge risk flag" not in body
    flag.refresh_from_db()
    assert flag.acknowledged_by_id == alice.pk
    assert flag.acknowledged_at is not None
    assert flag.action_taken == "Contacted the client: Phoned her; no plan or intent; safety plan agreed."
    event = AuditEvent.objects.get(action="U", entity_type="RiskFlag", detail="acknowledged")
    assert event.actor_id == alice.pk


def test_without_details_nothing_is_written(alice: User, flag: RiskFlag) -> None:
    http = signed_in(alice)
    before = AuditEvent.objects.count()
    response = http.post(ack(flag), {"action": "other", "details": "   "})
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    _unchanged(flag)
    assert AuditEvent.objects.count() == before


def test_an_unknown_action_writes_nothing(alice: User, flag: RiskFlag) -> None:
    response = signed_in(alice).post(ack(flag), {**DONE, "action": "ignored"})
    assert response.status_code == 200
    assert "action" in response.context["form"].errors
    _unchanged(flag)


def test_a_second_acknowledgement_is_refused(alice: User, flag: RiskFlag) -> None:
    http = signed_in(alice)
    http.post(ack(flag), DONE)
    response = http.post(ack(flag), {"action": "other", "details": "again"})
    assert response.status_code == 200
    assert ALREADY_ACKNOWLEDGED in response.content.decode()
    flag.refresh_from_db()
    assert flag.action_taken.startswith("Contacted the client")


def test_acknowledge_refuses_get(alice: User, flag: RiskFlag) -> None:
    assert signed_in(alice).get(ack(flag)).status_code == 405


def test_anonymous_visitors_are_sent_to_sign_in(client: HttpClient, flag: RiskFlag) -> None:
    response = client.post(ack(flag), DONE)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    _unchanged(flag)


def test_a_colleague_gets_404(bob: User, flag: RiskFlag) -> None:
    assert signed_in(bob).get(page(flag)).status_code == 404


def test_a_colleague_cannot_acknowledge(bob: User, flag: RiskFlag) -> None:
    assert signed_in(bob).post(ack(flag), DONE).status_code == 404
    _unchanged(flag)


def test_the_supervisor_gets_404_on_an_unshared_episode(sam: User, flag: RiskFlag) -> None:
    assert signed_in(sam).get(page(flag)).status_code == 404


def test_the_supervisor_may_acknowledge_on_a_shared_episode(
    sam: User, shared_episode: Episode, flag: RiskFlag
) -> None:
    assert signed_in(sam).post(ack(flag), DONE).status_code == 302
    flag.refresh_from_db()
    assert flag.acknowledged_by_id == sam.pk


def test_an_admin_gets_404(admin: User, flag: RiskFlag) -> None:
    assert signed_in(admin).get(page(flag)).status_code == 404


def test_the_client_gets_403(carol_user: User, flag: RiskFlag) -> None:
    assert signed_in(carol_user).get(page(flag)).status_code == 403


def test_the_client_cannot_acknowledge(carol_user: User, flag: RiskFlag) -> None:
    assert signed_in(carol_user).post(ack(flag), DONE).status_code == 403
    _unchanged(flag)


def test_another_practice_gets_404(oscar: User, flag: RiskFlag) -> None:
    assert signed_in(oscar).get(page(flag)).status_code == 404


def test_another_practice_cannot_acknowledge(oscar: User, flag: RiskFlag) -> None:
    assert signed_in(oscar).post(ack(flag), DONE).status_code == 404
    _unchanged(flag)
