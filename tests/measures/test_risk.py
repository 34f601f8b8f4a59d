"""Risk answers (PHQ-9 item 9 > 0 and the equivalents in the instrument files): a flag and the
treating therapist's notification in the same transaction as the response, never dropped; the
acknowledgement records who, when and what was done. Escalation until someone acts:
tests/safety/test_escalation.py; severity: tests/safety/test_severity.py.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from spacebetween.accounts.models import User
from spacebetween.answering import services as answering
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Episode
from spacebetween.core import instruments as catalogue
from spacebetween.core.instruments import Instrument, compare
from spacebetween.measures.models import Assignment, AssignmentStatus, Response
from spacebetween.notifications.models import OutboxMessage
from spacebetween.safety import escalation, risk
from spacebetween.safety.models import RiskFlag, RiskNotification, RiskNotificationKind, Severity
from spacebetween.safety.selectors import open_risk_flags_for

NOW = dt.datetime(2026, 9, 10, 9, 0, tzinfo=dt.UTC)
AFTER = dt.timedelta(minutes=escalation.DEFAULT_MINUTES[Severity.REVIEW])


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


@pytest.fixture
def flag(assignment: Assignment) -> RiskFlag:
    answering.response_submit(assignment=assignment, answers=phq9(item9=1), via="link", now=NOW)
    return RiskFlag.objects.get(assignment=assignment)


# ------------------------------------------------------------------------------ raising


def test_item_9_of_1_raises_exactly_one_flag_for_the_treating_therapist(
    assignment: Assignment, alice: User
) -> None:
    response = answering.response_submit(assignment=assignment, answers=phq9(item9=1), via="link", now=NOW)
    flag = RiskFlag.objects.get()
    assert (flag.response_id, flag.assignment_id, flag.episode_id) == (
        response.pk,
        assignment.pk,
        assignment.episode_id,
    )
    assert (flag.rule_id, flag.item_id, flag.answer_value, flag.raised_at) == ("phq9_9", "phq9_9", 1.0, NOW)
    assert flag.acknowledged_at is None
    notice = RiskNotification.objects.get()
    assert (notice.flag_id, notice.recipient_id, notice.kind) == (
        flag.pk,
        alice.pk,
        RiskNotificationKind.RAISED,
    )
    assert Response.objects.get().any_risk is True
    mail = OutboxMessage.objects.get()
    assert (mail.to_address, mail.subject, mail.body()) == (
        alice.email,
        escalation.SUBJECTS[Severity.REVIEW],  # item 9 = 1 is a review by default (safety.severity)
        escalation.BODY.format(urgency=Severity.REVIEW.label.lower()),
    )


def test_item_9_of_0_raises_no_flag(assignment: Assignment) -> None:
    response = answering.response_submit(assignment=assignment, answers=phq9(item9=0), via="link", now=NOW)
    assert not RiskFlag.objects.exists()
    assert not RiskNotification.objects.exists()
    assert response.any_risk is False


def test_raising_a_flag_is_audited(flag: RiskFlag) -> None:
    assert AuditEvent.objects.filter(
        entity_type="RiskFlag", entity_id=str(flag.pk), detail__startswith="raised"
    ).exists()
    assert AuditEvent.objects.filter(entity_type="RiskNotification", detail__startswith="raised").exists()


def _with_risk_rules() -> list[Instrument]:
    return [i for i in catalogue.registry().values() if i.risk_rules]


@pytest.mark.parametrize("instrument", _with_risk_rules(), ids=lambda i: i.id)
def test_every_risk_rule_in_the_instrument_files_raises_a_flag(
    instrument: Instrument, alice: User, episode: Episode
) -> None:
    """Each rule's lowest firing option, every other item at an option no rule fires on."""
    assignment = answering.assignment_create(
        actor=alice, episode=episode, instrument_id=instrument.id, due_at=NOW, now=NOW
    )
    rules = {r.item: r for r in instrument.risk_rules}
    answers: dict[str, int | float | None] = {}
    for item in instrument.items:
        rule = rules.get(item.id)
        if rule is None:
            answers[item.id] = item.values[0]
        else:
            answers[item.id] = min(
                v for v in item.values if compare(rule.operator, float(v), float(rule.value))
            )
    answering.response_submit(assignment=assignment, answers=answers, via="link", now=NOW)
    assert sorted(RiskFlag.objects.values_list("rule_id", flat=True)) == sorted(
        r.id for r in instrument.risk_rules
    )
    assert RiskNotification.objects.count() == len(instrument.risk_rules)


