"""Send a questionnaire now (issue #16, item 3): the treating therapist sends any instrument the practice
uses, by email link or to the portal, for a session or on its own; one email and one link per session,
answered in turn, also past a risk answer's crisis page; sending again replaces the old link (whose page
says so) or asks anew for an expired one; a session recorded after it happened asks no "before
session" questionnaire."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client as HttpClient
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Client, EndReason, Episode, Session
from spacebetween.consent.models import Purpose
from spacebetween.consent.services import consent_record
from spacebetween.delivery import sending, services
from spacebetween.delivery import views as delivery_views
from spacebetween.delivery.models import QuestionnaireLink
from spacebetween.measures.models import Assignment, AssignmentStatus, PlannedMeasure
from spacebetween.notifications.models import OutboxMessage
from spacebetween.plans import services as plans
from spacebetween.rights.erasure import client_erase
from spacebetween.safety.models import RiskFlag
from tests.conftest import FakeClock, signed_in
from tests.delivery.helpers import CALM

pytestmark = pytest.mark.django_db

# A Tuesday, 10:00 in London: inside the hours when emails may go out.
NOW = dt.datetime(2026, 10, 6, 9, 0, tzinfo=dt.UTC)
GAD7_CALM = {f"gad7_{n}": 0 for n in range(1, 8)}


@pytest.fixture
def now(clock: FakeClock) -> dt.datetime:
    clock.set(NOW)
    return NOW


@pytest.fixture
def dana(alice: User, now: dt.datetime) -> Episode:
    """A client with an email address and no portal login, with a session on Thursday."""
    client = clinical.client_create(
        actor=alice, given_name="Dana", family_name="Reed", email="dana@example.org"
    )
    return clinical.episode_open(
        actor=alice, client=client, referral_reason="Panic attacks", started_on=dt.date(2026, 9, 1)
    )


@pytest.fixture
def thursday(alice: User, dana: Episode) -> Session:
    return clinical.session_create(actor=alice, episode=dana, starts_at=NOW + dt.timedelta(days=2))


def links_sent() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(kind="questionnaire-link").order_by("pk"))


def token_of(message: OutboxMessage) -> str:
    found = re.search(r"/a/([^/\s]+)/", message.body())
    assert found is not None, "no link in the email"
    return found.group(1)


def send(alice: User, episode: Episode, instrument_id: str, session: Session | None = None) -> Assignment:
    return sending.questionnaire_send(
        actor=alice, episode=episode, instrument_id=instrument_id, way="email", session=session
    )


def start(token: str) -> HttpClient:
    http = HttpClient()
    response = http.post(reverse("link_start", kwargs={"token": token}))
    assert response.status_code == 302, response.status_code
    return http


def answer(http: HttpClient, answers: dict[str, int]) -> None:
    for number, value in enumerate(answers.values(), 1):
        response = http.post(reverse("link_answer"), {"q": number, "answer": str(value)})
        assert response.status_code == 302, (number, response.status_code)
    response = http.post(reverse("link_review"))
    assert response.status_code in (200, 302), response.status_code


# ------------------------------------------------------------------------------ sending now


def test_the_therapist_sends_a_questionnaire_by_email_now(
    alice: User, dana: Episode, thursday: Session
) -> None:
    assignment = send(alice, dana, "gad7", thursday)
    assert (assignment.instrument_id, assignment.session_id, assignment.status) == (
        "gad7",
        thursday.pk,
        "sent",
    )
    assert assignment.due_at == NOW
    [message] = links_sent()
    assert message.to_address == "dana@example.org"
    body = message.body()
    assert "GAD" not in body and "anxiety" not in body.lower()  # no instrument named
    assert "ask your therapist for a new one" not in body
    assert "can send you a new link" in body
    http = start(token_of(message))
    assert http.get(reverse("link_answer")).status_code == 200


def test_the_questionnaires_of_one_session_go_in_one_email_with_one_link(
    alice: User, dana: Episode, thursday: Session
) -> None:
    phq9 = send(alice, dana, "phq9", thursday)
    first_token = token_of(links_sent()[0])
    gad7 = send(alice, dana, "gad7", thursday)
    assert len(links_sent()) == 2  # the second email replaces the first
    latest = links_sent()[-1]
    assert "2 short questionnaires" in latest.body()
    # The first link now says it was replaced, and changes nothing.
    page = HttpClient().get(reverse("link_start_page", kwargs={"token": first_token}))
    assert page.status_code == 410
    assert "replaced by a newer one" in page.content.decode()
    assert HttpClient().post(reverse("link_start", kwargs={"token": first_token})).status_code == 410
    # The newest link walks through both, in turn.
    http = start(token_of(latest))
    answer(http, CALM)
    thanks = http.get(reverse("link_done"))
    assert "Go on to the next questionnaire" in thanks.content.decode()
    assert http.post(reverse("link_next"))["Location"] == reverse("link_answer")
    answer(http, GAD7_CALM)
    done = http.get(reverse("link_done")).content.decode()
    assert "Thank you" in done and "next questionnaire" not in done
    phq9.refresh_from_db()
    gad7.refresh_from_db()
    assert (phq9.status, gad7.status) == (AssignmentStatus.ANSWERED, AssignmentStatus.ANSWERED)


def test_after_a_risk_answer_the_crisis_page_lets_the_client_go_on(
    alice: User, dana: Episode, thursday: Session
) -> None:
    send(alice, dana, "phq9", thursday)
    gad7 = send(alice, dana, "gad7", thursday)
    http = start(token_of(links_sent()[-1]))
    answer(http, {**CALM, "phq9_9": 2})
    assert RiskFlag.objects.filter(assignment__episode=dana).exists()
    crisis = http.get(reverse("link_done")).content.decode()
    assert "If you need help now" in crisis
    assert crisis.index("If you need help now") < crisis.index("Go on to the next questionnaire")
    assert http.post(reverse("link_next"))["Location"] == reverse("link_answer")
    answer(http, GAD7_CALM)
    gad7.refresh_from_db()
    assert gad7.status == AssignmentStatus.ANSWERED


def test_the_client_cannot_skip_ahead_of_an_unfinished_questionnaire(
    alice: User, dana: Episode, thursday: Session
) -> None:
    phq9 = send(alice, dana, "phq9", thursday)
    send(alice, dana, "gad7", thursday)
    http = start(token_of(links_sent()[-1]))
    http.post(reverse("link_next"))
    assert http.session[services.SESSION_ASSIGNMENT] == phq9.pk


def test_one_scheduled_email_per_session(alice: User, dana: Episode, thursday: Session) -> None:
    plans.plan_apply(now=NOW)  # intake is long past; the session's PHQ-9 and GAD-7 are due
    assert set(Assignment.objects.filter(episode=dana).values_list("instrument_id", "session_id")) == {
        ("phq9", thursday.pk),
        ("gad7", thursday.pk),
    }
    assert services.links_send_due(now=NOW) == 1
    [message] = links_sent()
    assert "2 short questionnaires" in message.body()
    assert QuestionnaireLink.objects.get().steps.count() == 2


def test_to_the_portal_it_waits_there_and_no_link_is_sent(
    alice: User, client_record: Client, episode: Episode, carol_user: User, now: dt.datetime
) -> None:
    assignment = sending.questionnaire_send(actor=alice, episode=episode, instrument_id="gad7", way="portal")
    assert assignment.status == AssignmentStatus.DUE
    assert not links_sent()
    portal = signed_in(carol_user).get(reverse("portal")).content.decode()
    assert reverse("portal_answer", kwargs={"assignment_id": assignment.pk}) in portal


# ------------------------------------------------------------------------------ sending again


def test_sending_an_open_one_again_replaces_its_link(alice: User, dana: Episode) -> None:
    assignment = send(alice, dana, "phq9")
    old = token_of(links_sent()[0])
    assert sending.assignment_send_again(actor=alice, assignment=assignment) == assignment
    new = token_of(links_sent()[1])
    assert HttpClient().get(reverse("link_start_page", kwargs={"token": new})).status_code == 200
    page = HttpClient().get(reverse("link_start_page", kwargs={"token": old}))
    assert page.status_code == 410 and delivery_views.LINK_REPLACED in page.content.decode()


def test_sending_an_expired_one_again_asks_anew(
    alice: User, dana: Episode, thursday: Session, clock: FakeClock
) -> None:
    assignment = send(alice, dana, "gad7", thursday)
    old = token_of(links_sent()[0])
    later = assignment.expires_at + dt.timedelta(hours=1)
    clock.set(later)
    plans.plan_apply(now=later)
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.EXPIRED
    expired_page = HttpClient().get(reverse("link_start_page", kwargs={"token": old})).content.decode()
    assert "Your therapist can send you a new link" in expired_page
    assert "ask your therapist" not in expired_page.lower()
    # The client page offers it again, and sending again asks anew, by link, for the same session.
    http = signed_in(alice)
    page = http.get(reverse("client_detail", args=[dana.client_id])).content.decode()
    assert reverse("assignment_send_again", args=[assignment.pk]) in page
    response = http.post(reverse("assignment_send_again", args=[assignment.pk]))
    assert response.status_code == 302
    fresh = Assignment.objects.exclude(pk=assignment.pk).get(episode=dana)
    assert (fresh.instrument_id, fresh.session_id, fresh.status) == ("gad7", thursday.pk, "sent")
    assert len(links_sent()) == 2


def test_an_answered_one_is_not_sent_again(alice: User, dana: Episode) -> None:
    assignment = send(alice, dana, "phq9")
    http = start(token_of(links_sent()[0]))
    answer(http, CALM)
    assignment.refresh_from_db()
    with pytest.raises(ValidationError, match="cannot be sent again"):
        sending.assignment_send_again(actor=alice, assignment=assignment)
    assert len(links_sent()) == 1


# ------------------------------------------------------------------------------ refusals


def _nothing_written(episode: Episode) -> None:
    assert not Assignment.objects.filter(episode=episode).exists()
    assert not links_sent()


def test_the_same_questionnaire_already_waiting_is_refused(
    alice: User, dana: Episode, thursday: Session
) -> None:
    send(alice, dana, "phq9", thursday)
    with pytest.raises(ValidationError, match="already waiting"):
        send(alice, dana, "phq9", thursday)
    assert Assignment.objects.filter(episode=dana).count() == 1


def test_a_colleague_or_supervisor_cannot_send(bob: User, sam: User, dana: Episode) -> None:
    for who in (bob, sam):
        with pytest.raises(PermissionDenied):
            send(who, dana, "phq9")
    _nothing_written(dana)


def test_bad_input_on_the_page_is_a_clear_error_that_changes_nothing(
    alice: User, dana: Episode, thursday: Session
) -> None:
    http = signed_in(alice)
    url = reverse("questionnaire_send", args=[dana.pk])
    for data, error in (
        ({"instrument_id": "not-one", "way": "email"}, "Choose a questionnaire the practice uses."),
        ({"instrument_id": "phq9", "way": "portal"}, "Choose how to send it"),  # Dana has no login
        ({"instrument_id": "phq9", "way": "email", "session": "999999"}, "Choose one of this episode"),
    ):
        page = http.post(url, data, follow=True).content.decode()
        assert error in page, data
    _nothing_written(dana)
    sent = http.post(url, {"instrument_id": "gad7", "way": "email", "session": thursday.pk}, follow=True)
    assert "The questionnaire is sent" in sent.content.decode()
    assert Assignment.objects.get(episode=dana).session_id == thursday.pk


def test_the_client_page_offers_the_form_to_the_treating_therapist_only(
    alice: User, sam: User, dana: Episode, client_record: Client, episode: Episode
) -> None:
    page = signed_in(alice).get(reverse("client_detail", args=[dana.client_id])).content.decode()
    assert reverse("questionnaire_send", args=[dana.pk]) in page
    assert "Send a questionnaire now" in page


# ------------------------------------------------------------------------------ the plan


def test_a_session_recorded_after_it_happened_asks_no_before_session_questionnaire(
    alice: User, dana: Episode
) -> None:
    yesterday = clinical.session_create(actor=alice, episode=dana, starts_at=NOW - dt.timedelta(hours=20))
    plans.plan_apply(now=NOW)
    assert not PlannedMeasure.objects.filter(episode=dana, occasion=str(yesterday.pk)).exists()
    assert not Assignment.objects.filter(session=yesterday).exists()


def test_a_session_recorded_before_it_happens_still_asks(
    alice: User, dana: Episode, thursday: Session
) -> None:
    plans.plan_apply(now=NOW)
    assert Assignment.objects.filter(session=thursday).count() == 2


def test_in_the_portal_the_crisis_page_leads_on_to_the_next_questionnaire(
    alice: User, client_record: Client, episode: Episode, carol_user: User, now: dt.datetime
) -> None:
    phq9 = sending.questionnaire_send(actor=alice, episode=episode, instrument_id="phq9", way="portal")
    gad7 = sending.questionnaire_send(actor=alice, episode=episode, instrument_id="gad7", way="portal")
    http = signed_in(carol_user)
    kwargs = {"assignment_id": phq9.pk}
    for number, value in enumerate({**CALM, "phq9_9": 2}.values(), 1):
        http.post(reverse("portal_answer", kwargs=kwargs), {"q": number, "answer": str(value)})
    assert http.post(reverse("portal_review", kwargs=kwargs)).status_code == 302
    crisis = http.get(reverse("portal_done", kwargs=kwargs)).content.decode()
    assert "If you need help now" in crisis
    assert reverse("portal_answer", kwargs={"assignment_id": gad7.pk}) in crisis


def test_withdrawn_email_consent_refuses_the_email_and_writes_nothing(alice: User, dana: Episode) -> None:
    consent_record(actor=alice, client=dana.client, purpose=Purpose.EMAIL, given=False)
    with pytest.raises(ValidationError, match="withdrawn consent"):
        send(alice, dana, "phq9")
    _nothing_written(dana)


def test_erasure_removes_a_sessions_questionnaires_and_their_link(
    alice: User, dana: Episode, thursday: Session, clock: FakeClock
) -> None:
    send(alice, dana, "phq9", thursday)
    send(alice, dana, "gad7", thursday)
    clinical.episode_update(
        actor=alice,
        episode=dana,
        referral_reason=dana.referral_reason,
        started_on=dana.started_on,
        ended_on=NOW.date() + dt.timedelta(days=3),
        end_reason=EndReason.COMPLETED,
        shared_for_supervision=False,
    )
    clock.set(dt.datetime(2034, 10, 30, 9, 0, tzinfo=dt.UTC))
    client = Client.objects.get(pk=dana.client_id)
    client_erase(actor=alice, client=client, mode="erase", confirm=str(client.pk))
    assert not Assignment.objects.exists() and not QuestionnaireLink.objects.exists()
    assert not Session.objects.filter(pk=thursday.pk).exists()
