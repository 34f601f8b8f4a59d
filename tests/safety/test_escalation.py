"""Escalation until someone acts (safety.escalation, docs/safety.md): the treating therapist is told
when the flag is raised; while nobody acknowledges it, every interval the next person of the chain is
told (supervisor, each admin, the on-call address); then the flag is marked as having nobody left to
tell, loudly, and a person added later is still told. Every step audited, each once."""

from __future__ import annotations

import datetime as dt

import pytest

from spacebetween.accounts.models import Role, User
from spacebetween.accounts.services import staff_deactivate, user_create
from spacebetween.answering import services as answering
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Episode
from spacebetween.core import instruments as catalogue
from spacebetween.notifications.models import OutboxMessage
from spacebetween.safety import escalation, risk
from spacebetween.safety.escalation import DEFAULT_MINUTES, SUBJECTS, chain_for, escalate_due
from spacebetween.safety.models import EscalationPolicy, FlagSource, RiskFlag, RiskNotification, Severity
from spacebetween.safety.services import escalation_policy_save
from tests.conftest import signed_in
from tests.safety.conftest import RAISED, phq9

pytestmark = pytest.mark.django_db

REVIEW = dt.timedelta(minutes=DEFAULT_MINUTES[Severity.REVIEW])
URGENT = dt.timedelta(minutes=DEFAULT_MINUTES[Severity.URGENT])
ON_CALL = "duty@riverside.example.org"


def raise_flag(actor: User, episode: Episode, item9: int = 1, when: dt.datetime = RAISED) -> RiskFlag:
    assignment = answering.assignment_create(
        actor=actor, episode=episode, instrument_id="phq9", due_at=when, now=when
    )
    answering.response_submit(assignment=assignment, answers=phq9(item9), via="link", now=when)
    return RiskFlag.objects.get(assignment=assignment)


@pytest.fixture
def bobs_episode(bob: User) -> Episode:
    """Bob has no supervisor: his chain is Bob, then the practice admin."""
    client = clinical.client_create(actor=bob, given_name="Dan", family_name="Reed")
    return clinical.episode_open(
        actor=bob, client=client, referral_reason="Anxiety", started_on=dt.date(2026, 9, 1)
    )


@pytest.fixture
def on_call(admin: User) -> EscalationPolicy:
    return escalation_policy_save(
        actor=admin,
        urgent_minutes=DEFAULT_MINUTES[Severity.URGENT],
        review_minutes=DEFAULT_MINUTES[Severity.REVIEW],
        on_call_email=ON_CALL,
        now=RAISED,
    )


def told() -> list[tuple[int, str]]:
    """(step, whom) of every notice, in order: a user's e-mail, or the on-call address."""
    return [
        (n.step, n.recipient.email if n.recipient else n.to_address)
        for n in RiskNotification.objects.select_related("recipient").order_by("step")
    ]


# ------------------------------------------------------------------------------ the chain


def test_the_chain_is_therapist_supervisor_admins_then_on_call(
    flag: RiskFlag, alice: User, sam: User, admin: User, on_call: EscalationPolicy
) -> None:
    flag = RiskFlag.objects.select_related("episode__therapist__supervisor", "episode__client").get()
    assert [(to.user, to.address) for to in chain_for(flag)] == [
        (alice, alice.email),
        (sam, sam.email),
        (admin, admin.email),
        (None, ON_CALL),
    ]


def test_each_step_tells_the_next_person_at_the_interval(
    flag: RiskFlag, alice: User, sam: User, admin: User, on_call: EscalationPolicy
) -> None:
    assert flag.severity == Severity.REVIEW  # PHQ-9 item 9 = 1 (safety.severity.DEFAULTS)
    assert flag.next_escalation_at == RAISED + REVIEW
    for step, expected in enumerate((sam.email, admin.email, ON_CALL), start=1):
        due = RAISED + step * REVIEW
        assert escalate_due(now=due - dt.timedelta(microseconds=1)) == []
        [moved] = escalate_due(now=due)
        assert (moved.pk, moved.escalation_step, moved.escalated_at) == (flag.pk, step, due)
        assert told()[-1] == (step, expected)
        flag.refresh_from_db()
        assert flag.next_escalation_at == due + REVIEW
        assert flag.unreachable_at is None
    assert told() == [(0, alice.email), (1, sam.email), (2, admin.email), (3, ON_CALL)]
    assert list(OutboxMessage.objects.order_by("id").values_list("to_address", flat=True)) == [
        alice.email,
        sam.email,
        admin.email,
        ON_CALL,
    ]
    flag.refresh_from_db()
    assert flag.escalated_to_id is None  # the on-call address is nobody's account