def test_a_failure_after_scoring_rolls_back_the_response_but_never_the_risk_flag(
    assignment: Assignment, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """safety.risk.screen runs first, in its own transaction: a risk answer is never dropped, not even
    when the response that carried it fails to be stored (docs/safety.md)."""
    real_record = answering.record

    def failing_record(**kw: object) -> object:
        if kw.get("entity_type") == "Response":  # the last write of the submission
            raise RuntimeError("disk full")
        return real_record(**kw)  # type: ignore[arg-type]

    monkeypatch.setattr(answering, "record", failing_record)
    with pytest.raises(RuntimeError):
        answering.response_submit(assignment=assignment, answers=phq9(item9=1), via="link", now=NOW)
    assert not Response.objects.exists()
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.DUE
    flag = RiskFlag.objects.get()
    assert (flag.response_id, flag.answer_value) == (None, 1.0)
    assert RiskNotification.objects.get().recipient_id == alice.pk
    assert OutboxMessage.objects.get().to_address == alice.email


def test_a_refused_response_still_records_its_risk_answer(assignment: Assignment, alice: User) -> None:
    with pytest.raises(answering.AnswersRefused) as exc:
        answering.response_submit(assignment=assignment, answers=phq9(item9=2, phq9_3=7), via="link", now=NOW)
    assert "phq9_3" in exc.value.message_dict
    assert not Response.objects.exists()
    flag = RiskFlag.objects.get()
    assert exc.value.risk_flags == [flag]
    assert (flag.response_id, flag.answer_value) == (None, 2.0)
    assert RiskNotification.objects.get().recipient_id == alice.pk


def test_a_risk_answer_beside_an_unknown_item_is_still_recorded(assignment: Assignment) -> None:
    with pytest.raises(answering.AnswersRefused):
        answering.response_submit(
            assignment=assignment, answers={**phq9(item9=3), "phq9_99": 1}, via="link", now=NOW
        )
    assert RiskFlag.objects.get().answer_value == 3.0


def test_a_risk_answer_with_a_missing_answer_is_still_recorded(assignment: Assignment) -> None:
    with pytest.raises(answering.AnswersRefused):
        answering.response_submit(
            assignment=assignment, answers=phq9(item9=1, phq9_2=None), via="link", now=NOW
        )
    assert RiskFlag.objects.count() == 1


def test_the_corrected_submission_keeps_the_one_flag(assignment: Assignment) -> None:
    with pytest.raises(answering.AnswersRefused):
        answering.response_submit(assignment=assignment, answers=phq9(item9=1, phq9_3=7), via="link", now=NOW)
    response = answering.response_submit(assignment=assignment, answers=phq9(item9=3), via="link", now=NOW)
    flag = RiskFlag.objects.get()
    assert (flag.response_id, flag.answer_value) == (response.pk, 3.0)
    assert RiskNotification.objects.count() == 1


# ------------------------------------------------------------------------------ acknowledging


def test_acknowledging_records_who_when_and_what_was_done(flag: RiskFlag, alice: User) -> None:
    at = NOW + dt.timedelta(hours=1)
    risk.flag_acknowledge(actor=alice, flag=flag, action_taken="Phoned; safety plan reviewed.", now=at)
    flag.refresh_from_db()
    assert (flag.acknowledged_by_id, flag.acknowledged_at, flag.action_taken) == (
        alice.pk,
        at,
        "Phoned; safety plan reviewed.",
    )


def test_acknowledging_is_audited(flag: RiskFlag, alice: User) -> None:
    risk.flag_acknowledge(actor=alice, flag=flag, action_taken="Phoned.", now=NOW)
    assert AuditEvent.objects.filter(
        entity_type="RiskFlag", entity_id=str(flag.pk), action="U", actor_id=alice.pk, detail="acknowledged"
    ).exists()


def test_acknowledging_needs_what_was_done(flag: RiskFlag, alice: User) -> None:
    with pytest.raises(ValidationError) as exc:
        risk.flag_acknowledge(actor=alice, flag=flag, action_taken="  ", now=NOW)
    assert exc.value.messages == [risk.ACTION_REQUIRED]
    flag.refresh_from_db()
    assert flag.acknowledged_at is None


def test_a_second_acknowledgement_is_refused(flag: RiskFlag, alice: User, sam: User) -> None:
    risk.flag_acknowledge(actor=alice, flag=flag, action_taken="Phoned.", now=NOW)
    with pytest.raises(ValidationError) as exc:
        risk.flag_acknowledge(actor=sam, flag=flag, action_taken="Also phoned.", now=NOW)
    assert exc.value.messages == [risk.ALREADY_ACKNOWLEDGED]
    flag.refresh_from_db()
    assert (flag.acknowledged_by_id, flag.action_taken) == (alice.pk, "Phoned.")


def test_the_supervisor_can_acknowledge(flag: RiskFlag, sam: User) -> None:
    risk.flag_acknowledge(actor=sam, flag=flag, action_taken="Covered for Alice.", now=NOW)
    flag.refresh_from_db()
    assert flag.acknowledged_by_id == sam.pk


def test_the_practice_admin_can_acknowledge(flag: RiskFlag, admin: User) -> None:
    risk.flag_acknowledge(actor=admin, flag=flag, action_taken="Passed to the duty clinician.", now=NOW)
    flag.refresh_from_db()
    assert flag.acknowledged_by_id == admin.pk


def test_a_colleague_cannot_acknowledge(flag: RiskFlag, bob: User) -> None:
    with pytest.raises(PermissionDenied):
        risk.flag_acknowledge(actor=bob, flag=flag, action_taken="Phoned.", now=NOW)
    flag.refresh_from_db()
    assert flag.acknowledged_at is None
    assert AuditEvent.objects.filter(
        event_type="access-denied", actor_id=bob.pk, entity_type="RiskFlag"
    ).exists()


def test_another_practice_cannot_acknowledge(flag: RiskFlag, oscar: User) -> None:
    with pytest.raises(PermissionDenied):
        risk.flag_acknowledge(actor=oscar, flag=flag, action_taken="Phoned.", now=NOW)
    flag.refresh_from_db()
    assert flag.acknowledged_at is None


def test_the_client_cannot_acknowledge(flag: RiskFlag, carol_user: User) -> None:
    with pytest.raises(PermissionDenied):
        risk.flag_acknowledge(actor=carol_user, flag=flag, action_taken="I am fine.", now=NOW)
    flag.refresh_from_db()
    assert flag.acknowledged_at is None


# ------------------------------------------------------------------------------ who sees open flags


def test_the_treating_therapist_sees_the_open_flag(flag: RiskFlag, alice: User) -> None:
    assert [f.pk for f in open_risk_flags_for(alice)] == [flag.pk]


def test_an_acknowledged_flag_is_no_longer_open(flag: RiskFlag, alice: User) -> None:
    risk.flag_acknowledge(actor=alice, flag=flag, action_taken="Phoned.", now=NOW)
    assert not open_risk_flags_for(alice).exists()


def test_a_colleague_does_not_see_the_flag(flag: RiskFlag, bob: User) -> None:
    assert not open_risk_flags_for(bob).exists()


def test_another_practice_does_not_see_the_flag(flag: RiskFlag, oscar: User) -> None:
    assert not open_risk_flags_for(oscar).exists()


def test_the_supervisor_sees_the_flag_once_it_is_escalated(flag: RiskFlag, sam: User) -> None:
    assert not open_risk_flags_for(sam).exists()
    escalation.escalate_due(now=NOW + AFTER)
    assert [f.pk for f in open_risk_flags_for(sam)] == [flag.pk]
