"""The questionnaire answers page: every response of a client, item by item, newest first, paged;
for whoever may read the client page, from the episodes they may read."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from spacebetween.accounts.models import User
from spacebetween.answering import services as answering
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Client, Episode
from spacebetween.measures.answers import client_answers
from spacebetween.measures.models import Response
from tests.conftest import share_for_supervision, signed_in

pytestmark = pytest.mark.django_db

SEPT_10 = dt.datetime(2026, 9, 10, 9, 0, tzinfo=dt.UTC)
PAGE_HEADING = "<h1>Questionnaire answers: Carol Jones</h1>"
PHQ9_ITEM_1 = "Little interest or pleasure in doing things"
PHQ9_ITEM_9 = "Thoughts that you would be better off dead"


def url(client: Client, page: int | None = None) -> str:
    return f"/clients/{client.pk}/answers/" + (f"?page={page}" if page else "")


def phq9(item_value: int, item9: int | None = None) -> dict[str, int | None]:
    answers: dict[str, int | None] = {f"phq9_{i}": item_value for i in range(1, 9)}
    answers["phq9_9"] = item_value if item9 is None else item9
    return answers


def answer(
    actor: User, episode: Episode, instrument_id: str, answers: dict[str, int | None], when: dt.datetime
) -> Response:
    assignment = answering.assignment_create(
        actor=actor, episode=episode, instrument_id=instrument_id, due_at=when, now=when
    )
    return answering.response_submit(assignment=assignment, answers=answers, via="link", now=when)


def body_of(http_response) -> str:
    assert http_response.status_code == 200
    body = http_response.content.decode()
    assert PAGE_HEADING in body  # the answers page, not some other page
    return body


def test_it_shows_each_item_with_the_answer_wording_and_value(alice, client_record, episode) -> None:
    answer(alice, episode, "phq9", phq9(2, item9=0), SEPT_10)
    body = body_of(signed_in(alice).get(url(client_record)))
    # The instrument's name, never its id, and the stored score with its band.
    assert "Patient Health Questionnaire-9 (PHQ-9)" in body
    assert "PHQ-9 total" in body and "16 (moderately severe)" in body
    # Item text, the chosen answer's wording and its value, in one row.
    row = re.search(rf"<tr[^>]*>\s*<th scope=\"row\"[^>]*>{PHQ9_ITEM_1}.*?</tr>", body, re.S)
    assert row is not None
    assert "More than half the days" in row.group(0) and '<td data-label="Value">2</td>' in row.group(0)
    assert "<caption>Answers to Patient Health Questionnaire-9 (PHQ-9)" in body


def test_a_risk_answer_is_marked_on_its_item(alice, client_record, episode) -> None:
    answer(alice, episode, "phq9", phq9(0, item9=1), SEPT_10)
    body = body_of(signed_in(alice).get(url(client_record)))
    row = re.search(rf"<tr class=\"urgent\">\s*<th scope=\"row\"[^>]*>{PHQ9_ITEM_9}.*?</tr>", body, re.S)
    assert row is not None, "the risk item's row is marked urgent"
    assert '<strong class="badge urgent">Risk answer</strong>' in row.group(0)
    assert "Several days" in row.group(0)
    # Only the risk item's row: the other items are plain rows.
    assert body.count('<tr class="urgent">') == 1


def test_a_risk_item_answered_no_is_labelled_but_not_alarmed(alice, client_record, episode) -> None:
    answer(alice, episode, "phq9", phq9(1, item9=0), SEPT_10)
    body = body_of(signed_in(alice).get(url(client_record)))
    assert '<span class="badge">Risk item</span>' in body
    assert "Risk answer" not in body and 'class="urgent"' not in body


def test_an_unanswered_risk_item_is_marked(alice, client_record, episode) -> None:
    response = answer(alice, episode, "phq9", phq9(0), SEPT_10)
    # The shipped definitions refuse a response without its risk item; an imported one may store the
    # rule's result as None (tests/safety/test_risk_history.py does the same).
    Response.objects.filter(pk=response.pk).update(
        risk={"phq9_9": None}, answers={**response.answers, "phq9_9": None}
    )
    body = body_of(signed_in(alice).get(url(client_record)))
    assert body.count("Risk item not answered") == 2  # on the questionnaire and on its item
    assert "Not answered" in body


def test_responses_are_newest_first_and_ten_a_page(alice, client_record, episode) -> None:
    for n in range(12):
        answer(alice, episode, "phq9", phq9(n % 4, item9=0), SEPT_10 + dt.timedelta(days=n))
    http = signed_in(alice)
    first = body_of(http.get(url(client_record)))
    second = body_of(http.get(url(client_record, page=2)))
    assert first.count("<caption>Answers to") == 10 and second.count("<caption>Answers to") == 2
    # Newest (21 Sep) first on page one; the two oldest (10 and 11 Sep) on page two.
    assert first.index("Mon 21 Sep 2026") < first.index("Sun 20 Sep 2026")
    assert "Thu 10 Sep 2026" not in first and "Fri 11 Sep 2026" not in first
    assert second.index("Fri 11 Sep 2026") < second.index("Thu 10 Sep 2026")
    assert 'href="?page=2"' in first and 'href="?page=1"' in second
    assert "Showing 11–12 of 12" in second


def test_a_page_past_the_end_shows_the_last_page(alice, client_record, episode) -> None:
    answer(alice, episode, "phq9", phq9(1, item9=0), SEPT_10)
    body = body_of(signed_in(alice).get(url(client_record) + "?page=99"))
    assert body.count("<caption>Answers to") == 1


def test_a_response_whose_definition_is_gone_still_shows_its_values(alice, client_record, episode) -> None:
    response = answer(alice, episode, "phq9", phq9(3, item9=0), SEPT_10)
    Response.objects.filter(pk=response.pk).update(instrument_version="0.0.1")
    body = body_of(signed_in(alice).get(url(client_record)))
    assert "Version 0.0.1 of this questionnaire is no longer available" in body
    assert '<th scope="row" data-label="Question">phq9_1' in body
    assert PHQ9_ITEM_1 not in body


def test_no_answers_yet(alice, client_record, episode) -> None:
    body = body_of(signed_in(alice).get(url(client_record)))
    assert "No questionnaire answers yet" in body


def test_the_client_page_links_to_the_answers(alice, client_record, episode) -> None:
    response = signed_in(alice).get(f"/clients/{client_record.pk}/")
    assert response.status_code == 200
    assert f'href="{url(client_record)}"' in response.content.decode()


def test_it_audits_the_read_of_the_client_and_the_episode(alice, client_record, episode) -> None:
    answer(alice, episode, "phq9", phq9(1, item9=0), SEPT_10)
    before = AuditEvent.objects.count()
    body_of(signed_in(alice).get(url(client_record)))
    reads = AuditEvent.objects.filter(action="R", actor_id=alice.pk, purpose="TREAT")
    assert AuditEvent.objects.count() == before + 2
    assert {(e.entity_type, e.entity_id) for e in reads} >= {
        ("Client", str(client_record.pk)),
        ("Episode", str(episode.pk)),
    }


# ------------------------------------------------------------------------------ who may read it


def test_a_colleague_gets_404(alice, bob, client_record, episode) -> None:
    answer(alice, episode, "phq9", phq9(1, item9=0), SEPT_10)
    response = signed_in(bob).get(url(client_record))
    assert response.status_code == 404
    assert PHQ9_ITEM_1 not in response.content.decode()


def test_a_supervisor_gets_404_for_an_unshared_episode(alice, sam, client_record, episode) -> None:
    answer(alice, episode, "phq9", phq9(1, item9=0), SEPT_10)
    assert signed_in(sam).get(url(client_record)).status_code == 404


def test_a_supervisor_reads_the_answers_of_a_shared_episode(alice, sam, client_record, episode) -> None:
    answer(alice, episode, "phq9", phq9(1, item9=0), SEPT_10)
    share_for_supervision(alice, episode)
    body = body_of(signed_in(sam).get(url(client_record)))
    assert PHQ9_ITEM_1 in body


def test_a_supervisor_sees_only_the_shared_episodes_answers(alice, sam, client_record, episode) -> None:
    answer(alice, episode, "phq9", phq9(1, item9=0), SEPT_10)
    share_for_supervision(alice, episode)
    # A second, unshared episode of the same client, after the first ended.
    clinical.episode_update(
        actor=alice,
        episode=episode,
        referral_reason=episode.referral_reason,
        started_on=episode.started_on,
        ended_on=dt.date(2026, 9, 20),
        end_reason="completed",
        shared_for_supervision=True,
    )
    later = clinical.episode_open(
        actor=alice, client=client_record, referral_reason="Sleep", started_on=dt.date(2026, 10, 1)
    )
    answer(alice, later, "gad7", {f"gad7_{i}": 1 for i in range(1, 8)}, SEPT_10 + dt.timedelta(days=30))
    own = body_of(signed_in(alice).get(url(client_record)))
    assert "Generalized Anxiety Disorder" in own and PHQ9_ITEM_1 in own
    supervised = body_of(signed_in(sam).get(url(client_record)))
    assert PHQ9_ITEM_1 in supervised
    assert "Generalized Anxiety Disorder" not in supervised


@pytest.mark.parametrize("role", ["admin", "carol_user"])
def test_admins_and_clients_are_refused(role, client_record, episode, request) -> None:
    assert signed_in(request.getfixturevalue(role)).get(url(client_record)).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, client_record) -> None:
    response = client.get(url(client_record))
    assert response.status_code == 302
    assert "Carol" not in response["Location"]


# ------------------------------------------------------------------------------ cost


@pytest.mark.parametrize("responses", [1, 10])
def test_the_selector_reads_the_same_number_of_queries_whatever_the_number_of_responses(
    alice, client_record, episode, responses: int
) -> None:
    for n in range(responses):
        answer(alice, episode, "phq9", phq9(1, item9=0), SEPT_10 + dt.timedelta(days=n))
    with CaptureQueriesContext(connection) as queries:
        listing = client_answers(alice, client_record)
        [(q.episode.started_on, q.answers, q.scores) for q in listing.questionnaires]  # nothing lazy
    assert len(listing.questionnaires) == responses
    # The episodes, the count, the page of responses with their assignments, the practice's imports.
    assert len(queries.captured_queries) == 4


def test_the_page_reads_no_more_for_twelve_responses_than_for_one(
    alice, client_record, episode, django_assert_max_num_queries
) -> None:
    http = signed_in(alice)
    answer(alice, episode, "phq9", phq9(1, item9=0), SEPT_10)
    with CaptureQueriesContext(connection) as one:
        body_of(http.get(url(client_record)))
    for n in range(1, 12):
        answer(alice, episode, "phq9", phq9(1, item9=0), SEPT_10 + dt.timedelta(days=n))
    with django_assert_max_num_queries(len(one.captured_queries)):
        body_of(http.get(url(client_record)))