def test_every_step_is_audited(flag: RiskFlag, sam: User) -> None:
    escalate_due(now=RAISED + REVIEW)
    assert AuditEvent.objects.filter(
        entity_type="RiskFlag", entity_id=str(flag.pk), detail=f"escalated step:1 to:user:{sam.pk}"
    ).exists()
    assert AuditEvent.objects.filter(entity_type="RiskNotification", detail="escalated step:1").exists()


def test_each_step_is_sent_once_when_workers_run_together(
    flag: RiskFlag, sam: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second worker takes the step between the first one's read and its claim: the first one's
    conditional UPDATE claims nothing, and sends nothing."""
    real_chain_for = escalation.chain_for
    raced: list[list[RiskFlag]] = []

    def chain_for_while_another_worker_runs(f: RiskFlag) -> list[escalation.Recipient]:
        if not raced:
            raced.append([])  # the other worker runs once, with the real chain
            raced[0] = escalate_due(now=RAISED + REVIEW)
        return real_chain_for(f)

    monkeypatch.setattr(escalation, "chain_for", chain_for_while_another_worker_runs)
    assert escalate_due(now=RAISED + REVIEW) == []
    assert [f.pk for f in raced[0]] == [flag.pk]
    assert RiskNotification.objects.filter(step=1).count() == 1
    assert OutboxMessage.objects.filter(to_address=sam.email).count() == 1


def test_running_again_at_the_same_time_does_nothing(flag: RiskFlag) -> None:
    escalate_due(now=RAISED + REVIEW)
    assert escalate_due(now=RAISED + REVIEW) == []
    assert RiskNotification.objects.filter(step=1).count() == 1


def test_an_acknowledged_flag_goes_no_further(flag: RiskFlag, alice: User, sam: User) -> None:
    risk.flag_acknowledge(actor=alice, flag=flag, action_taken="Phoned.", now=RAISED + REVIEW / 2)
    assert escalate_due(now=RAISED + 10 * REVIEW) == []
    escalate_due(now=RAISED + REVIEW)
    assert RiskNotification.objects.count() == 1


def test_acknowledged_after_a_step_it_stops_there(flag: RiskFlag, sam: User) -> None:
    escalate_due(now=RAISED + REVIEW)
    risk.flag_acknowledge(actor=sam, flag=flag, action_taken="Covered for Alice.", now=RAISED + REVIEW)
    assert escalate_due(now=RAISED + 10 * REVIEW) == []
    assert [step for step, _ in told()] == [0, 1]


def test_without_a_supervisor_it_goes_to_the_admin(bob: User, bobs_episode: Episode, admin: User) -> None:
    flag = raise_flag(bob, bobs_episode, item9=2)
    [moved] = escalate_due(now=RAISED + URGENT)
    assert moved.escalated_to_id == admin.pk
    assert told() == [(0, bob.email), (1, admin.email)]
    assert flag.pk == moved.pk


def test_a_supervisor_who_left_is_not_a_gap_in_the_chain(
    flag: RiskFlag, admin: User, sam: User, alice: User
) -> None:
    escalate_due(now=RAISED + REVIEW)  # Sam is told
    staff_deactivate(actor=admin, member=sam)
    escalate_due(now=RAISED + 2 * REVIEW)  # the admin is next, though the chain is one shorter now
    assert told() == [(0, alice.email), (1, sam.email), (2, admin.email)]
    flag.refresh_from_db()
    assert flag.unreachable_at is None


# ------------------------------------------------------------------------------ nobody left to tell


def test_nobody_left_is_marked_once_and_audited(bob: User, bobs_episode: Episode, admin: User) -> None:
    flag = raise_flag(bob, bobs_episode)
    escalate_due(now=RAISED + REVIEW)  # the admin
    assert escalate_due(now=RAISED + 2 * REVIEW) == []
    flag.refresh_from_db()
    assert flag.unreachable_at == RAISED + 2 * REVIEW
    assert flag.next_escalation_at == RAISED + 3 * REVIEW  # looked at again, in case someone is added
    escalate_due(now=RAISED + 3 * REVIEW)
    escalate_due(now=RAISED + 4 * REVIEW)
    flag.refresh_from_db()
    assert flag.unreachable_at == RAISED + 2 * REVIEW
    assert (
        AuditEvent.objects.filter(
            entity_type="RiskFlag", entity_id=str(flag.pk), detail__startswith="nobody-left-to-tell"
        ).count()
        == 1
    )
    assert RiskNotification.objects.count() == 2


def test_an_admin_added_later_is_told_at_the_next_interval(
    bob: User, bobs_episode: Episode, admin: User
) -> None:
    flag = raise_flag(bob, bobs_episode)
    escalate_due(now=RAISED + REVIEW)
    escalate_due(now=RAISED + 2 * REVIEW)
    later = user_create(
        practice=admin.practice,
        email="june@example.org",
        full_name="June",
        role=Role.ADMIN,
        password="x" * 20,
    )
    [moved] = escalate_due(now=RAISED + 3 * REVIEW)
    assert moved.escalated_to_id == later.pk
    flag.refresh_from_db()
    assert (flag.escalation_step, flag.unreachable_at) == (2, None)
    assert told()[-1] == (2, later.email)


def test_an_on_call_address_added_later_is_told(bob: User, bobs_episode: Episode, admin: User) -> None:
    raise_flag(bob, bobs_episode)
    escalate_due(now=RAISED + REVIEW)
    escalate_due(now=RAISED + 2 * REVIEW)
    escalation_policy_save(
        actor=admin, urgent_minutes=60, review_minutes=240, on_call_email=ON_CALL, now=RAISED
    )
    escalate_due(now=RAISED + 3 * REVIEW)
    assert told()[-1] == (2, ON_CALL)


def test_nobody_left_is_loud_on_the_caseload(bob: User, bobs_episode: Episode, admin: User) -> None:
    raise_flag(bob, bobs_episode)
    assert 'role="alert"' not in signed_in(bob).get("/caseload/").content.decode()
    escalate_due(now=RAISED + REVIEW)
    escalate_due(now=RAISED + 2 * REVIEW)
    body = signed_in(bob).get("/caseload/").content.decode()
    assert 'role="alert"' in body
    assert "Nobody has acted on 1 risk flag" in body and "Dan Reed" in body
    assert "Nobody left to tell" in body


def test_nobody_left_is_loud_on_the_admins_overview_without_client_names(
    bob: User, bobs_episode: Episode, admin: User
) -> None:
    raise_flag(bob, bobs_episode)
    escalate_due(now=RAISED + REVIEW)  # told the admin: they may see whose it is
    escalate_due(now=RAISED + 2 * REVIEW)
    body = signed_in(admin).get("/practice/").content.decode()
    assert 'role="alert"' in body and "1 risk flag with nobody left to tell" in body
    assert 'href="/practice/risk-settings/"' in body
    assert "Dan Reed" in body  # passed on to this admin
    # An admin who was never told sees that there is one and when, not whose.
    other = user_create(
        practice=admin.practice,
        email="june@example.org",
        full_name="June",
        role=Role.ADMIN,
        password="x" * 20,
    )
    body = signed_in(other).get("/practice/").content.decode()
    assert "1 risk flag with nobody left to tell" in body
    assert "Dan Reed" not in body and "/risk-flags/" not in body


def test_an_acknowledged_flag_is_no_longer_loud(bob: User, bobs_episode: Episode, admin: User) -> None:
    flag = raise_flag(bob, bobs_episode)
    escalate_due(now=RAISED + REVIEW)
    escalate_due(now=RAISED + 2 * REVIEW)
    risk.flag_acknowledge(actor=bob, flag=flag, action_taken="Phoned Dan.", now=RAISED + 2 * REVIEW)
    assert 'role="alert"' not in signed_in(admin).get("/practice/").content.decode()
    assert 'role="alert"' not in signed_in(bob).get("/caseload/").content.decode()


# ------------------------------------------------------------------------------ urgency


def test_urgent_and_review_flags_wait_their_own_interval(
    alice: User, episode: Episode, bob: User, bobs_episode: Episode, admin: User
) -> None:
    escalation_policy_save(actor=admin, urgent_minutes=15, review_minutes=600, on_call_email="", now=RAISED)
    urgent = raise_flag(alice, episode, item9=3)
    review = raise_flag(bob, bobs_episode, item9=1)
    assert (urgent.severity, review.severity) == (Severity.URGENT, Severity.REVIEW)
    assert urgent.next_escalation_at == RAISED + dt.timedelta(minutes=15)
    assert review.next_escalation_at == RAISED + dt.timedelta(minutes=600)
    assert [f.pk for f in escalate_due(now=RAISED + dt.timedelta(minutes=15))] == [urgent.pk]
    urgent.refresh_from_db()
    assert urgent.next_escalation_at == RAISED + dt.timedelta(minutes=30)


def test_without_a_policy_the_defaults_apply(alice: User, episode: Episode) -> None:
    assert (dt.timedelta(hours=1), dt.timedelta(hours=4)) == (URGENT, REVIEW)
    assert raise_flag(alice, episode, item9=2).next_escalation_at == RAISED + URGENT


def test_a_higher_answer_makes_the_flag_urgent_and_its_next_step_sooner(
    alice: User, episode: Episode
) -> None:
    assignment = answering.assignment_create(
        actor=alice, episode=episode, instrument_id="phq9", due_at=RAISED, now=RAISED
    )
    phq = catalogue.get("phq9")
    [flag] = risk.screen(
        assignment=assignment, instrument=phq, answers=phq9(1), source=FlagSource.DRAFT, now=RAISED
    )
    assert (flag.severity, flag.next_escalation_at) == (Severity.REVIEW, RAISED + REVIEW)
    later = RAISED + dt.timedelta(minutes=10)
    risk.screen(assignment=assignment, instrument=phq, answers=phq9(3), source=FlagSource.DRAFT, now=later)
    flag.refresh_from_db()
    assert (flag.severity, flag.next_escalation_at) == (Severity.URGENT, later + URGENT)
    # ... and a lower answer afterwards never makes it less urgent.
    risk.screen(assignment=assignment, instrument=phq, answers=phq9(1), source=FlagSource.DRAFT, now=later)
    flag.refresh_from_db()
    assert (flag.severity, flag.answer_value, flag.last_value) == (Severity.URGENT, 3.0, 1.0)


# ------------------------------------------------------------------------------ e-mail subjects


def test_the_subject_says_how_urgent_and_names_no_one(
    alice: User, episode: Episode, bob: User, bobs_episode: Episode, admin: User
) -> None:
    raise_flag(alice, episode, item9=2)
    raise_flag(bob, bobs_episode, item9=1)
    escalate_due(now=RAISED + REVIEW)  # both have waited long enough for their first step
    subjects = dict(OutboxMessage.objects.values_list("to_address", "subject").order_by("id")[:2])
    assert subjects == {
        alice.email: "Urgent: a client response needs review today",
        bob.email: "A client response needs review within one working day",
    }
    assert SUBJECTS[Severity.URGENT].startswith("Urgent")
    escalated = set(OutboxMessage.objects.filter(kind="risk-escalated").values_list("subject", flat=True))
    assert escalated == {
        "Not yet acknowledged - urgent: a client response needs review today",
        "Not yet acknowledged - a client response needs review within one working day",
    }
    for message in OutboxMessage.objects.all():
        text = message.subject + message.body()
        assert not any(name in text for name in ("Carol", "Dan", "Reed", "PHQ", "item"))
