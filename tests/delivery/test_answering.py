"""Answering, by link and in the portal: validation, save and resume, review, submission once, and
the crisis resources whenever a risk answer was given."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from spacebetween.accounts.models import Role, User
from spacebetween.accounts.services import user_create
from spacebetween.delivery import services
from spacebetween.delivery.models import Draft
from spacebetween.delivery.selectors import draft_answers
from spacebetween.delivery.services import NOT_AN_OPTION, draft_save, link_issue
from spacebetween.measures.models import Assignment, AssignmentStatus, Response
from spacebetween.notifications.models import OutboxMessage
from spacebetween.safety.models import CrisisResource, RiskFlag
from tests.conftest import FakeClock, signed_in
from tests.delivery.helpers import CALM, answer_all, start_link

ITEM_9 = {**CALM, "phq9_9": 1}


def portal_urls(assignment: Assignment) -> tuple[str, str, str]:
    kw = {"assignment_id": assignment.pk}
    return (
        reverse("portal_answer", kwargs=kw),
        reverse("portal_review", kwargs=kw),
        reverse("portal_done", kwargs=kw),
    )


LINK_URLS = ("link_answer", "link_review", "link_done")


def test_a_question_page_is_a_fieldset_of_labelled_radios(carol_user: User, assignment: Assignment) -> None:
    answer, _, _ = portal_urls(assignment)
    body = signed_in(carol_user).get(answer).content.decode()
    assert "Over the last 2 weeks, how often have you been bothered" in body
    assert "<legend>" in body and "Little interest or pleasure in doing things" in body
    assert 'type="radio" id="answer-1" name="answer" value="0"' in body
    assert '<label class="choice" for="answer-1">' in body
    assert "Question 1 of 10" in body


def test_a_value_that_is_not_an_option_is_refused_and_nothing_saved(
    carol_user: User, assignment: Assignment
) -> None:
    answer, _, _ = portal_urls(assignment)
    http = signed_in(carol_user)
    response = http.post(answer, {"q": 1, "answer": "7"})
    assert response.status_code == 400
    assert NOT_AN_OPTION in response.content.decode()
    assert not Draft.objects.filter(assignment=assignment).exists()


def test_a_required_question_cannot_be_skipped(carol_user: User, assignment: Assignment) -> None:
    answer, _, _ = portal_urls(assignment)
    response = signed_in(carol_user).post(answer, {"q": 3})
    assert response.status_code == 400
    assert "Choose an answer to go on." in response.content.decode()


def test_answers_are_saved_and_resumed_where_the_client_stopped(
    carol_user: User, assignment: Assignment
) -> None:
    answer, _, _ = portal_urls(assignment)
    for number, value in ((1, "2"), (2, "1"), (3, "0")):
        assert signed_in(carol_user).post(answer, {"q": number, "answer": value}).status_code == 302
    assert draft_answers(assignment) == {"phq9_1": 2, "phq9_2": 1, "phq9_3": 0}
    later = signed_in(carol_user)  # another day, another browser
    assert "Question 4 of 10" in later.get(answer).content.decode()
    body = later.get(answer + "?q=1").content.decode()
    assert 'value="2" checked' in body


def test_a_link_session_resumes_a_draft_from_an_earlier_link(
    alice: User, token: str, assignment: Assignment
) -> None:
    http = start_link(token)
    http.post(reverse("link_answer"), {"q": 1, "answer": "3"})
    again = start_link(link_issue(actor=alice, assignment=assignment))
    assert "Question 2 of 10" in again.get(reverse("link_answer")).content.decode()


def test_the_review_lists_every_answer_with_a_change_link(carol_user: User, assignment: Assignment) -> None:
    answer, review, _ = portal_urls(assignment)
    http = signed_in(carol_user)
    answer_all(http, answer, CALM)
    body = http.get(review).content.decode()
    assert body.count(">Change<") == 10
    assert f'href="{answer}?q=9&amp;then=review"' in body
    response = http.post(answer, {"q": 9, "answer": "2", "then": "review"})
    assert response["Location"] == review
    assert "More than half the days" in http.get(review).content.decode()


def test_a_review_with_a_missing_answer_cannot_be_submitted(carol_user: User, assignment: Assignment) -> None:
    answer, review, _ = portal_urls(assignment)
    http = signed_in(carol_user)
    http.post(answer, {"q": 1, "answer": "1"})
    response = http.post(review)
    assert response.status_code == 400
    assert "Some questions still need an answer: 2, 3" in response.content.decode()
    assert not Response.objects.exists()


def test_submitting_without_risk_thanks_the_client(carol_user: User, assignment: Assignment) -> None:
    answer, review, done = portal_urls(assignment)
    http = signed_in(carol_user)
    answer_all(http, answer, CALM)
    assert http.post(review)["Location"] == done
    body = http.get(done).content.decode()
    assert "Thank you" in body and "Samaritans" not in body
    response = Response.objects.get(assignment=assignment)
    assert response.submitted_via == "portal" and response.submitted_by == carol_user
    assert not Draft.objects.filter(assignment=assignment).exists()


def test_a_second_submission_changes_nothing(carol_user: User, assignment: Assignment) -> None:
    answer, review, _ = portal_urls(assignment)
    http = signed_in(carol_user)
    answer_all(http, answer, CALM)
    other_tab = signed_in(carol_user)
    other_tab.get(review)
    http.post(review)
    instrument = services.instrument_for(assignment)
    assert instrument is not None
    draft_save(assignment=assignment, instrument=instrument, item_id="phq9_1", value=3)  # a stale tab's
    response = other_tab.post(review)
    assert response.status_code == 302
    assert "Thank you" in other_tab.get(response["Location"]).content.decode()
    assert Response.objects.get(assignment=assignment).answers["phq9_1"] == 0
    assert Response.objects.count() == 1


def test_a_second_submission_by_link_is_refused_with_a_clear_message(
    token: str, assignment: Assignment
) -> None:
    http = start_link(token)
    answer_all(http, reverse("link_answer"), CALM)
    http.post(reverse("link_review"))
    again = http.post(reverse("link_review"))
    assert again.status_code == 302 and again["Location"] == reverse("link_done")
    assert Response.objects.count() == 1


def test_an_expired_assignment_cannot_be_answered(
    carol_user: User, assignment: Assignment, clock: FakeClock
) -> None:
    answer, review, _ = portal_urls(assignment)
    # Answered in the minute before it expires (the portal's session, on the same clock, is still live).
    clock.set(assignment.expires_at - dt.timedelta(minutes=1))
    http = signed_in(carol_user)
    answer_all(http, answer, CALM)
    clock.set(assignment.expires_at)
    response = http.post(review)
    assert response.status_code == 410
    assert "This questionnaire has expired" in response.content.decode()
    assert not Response.objects.exists()


@pytest.mark.parametrize("via", ["link", "portal"])
def test_item_9_above_zero_shows_the_crisis_resources(
    via: str, carol_user: User, token: str, assignment: Assignment
) -> None:
    if via == "link":
        http = start_link(token)
        answer, review, done = (reverse(n) for n in LINK_URLS)
    else:
        http = signed_in(carol_user)
        answer, review, done = portal_urls(assignment)
    answer_all(http, answer, ITEM_9)
    assert http.post(review)["Location"] == done
    body = http.get(done).content.decode()
    assert "If you need help now" in body
    assert "116 123" in body and "Samaritans" in body and "999" in body and "mental health option" in body
    assert "not watched in real time" in body
    assert RiskFlag.objects.filter(assignment=assignment, rule_id="phq9_9").count() == 1
    assert Response.objects.get(assignment=assignment).submitted_via == via
    assert OutboxMessage.objects.filter(to_address="alice@example.org").exists()
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.ANSWERED


def test_the_practices_own_resources_come_first_and_the_built_in_ones_stay(
    carol_user: User, assignment: Assignment
) -> None:
    practice = assignment.episode.client.practice
    CrisisResource.objects.create(
        practice=practice, country="GB", name="Riverside duty line", phone="020 7946 0000"
    )
    answer, review, done = portal_urls(assignment)
    http = signed_in(carol_user)
    answer_all(http, answer, ITEM_9)
    http.post(review)
    body = http.get(done).content.decode()
    assert body.index("Riverside duty line") < body.index("Samaritans")


def test_another_country_gets_the_generic_resources(carol_user: User, assignment: Assignment) -> None:
    practice = assignment.episode.client.practice
    practice.country = "NZ"
    practice.save(update_fields=["country"])
    answer, review, done = portal_urls(assignment)
    http = signed_in(carol_user)
    answer_all(http, answer, ITEM_9)
    http.post(review)
    body = http.get(done).content.decode()
    assert "findahelpline.com" in body and "Samaritans" not in body


def test_a_client_cannot_open_someone_elses_questionnaire(
    oscar: User, bob: User, assignment: Assignment, carol_user: User
) -> None:
    other_client = user_create(
        practice=carol_user.practice,
        email="dan@example.org",
        full_name="Dan",
        role=Role.CLIENT,
        password="x" * 20,
    )
    answer, review, done = portal_urls(assignment)
    for url in (answer, review, done):
        assert signed_in(other_client).get(url).status_code == 404
        assert signed_in(bob).get(url).status_code == 403
    assert HttpClient().get(answer).status_code == 302
