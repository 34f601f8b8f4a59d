"""API v1 over a key of the cast's practice: due assignments without names or health content; the
FHIR definition; submission scored exactly as core.scoring scores it, with 409 / 410 / 422 refusals
and risk answers flagged; another practice's objects are 404; every call is audited against the key."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client as HttpClient

from spacebetween.accounts.models import User
from spacebetween.answering import services as answering
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Episode
from spacebetween.core import instruments as catalogue
from spacebetween.core.fhir import questionnaire_resource
from spacebetween.core.scoring import score_response
from spacebetween.measures.models import Assignment, AssignmentStatus, Response
from spacebetween.safety.models import RiskFlag
from tests.api.conftest import IssuedKey, bearer, phq9

ASSIGNMENTS = "/api/v1/assignments"


def submit_url(assignment: Assignment) -> str:
    return f"/api/v1/assignments/{assignment.pk}/responses"


def post_answers(api: HttpClient, assignment: Assignment, answers: object) -> object:
    return api.post(submit_url(assignment), {"answers": answers}, content_type="application/json")


# ------------------------------------------------------------------------------ listing


def test_it_lists_the_practices_due_assignments(api: HttpClient, due_phq9: Assignment) -> None:
    response = api.get(ASSIGNMENTS, {"status": "due"})
    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["id"] == due_phq9.pk
    assert item["episode_id"] == due_phq9.episode_id
    assert (item["instrument_id"], item["instrument_version"]) == ("phq9", due_phq9.instrument_version)
    assert item["status"] == "due"
    assert set(item) == {
        "id",
        "episode_id",
        "instrument_id",
        "instrument_version",
        "due_at",
        "expires_at",
        "status",
    }


def test_the_list_names_no_one(api: HttpClient, due_phq9: Assignment) -> None:
    body = api.get(ASSIGNMENTS).content.decode()
    assert "Carol" not in body
    assert "Jones" not in body
    assert "bereavement" not in body


def test_an_answered_assignment_is_not_due(api: HttpClient, due_phq9: Assignment) -> None:
    post_answers(api, due_phq9, phq9())
    assert api.get(ASSIGNMENTS).json()["items"] == []
    answered = api.get(ASSIGNMENTS, {"status": "answered"}).json()["items"]
    assert [a["id"] for a in answered] == [due_phq9.pk]


def test_another_practice_sees_none_of_our_assignments(oscar_key: IssuedKey, due_phq9: Assignment) -> None:
    response = bearer(oscar_key.plaintext).get(ASSIGNMENTS)
    assert response.status_code == 200
    assert response.json()["items"] == []


def test_an_unknown_status_is_422_naming_the_field(api: HttpClient) -> None:
    response = api.get(ASSIGNMENTS, {"status": "lost"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["status"]


def test_listing_is_audited_against_the_key(api: HttpClient, api_key: IssuedKey) -> None:
    api.get(ASSIGNMENTS)
    event = AuditEvent.objects.filter(event_type="api").latest("seq")
    assert event.actor_role == "api-key"
    assert event.actor_id is None
    assert event.practice_id == api_key.key.practice_id
    assert event.detail.startswith(f"key:{api_key.key.prefix}")


# ------------------------------------------------------------------------------ instruments


def test_it_serves_the_fhir_questionnaire(api: HttpClient, api_key: IssuedKey) -> None:
    response = api.get("/api/v1/instruments/phq9")
    assert response.status_code == 200
    assert response.json() == questionnaire_resource(catalogue.get("phq9"))


def test_an_instrument_the_practice_does_not_use_is_404(api: HttpClient) -> None:
    # aaq2 is in the licensed pack, which this practice has not accepted.
    response = api.get("/api/v1/instruments/aaq2")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": []}


# ------------------------------------------------------------------------------ submitting


def test_submitted_answers_are_scored_by_core_scoring(api: HttpClient, due_phq9: Assignment) -> None:
    answers = phq9(phq9_1=3, phq9_2=2)
    response = post_answers(api, due_phq9, answers)
    assert response.status_code == 201  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    expected = score_response(catalogue.get("phq9"), answers)  # type: ignore[arg-type]
    assert set(body["scores"]) == set(expected.scales)
    for scale_id, scale in expected.scales.items():
        assert body["scores"][scale_id]["score"] == scale.score
        assert body["scores"][scale_id]["band"] == scale.band
    assert body["any_risk"] is False
    stored = Response.objects.get(assignment=due_phq9)
    assert stored.pk == body["response_id"]
    assert stored.submitted_via == "api"
    assert stored.submitted_by_id is None, "an API key submits for the client, not as any staff member"
    due_phq9.refresh_from_db()
    assert due_phq9.status == AssignmentStatus.ANSWERED


def test_a_second_submission_is_409_and_keeps_the_first(api: HttpClient, due_phq9: Assignment) -> None:
    assert post_answers(api, due_phq9, phq9()).status_code == 201  # type: ignore[attr-defined]
    again = post_answers(api, due_phq9, phq9(phq9_1=3))
    assert again.status_code == 409  # type: ignore[attr-defined]
    assert again.json() == {  # type: ignore[attr-defined]
        "detail": answering.ALREADY_SUBMITTED,
        "errors": [],
        "risk_flag_raised": False,
    }
    assert Response.objects.get().answers["phq9_1"] == 1


def test_an_expired_assignment_is_410(api: HttpClient, alice: User, episode: Episode) -> None:
    then = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    expired = answering.assignment_create(
        actor=alice, episode=episode, instrument_id="phq9", due_at=then, now=then
    )
    response = post_answers(api, expired, phq9())
    assert response.status_code == 410  # type: ignore[attr-defined]
    assert response.json()["detail"] == answering.EXPIRED  # type: ignore[attr-defined]
    assert not Response.objects.exists()


def test_a_withdrawn_assignment_is_410(api: HttpClient, alice: User, due_phq9: Assignment) -> None:
    answering.assignment_revoke(actor=alice, assignment=due_phq9)
    assert post_answers(api, due_phq9, phq9()).status_code == 410  # type: ignore[attr-defined]


def test_an_answer_that_is_not_an_option_is_422_naming_item_and_value(
    api: HttpClient, due_phq9: Assignment
) -> None:
    response = post_answers(api, due_phq9, phq9(phq9_4=7))
    assert response.status_code == 422  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"detail", "errors", "risk_flag_raised"}
    assert body["risk_flag_raised"] is False
    [error] = body["errors"]
    assert (error["field"], error["value"]) == ("phq9_4", 7)
    assert "phq9_4" in error["message"] and "7" in error["message"]
    assert not Response.objects.exists()


@pytest.mark.parametrize("value", ["1", True, [1], {"v": 1}])
def test_an_answer_that_is_not_a_number_is_422_naming_the_item(
    api: HttpClient, due_phq9: Assignment, value: object
) -> None:
    response = post_answers(api, due_phq9, phq9(phq9_2=value))
    assert response.status_code == 422  # type: ignore[attr-defined]
    fields = {e["field"] for e in response.json()["errors"]}  # type: ignore[attr-defined]
    assert any("phq9_2" in field for field in fields)
    assert not Response.objects.exists()


def test_an_unknown_item_is_422_naming_it(api: HttpClient, due_phq9: Assignment) -> None:
    response = post_answers(api, due_phq9, phq9(gad7_1=1))
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "gad7_1" in [e["field"] for e in response.json()["errors"]]  # type: ignore[attr-defined]


def test_a_risk_answer_raises_a_flag(api: HttpClient, due_phq9: Assignment) -> None:
    response = post_answers(api, due_phq9, phq9(item9=2))
    assert response.status_code == 201  # type: ignore[attr-defined]
    assert response.json()["any_risk"] is True  # type: ignore[attr-defined]
    flag = RiskFlag.objects.get(assignment=due_phq9)
    assert (flag.item_id, flag.answer_value) == ("phq9_9", 2.0)
    assert flag.response is not None


def test_a_risk_answer_is_flagged_even_when_the_answers_are_refused(
    api: HttpClient, due_phq9: Assignment
) -> None:
    response = post_answers(api, due_phq9, phq9(item9=3, phq9_4=7))
    assert response.status_code == 422  # type: ignore[attr-defined]
    flag = RiskFlag.objects.get(assignment=due_phq9)
    assert (flag.item_id, flag.response) == ("phq9_9", None)


def test_another_practices_assignment_is_404_and_untouched(
    oscar_key: IssuedKey, due_phq9: Assignment
) -> None:
    response = post_answers(bearer(oscar_key.plaintext), due_phq9, phq9())
    assert response.status_code == 404  # type: ignore[attr-defined]
    assert response.json() == {"detail": "Not found.", "errors": []}  # type: ignore[attr-defined]
    assert not Response.objects.exists()
    assert AuditEvent.objects.filter(
        event_type="access-denied",
        entity_type="Assignment",
        entity_id=str(due_phq9.pk),
        practice_id=oscar_key.key.practice_id,
    ).exists()


def test_submitting_is_audited_against_the_key_in_one_row(
    api: HttpClient, api_key: IssuedKey, due_phq9: Assignment
) -> None:
    before = AuditEvent.objects.count()
    post_answers(api, due_phq9, phq9())
    stored = Response.objects.get(assignment=due_phq9)
    [event] = AuditEvent.objects.filter(seq__gt=before)
    assert (event.event_type, event.action, event.entity_type, event.entity_id) == (
        "api",
        "C",
        "Response",
        str(stored.pk),
    )
    assert (event.actor_id, event.actor_role) == (None, "api-key")
    assert event.detail == f"key:{api_key.key.prefix} id:{api_key.key.pk} via-api"


def test_a_refused_submission_is_audited_against_the_key(
    api: HttpClient, api_key: IssuedKey, due_phq9: Assignment
) -> None:
    post_answers(api, due_phq9, phq9())
    assert post_answers(api, due_phq9, phq9()).status_code == 409  # type: ignore[attr-defined]
    event = AuditEvent.objects.latest("seq")
    assert (event.entity_type, event.entity_id, event.outcome) == ("Assignment", str(due_phq9.pk), 4)
    assert event.detail == f"key:{api_key.key.prefix} id:{api_key.key.pk}"


def test_a_request_refused_as_invalid_is_audited_against_the_key(api: HttpClient, api_key: IssuedKey) -> None:
    api.get(ASSIGNMENTS, {"status": "lost"})
    event = AuditEvent.objects.filter(entity_type="ApiRequest").get()
    assert (event.entity_id, event.outcome, event.actor_role) == ("api_assignment_list", 4, "api-key")
    assert event.detail.startswith(f"key:{api_key.key.prefix}")
