"""Consent to measurement and to e-mail: a history of decisions, never overwritten, recorded by the
treating therapist; a withdrawn e-mail consent stops questionnaire e-mails (links and reminders), a
withdrawn measurement consent stops questionnaires altogether (the plan's and the therapist's)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.answering.services import assignment_create
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Client, Episode, Session
from spacebetween.consent import selectors
from spacebetween.consent.models import CURRENT, ConsentRecord, Purpose
from spacebetween.consent.services import UNCHANGED, consent_record
from spacebetween.delivery import services as delivery
from spacebetween.measures.models import Assignment
from spacebetween.notifications.models import OutboxMessage
from spacebetween.plans import services as plans
from tests.conftest import FakeClock, signed_in

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 9, 7, 12, 0, tzinfo=dt.UTC)


def test_a_decision_is_a_new_row_and_the_history_keeps_the_old_one(
    alice: User, client_record: Client, clock: FakeClock
) -> None:
    clock.set(T0)
    given = consent_record(actor=alice, client=client_record, purpose=Purpose.EMAIL, given=True)
    clock.advance(days=30)
    consent_record(actor=alice, client=client_record, purpose=Purpose.EMAIL, given=False)
    history = selectors.consent_history(client_record)
    assert [(r.purpose, r.given) for r in history] == [("email", True), ("email", False)]
    assert history[0].pk == given.pk and history[0].recorded_at == T0  # never overwritten
    assert history[1].recorded_at == T0 + dt.timedelta(days=30)
    assert {r.wording_version for r in history} == {CURRENT[Purpose.EMAIL]}
    assert history[0].wording.startswith("I agree to receive e-mails")
    states = {s.purpose: s.status for s in selectors.consent_states(client_record)}
    assert states == {Purpose.MEASUREMENT: "Not recorded", Purpose.EMAIL: "Withdrawn"}
    events = AuditEvent.objects.filter(entity_type="ConsentRecord")
    assert list(events.values_list("detail", flat=True)) == ["email given", "email withdrawn"]
    assert not events.filter(detail__icontains="carol").exists()


def test_bad_requests_are_refused_and_change_nothing(
    alice: User, bob: User, sam: User, client_record: Client, episode: Episode
) -> None:
    consent_record(actor=alice, client=client_record, purpose=Purpose.MEASUREMENT, given=True)
    with pytest.raises(ValidationError, match=UNCHANGED):
        consent_record(actor=alice, client=client_record, purpose=Purpose.MEASUREMENT, given=True)
    with pytest.raises(ValidationError, match="measurement or e-mail"):
        consent_record(actor=alice, client=client_record, purpose="marketing", given=True)
    for outsider in (bob, sam):
        with pytest.raises(PermissionDenied):
            consent_record(actor=outsider, client=client_record, purpose=Purpose.EMAIL, given=False)
    assert ConsentRecord.objects.count() == 1
    assert selectors.email_allowed(client_record)


def test_no_decision_recorded_does_not_stop_e_mail(client_record: Client) -> None:
    assert selectors.email_allowed(client_record)


def test_withdrawn_e_mail_consent_stops_the_questionnaire_link(alice: User, episode: Episode) -> None:
    assignment = assignment_create(actor=alice, episode=episode, instrument_id="phq9", due_at=T0, now=T0)
    consent_record(actor=alice, client=episode.client, purpose=Purpose.EMAIL, given=False, now=T0)
    with pytest.raises(ValidationError, match="withdrawn consent to e-mail"):
        delivery.link_send(actor=alice, assignment=assignment, now=T0)
    assert not OutboxMessage.objects.exists()
    consent_record(actor=alice, client=episode.client, purpose=Purpose.EMAIL, given=True, now=T0)
    delivery.link_send(actor=alice, assignment=assignment, now=T0)
    assert OutboxMessage.objects.filter(kind="questionnaire-link").count() == 1


def test_withdrawn_e_mail_consent_stops_the_scheduled_link(alice: User) -> None:
    dana = clinical.client_create(
        actor=alice, given_name="Dana", family_name="Reed", email="dana@example.org"
    )
    episode = clinical.episode_open(
        actor=alice, client=dana, referral_reason="Panic attacks", started_on=dt.date(2026, 9, 1)
    )
    assignment_create(actor=alice, episode=episode, instrument_id="phq9", due_at=T0, now=T0)
    consent_record(actor=alice, client=dana, purpose=Purpose.EMAIL, given=False, now=T0)
    assert delivery.links_send_due(now=T0) == 0
    assert not OutboxMessage.objects.exists()


def test_withdrawn_e_mail_consent_stops_sign_in_reminders_but_not_the_plan(
    alice: User, episode: Episode, session: Session
) -> None:
    consent_record(actor=alice, client=episode.client, purpose=Purpose.EMAIL, given=False, now=T0)
    run = plans.plan_apply(now=T0)
    assert (run.assigned, run.reminded) == (4, 0)
    assert not OutboxMessage.objects.exists()


def test_withdrawn_measurement_consent_stops_the_plan_and_sending_and_a_new_consent_resumes_them(
    alice: User, episode: Episode, session: Session
) -> None:
    from spacebetween.delivery.sending import questionnaire_send

    consent_record(actor=alice, client=episode.client, purpose=Purpose.MEASUREMENT, given=False, now=T0)
    assert not selectors.measurement_allowed(episode.client)
    assert plans.plan_apply(now=T0).assigned == 0
    assert not Assignment.objects.filter(episode=episode).exists()
    with pytest.raises(ValidationError, match="withdrawn consent to questionnaires"):
        questionnaire_send(actor=alice, episode=episode, instrument_id="phq9", way="email", now=T0)
    assert not Assignment.objects.exists() and not OutboxMessage.objects.exists()
    # Given again: the plan catches up, as for any client (the same run as in the e-mail test above).
    consent_record(actor=alice, client=episode.client, purpose=Purpose.MEASUREMENT, given=True, now=T0)
    assert plans.plan_apply(now=T0).assigned == 4


def test_the_treating_therapist_changes_consent_from_the_pages(
    alice: User, admin: User, client_record: Client, episode: Episode
) -> None:
    page = signed_in(alice).get(reverse("client_detail", args=[client_record.pk]))
    assert b"Consent and data rights" in page.content
    assert reverse("client_rights", args=[client_record.pk]).encode() in page.content
    url = reverse("client_consent", args=[client_record.pk])
    done = signed_in(alice).post(url, {"purpose": "email", "given": "yes"})
    assert done.status_code == 302
    assert ConsentRecord.objects.get().given is True
    refused = signed_in(alice).post(url, {"purpose": "email", "given": "maybe"})
    assert refused.status_code == 400
    assert b"There is a problem" in refused.content
    again = signed_in(alice).post(url, {"purpose": "email", "given": "yes"})
    assert again.status_code == 400 and b"Nothing changed" in again.content
    assert signed_in(admin).post(url, {"purpose": "email", "given": "no"}).status_code == 403
    assert ConsentRecord.objects.count() == 1
