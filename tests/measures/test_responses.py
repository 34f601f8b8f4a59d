"""Assigning a questionnaire and taking the client's answers: stored with the definition's id,
version and language, scored by core.scoring in the same transaction; a second submission, an
expired or withdrawn questionnaire and an answer that is not an option are refused and change nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from spacebetween.accounts.models import User
from spacebetween.answering import services as answering
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Episode
from spacebetween.core import instruments as catalogue
from spacebetween.core.scoring import score_response
from spacebetween.measures.models import Assignment, AssignmentStatus, Response
from spacebetween.measures.selectors import assignments_for_episode
from spacebetween.safety.models import RiskFlag, RiskNotification

NOW = dt.datetime(2026, 9, 10, 9, 0, tzinfo=dt.UTC)


def phq9(item9: int = 0, **overrides: int | None) -> dict[str, int | None]:
    answers: dict[str, int | None] = {f"phq9_{i}": 1 for i in range(1, 9)}
    answers["phq9_9"] = item9
    answers.update(overrides)
    return answers


@pytest.fixture
def assignment(alice: User, episode: Episode) -> Assignment:
    return answering.assignment_create(
        actor=alice, episode=episode, instrument_id="phq9", due_at=NOW, now=NOW
    )


def _counts() -> tuple[int, int, int, int]:
    return (
        Response.objects.count(),
        RiskFlag.objects.count(),
        RiskNotification.objects.count(),
        AuditEvent.objects.count(),
    )


# ------------------------------------------------------------------------------ assigning


def test_it_assigns_the_current_version_expiring_after_seven_days(assignment: Assignment) -> None:
    assignment.refresh_from_db()
    phq = catalogue.get("phq9")
    assert (assignment.instrument_id, assignment.instrument_version) == (phq.id, phq.version)
    assert assignment.status == AssignmentStatus.DUE
    assert assignment.expires_at == NOW + dt.timedelta(days=7)


def test_assigning_is_audited(assignment: Assignment, alice: User) -> None:
    assert AuditEvent.objects.filter(
        entity_type="Assignment", entity_id=str(assignment.pk), action="C", actor_id=alice.pk
    ).exists()


def test_it_refuses_an_instrument_the_practice_does_not_use(alice: User, episode: Episode) -> None:
    # aaq2 is in the licensed pack, which this practice has not accepted.
    with pytest.raises(ValidationError) as exc:
        answering.assignment_create(actor=alice, episode=episode, instrument_id="aaq2", due_at=NOW, now=NOW)
    assert answering.INSTRUMENT_NOT_AVAILABLE.format(id="aaq2") in exc.value.messages
    assert not Assignment.objects.exists()


def test_it_refuses_an_expiry_before_the_due_time(alice: User, episode: Episode) -> None:
    with pytest.raises(ValidationError) as exc:
        answering.assignment_create(
            actor=alice, episode=episode, instrument_id="phq9", due_at=NOW, expires_at=NOW, now=NOW
        )
    assert answering.EXPIRY_NOT_AFTER_DUE in exc.value.messages


def test_a_colleague_cannot_assign(bob: User, episode: Episode) -> None:
    with pytest.raises(PermissionDenied):
        answering.assignment_create(actor=bob, episode=episode, instrument_id="phq9", due_at=NOW, now=NOW)
    assert not Assignment.objects.exists()


def test_the_supervisor_cannot_assign(sam: User, episode: Episode) -> None:
    with pytest.raises(PermissionDenied):
        answering.assignment_create(actor=sam, episode=episode, instrument_id="phq9", due_at=NOW, now=NOW)


def test_another_practice_cannot_assign(oscar: User, episode: Episode) -> None:
    with pytest.raises(PermissionDenied):
        answering.assignment_create(actor=oscar, episode=episode, instrument_id="phq9", due_at=NOW, now=NOW)


def test_assignments_for_episode_lists_them_due_first(alice: User, episode: Episode) -> None:
    later = answering.assignment_create(
        actor=alice, episode=episode, instrument_id="gad7", due_at=NOW + dt.timedelta(days=7), now=NOW
    )
    sooner = answering.assignment_create(
        actor=alice, episode=episode, instrument_id="phq9", due_at=NOW, now=NOW
    )
    assert [a.pk for a in assignments_for_episode(episode)] == [sooner.pk, later.pk]


# ------------------------------------------------------------------------------ submitting


def test_it_stores_the_answers_with_the_definitions_id_version_and_language(
    assignment: Assignment, carol_user: User
) -> None:
    answering.response_submit(assignment=assignment, answers=phq9(), via="portal", actor=carol_user, now=NOW)
    response = Response.objects.get(assignment=assignment)
    phq = catalogue.get("phq9")
    assert (response.instrument_id, response.instrument_version, response.instrument_language) == (
        phq.id,
        phq.version,
        phq.language,
    )
    assert response.answers == phq9()
    assert response.submitted_via == "portal"
    assert response.submitted_by_id == carol_user.pk
    assert response.submitted_at == NOW


def test_the_scores_are_core_scorings(assignment: Assignment, carol_user: User) -> None:
    answers = phq9(item9=0, phq9_1=3, phq9_2=2)
    answering.response_submit(assignment=assignment, answers=answers, via="portal", actor=carol_user, now=NOW)
    stored = Response.objects.get(assignment=assignment).scores
    expected = score_response(catalogue.get("phq9"), answers)
    assert set(stored) == set(expected.scales)
    for scale_id, s in expected.scales.items():
        assert stored[scale_id] == {
            "score": s.score,
            "band": s.band,
            "band_index": s.band_index,
            "caseness": s.caseness,
            "prorated": s.prorated,
            "n_missing": s.n_missing,
        }
    assert stored["total"]["score"] == 11


def test_submitting_answers_the_assignment_and_is_audited(assignment: Assignment, carol_user: User) -> None:
    response = answering.response_submit(
        assignment=assignment, answers=phq9(), via="portal", actor=carol_user, now=NOW
    )
    assignment.refresh_from_db()
    assert (assignment.status, assignment.answered_at) == (AssignmentStatus.ANSWERED, NOW)
    assert AuditEvent.objects.filter(
        entity_type="Response", entity_id=str(response.pk), action="C", actor_id=carol_user.pk
    ).exists()


def test_a_second_submission_is_refused_and_changes_nothing(assignment: Assignment, carol_user: User) -> None:
    answering.response_submit(assignment=assignment, answers=phq9(), via="portal", actor=carol_user, now=NOW)
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        answering.response_submit(
            assignment=assignment, answers=phq9(phq9_1=3), via="portal", actor=carol_user, now=NOW
        )
    assert exc.value.messages == [answering.ALREADY_SUBMITTED]
    assert _counts() == before
    assert Response.objects.get(assignment=assignment).answers == phq9()


def test_a_late_risk_answer_is_refused_but_flagged(assignment: Assignment, carol_user: User) -> None:
    """The first answers are kept; the risk answer of the second is not lost (docs/safety.md)."""
    answering.response_submit(assignment=assignment, answers=phq9(), via="portal", actor=carol_user, now=NOW)
    with pytest.raises(answering.QuestionnaireClosed) as exc:
        answering.response_submit(
            assignment=assignment, answers=phq9(item9=3), via="portal", actor=carol_user, now=NOW
        )
    assert exc.value.messages == [answering.ALREADY_SUBMITTED]
    [flag] = exc.value.risk_flags
    assert (flag.source, flag.answer_value, flag.response_id) == ("closed", 3.0, None)
    assert Response.objects.get(assignment=assignment).answers == phq9()


def test_the_database_refuses_a_second_response_for_one_assignment(
    assignment: Assignment, carol_user: User
) -> None:
    first = answering.response_submit(
        assignment=assignment, answers=phq9(), via="portal", actor=carol_user, now=NOW
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(
            assignment=assignment,
            instrument_id=first.instrument_id,
            instrument_version=first.instrument_version,
            instrument_language=first.instrument_language,
            answers=first.answers,
            submitted_at=NOW,
            submitted_via="link",
            scores=first.scores,
        )


def test_the_last_moment_before_expiry_is_accepted(assignment: Assignment) -> None:
    answering.response_submit(
        assignment=assignment, answers=phq9(), via="link", now=assignment.expires_at - dt.timedelta(seconds=1)
    )
    assert Response.objects.filter(assignment=assignment).exists()


def test_an_expired_questionnaire_is_refused_and_changes_nothing(assignment: Assignment) -> None:
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        answering.response_submit(
            assignment=assignment, answers=phq9(), via="link", now=assignment.expires_at
        )
    assert exc.value.messages == [answering.EXPIRED]
    assert _counts() == before


def test_a_withdrawn_questionnaire_is_refused(assignment: Assignment, alice: User) -> None:
    answering.assignment_revoke(actor=alice, assignment=assignment, now=NOW)
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        answering.response_submit(assignment=assignment, answers=phq9(), via="link", now=NOW)
    assert exc.value.messages == [answering.REVOKED]
    assert _counts() == before


def test_an_answer_outside_the_options_is_refused_naming_item_and_value(assignment: Assignment) -> None:
    before = _counts()
    with pytest.raises(answering.AnswersRefused) as exc:
        answering.response_submit(assignment=assignment, answers=phq9(phq9_3=7), via="link", now=NOW)
    assert exc.value.message_dict == {
        "phq9_3": [answering.NOT_AN_OPTION.format(item="phq9_3", value=7, allowed="0, 1, 2, 3")]
    }
    assert exc.value.risk_flags == []
    assert _counts() == before
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.DUE


def test_an_unknown_item_is_refused(assignment: Assignment) -> None:
    with pytest.raises(answering.AnswersRefused) as exc:
        answering.response_submit(
            assignment=assignment, answers={**phq9(), "phq9_99": 1}, via="link", now=NOW
        )
    assert "phq9_99" in exc.value.message_dict
    assert not Response.objects.exists()


def test_a_missing_answer_is_refused_naming_the_item(assignment: Assignment) -> None:
    # The PHQ-9 total allows no missing item (its definition's missing rule).
    with pytest.raises(answering.AnswersRefused) as exc:
        answering.response_submit(assignment=assignment, answers=phq9(phq9_4=None), via="link", now=NOW)
    assert exc.value.message_dict == {
        "phq9_4": [answering.ANSWER_MISSING.format(item="phq9_4", scale="total")]
    }
    assert not Response.objects.exists()


# ------------------------------------------------------------------------------ who may submit


def test_a_one_time_link_needs_no_login(assignment: Assignment) -> None:
    response = answering.response_submit(assignment=assignment, answers=phq9(), via="link", now=NOW)
    assert response.submitted_by_id is None
    assert AuditEvent.objects.get(entity_type="Response", entity_id=str(response.pk)).actor_role == "client"


def test_the_therapist_can_enter_answers_as_staff(assignment: Assignment, alice: User) -> None:
    response = answering.response_submit(
        assignment=assignment, answers=phq9(), via="staff", actor=alice, now=NOW
    )
    assert response.submitted_by_id == alice.pk


def test_a_colleague_cannot_enter_answers(assignment: Assignment, bob: User) -> None:
    with pytest.raises(PermissionDenied):
        answering.response_submit(assignment=assignment, answers=phq9(), via="staff", actor=bob, now=NOW)
    assert not Response.objects.exists()


def test_the_supervisor_cannot_enter_answers(assignment: Assignment, sam: User) -> None:
    with pytest.raises(PermissionDenied):
        answering.response_submit(assignment=assignment, answers=phq9(), via="staff", actor=sam, now=NOW)


def test_staff_cannot_submit_as_the_client_through_the_portal(assignment: Assignment, alice: User) -> None:
    with pytest.raises(PermissionDenied):
        answering.response_submit(assignment=assignment, answers=phq9(), via="portal", actor=alice, now=NOW)


def test_another_practice_cannot_submit(assignment: Assignment, oscar: User) -> None:
    with pytest.raises(PermissionDenied):
        answering.response_submit(assignment=assignment, answers=phq9(), via="api", actor=oscar, now=NOW)
    assert not Response.objects.exists()


def test_the_portal_needs_a_login(assignment: Assignment) -> None:
    with pytest.raises(PermissionDenied):
        answering.response_submit(assignment=assignment, answers=phq9(), via="portal", now=NOW)
