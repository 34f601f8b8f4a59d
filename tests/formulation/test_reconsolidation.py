"""Memory-reconsolidation work: the steps in order, the verification markers, the follow-ups computed
from the juxtaposition's date, the refusals, and the text encrypted at rest."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Episode
from spacebetween.core.reconsolidation import OrderError, add_months, check_step, follow_ups
from spacebetween.formulation import selectors, services
from spacebetween.formulation.models import MarkerCheck, ReconsolidationStep, ReconsolidationWork
from tests.conftest import FakeClock

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC)
SYMPTOM = "I freeze and go quiet whenever my partner raises their voice"
TRUTH = "If I speak up when someone is angry, I will be abandoned, like when Dad left"
YES = {"no_retrigger": "yes", "symptom_ceased": "yes", "effortless": "partly"}


def _work(actor: User, episode: Episode, **kwargs: object) -> ReconsolidationWork:
    return services.reconsolidation_start(
        actor=actor,
        episode=episode,
        symptom=SYMPTOM,
        emotional_truth=TRUTH,
        now=NOW,
        **kwargs,  # type: ignore[arg-type]
    )


def _step(
    actor: User, work: ReconsolidationWork, step: str, day: dt.date, text: str = "In her words"
) -> ReconsolidationStep:
    return services.reconsolidation_step_add(
        actor=actor, work=work, step=step, occurred_on=day, text=text, now=NOW
    )


def _to_juxtaposition(alice: User, episode: Episode) -> ReconsolidationWork:
    work = _work(alice, episode)
    _step(alice, work, "retrieval", dt.date(2026, 9, 8))
    _step(alice, work, "disconfirmation", dt.date(2026, 9, 15), "Her grandmother stayed when she shouted")
    _step(alice, work, "juxtaposition", dt.date(2026, 9, 22))
    return work


def test_core_order_and_month_arithmetic() -> None:
    with pytest.raises(OrderError, match="step B"):
        check_step("disconfirmation", [], dt.date(2026, 9, 1))
    with pytest.raises(OrderError, match="already recorded"):
        check_step("retrieval", [("retrieval", dt.date(2026, 9, 1))], dt.date(2026, 9, 2))
    check_step(
        "juxtaposition",
        [("disconfirmation", dt.date(2026, 9, 1)), ("juxtaposition", dt.date(2026, 9, 2))],
        dt.date(2026, 9, 3),
    )
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2026, 9, 22), 12) == dt.date(2027, 9, 22)
    due = follow_ups(dt.date(2026, 9, 22), dt.date(2027, 1, 10), {"3m"})
    assert [(f.occasion, f.due_on, f.status) for f in due] == [
        ("3m", dt.date(2026, 12, 22), "done"),
        ("6m", dt.date(2027, 3, 22), "upcoming"),
        ("12m", dt.date(2027, 9, 22), "upcoming"),
    ]
    assert [f.status for f in follow_ups(dt.date(2026, 9, 22), dt.date(2027, 1, 10), set())][0] == "due"
    assert [f.status for f in follow_ups(dt.date(2026, 9, 22), dt.date(2027, 1, 30), set())][0] == "overdue"


def test_the_workflow_in_order_to_its_markers(alice: User, episode: Episode, clock: FakeClock) -> None:
    work = _to_juxtaposition(alice, episode)
    _step(alice, work, "juxtaposition", dt.date(2026, 9, 29))  # the juxtaposition repeats
    services.marker_check_add(
        actor=alice,
        work=work,
        occasion="session",
        checked_on=dt.date(2026, 9, 30),
        results=YES,
        note="Calm",
        now=NOW,
    )
    clock.set(dt.datetime(2027, 1, 5, 12, 0, tzinfo=dt.UTC))
    view = selectors.reconsolidation_works(episode)[0]
    # counted from the latest juxtaposition, 29 September: the 3-month follow-up is due since 29 December
    assert [(f.due_on, f.status) for f in view.follow_ups][0] == (dt.date(2026, 12, 29), "due")
    services.marker_check_add(
        actor=alice, work=work, occasion="3m", checked_on=dt.date(2027, 1, 5), results=YES, now=clock.now
    )
    view = selectors.reconsolidation_works(episode)[0]
    assert view.follow_ups[0].status == "done" and view.next_step is None
    # step A is dated when it was written (here after the dated steps), the rest by their own dates
    assert [(e.letter, e.on) for e in view.events] == [
        ("B", dt.date(2026, 9, 8)),
        ("C", dt.date(2026, 9, 15)),
        ("D", dt.date(2026, 9, 22)),
        ("D", dt.date(2026, 9, 29)),
        ("E", dt.date(2026, 9, 30)),
        ("A", dt.date(2026, 10, 1)),
        ("E", dt.date(2027, 1, 5)),
    ]
    assert (
        AuditEvent.objects.filter(
            entity_type__in=["ReconsolidationWork", "ReconsolidationStep", "MarkerCheck"], action="C"
        ).count()
        == 7
    )


def test_steps_out_of_order_or_badly_dated_are_refused(alice: User, episode: Episode) -> None:
    work = _work(alice, episode)
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        _step(alice, work, "juxtaposition", dt.date(2026, 9, 8))
    assert "step" in refused.value.message_dict
    _step(alice, work, "retrieval", dt.date(2026, 9, 15))
    before = AuditEvent.objects.count()
    for step, day, field in [
        ("disconfirmation", dt.date(2026, 9, 8), "occurred_on"),  # before the retrieval
        ("disconfirmation", dt.date(2026, 10, 2), "occurred_on"),  # in the future
        ("disconfirmation", dt.date(2026, 8, 1), "occurred_on"),  # before the episode
        ("retrieval", dt.date(2026, 9, 16), "step"),  # once only
        ("reframing", dt.date(2026, 9, 16), "step"),  # not a step
    ]:
        with pytest.raises(ValidationError) as refused:
            _step(alice, work, step, day)
        assert field in refused.value.message_dict, (step, day)
    with pytest.raises(ValidationError) as refused:
        _step(alice, work, "disconfirmation", dt.date(2026, 9, 16), text="  ")
    assert "text" in refused.value.message_dict
    assert ReconsolidationStep.objects.count() == 1 and AuditEvent.objects.count() == before


def test_markers_need_a_juxtaposition_and_follow_ups_their_date(alice: User, episode: Episode) -> None:
    work = _work(alice, episode)
    with pytest.raises(ValidationError, match="after a juxtaposition"):
        services.marker_check_add(
            actor=alice, work=work, occasion="session", checked_on=dt.date(2026, 9, 30), results=YES, now=NOW
        )
    work = _to_juxtaposition(alice, episode)
    cases = [
        ({"occasion": "3m", "checked_on": dt.date(2026, 9, 30), "results": YES}, "checked_on"),  # too early
        ({"occasion": "session", "checked_on": dt.date(2026, 9, 20), "results": YES}, "checked_on"),
        ({"occasion": "weekly", "checked_on": dt.date(2026, 9, 30), "results": YES}, "occasion"),
        (
            {
                "occasion": "session",
                "checked_on": dt.date(2026, 9, 30),
                "results": {**YES, "effortless": "maybe"},
            },
            "effortless",
        ),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationError) as refused:
            services.marker_check_add(actor=alice, work=work, now=NOW, **kwargs)  # type: ignore[arg-type]
        assert field in refused.value.message_dict
    assert not MarkerCheck.objects.exists()


def test_bad_start_is_refused(alice: User, episode: Episode, bob: User) -> None:
    with pytest.raises(ValidationError) as refused:
        services.reconsolidation_start(actor=alice, episode=episode, symptom="", emotional_truth=TRUTH)
    assert "symptom" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        _work(alice, episode, measures=["no-such"])
    assert "measures" in refused.value.message_dict
    assert not ReconsolidationWork.objects.exists()
    _work(alice, episode, measures=["phq9"])  # the default plan's
    assert ReconsolidationWork.objects.get().measures == ["phq9"]


def test_a_colleague_or_supervisor_cannot_write(
    alice: User, bob: User, sam: User, shared_episode: Episode
) -> None:
    work = _to_juxtaposition(alice, shared_episode)
    for actor in (bob, sam):
        with pytest.raises(PermissionDenied):
            _work(actor, shared_episode)
        with pytest.raises(PermissionDenied):
            _step(actor, work, "juxtaposition", dt.date(2026, 9, 29))
        with pytest.raises(PermissionDenied):
            services.marker_check_add(
                actor=actor,
                work=work,
                occasion="session",
                checked_on=dt.date(2026, 9, 30),
                results=YES,
                now=NOW,
            )
    assert ReconsolidationWork.objects.count() == 1 and ReconsolidationStep.objects.count() == 3
    assert AuditEvent.objects.filter(event_type="access-denied").count() >= 6


def test_the_text_is_encrypted_at_rest(alice: User, episode: Episode) -> None:
    work = _to_juxtaposition(alice, episode)
    services.marker_check_add(
        actor=alice,
        work=work,
        occasion="session",
        checked_on=dt.date(2026, 9, 30),
        results=YES,
        note="No freeze at the argument",
        now=NOW,
    )
    version = services.formulation_revise(
        actor=alice, episode=episode, fields={"ccrt_wish": "To be held safely"}
    )
    goal = services.goal_add(actor=alice, episode=episode, text="Speak up at work")
    with connection.cursor() as cursor:
        raw = []
        for table in (
            "formulation_reconsolidationwork",
            "formulation_reconsolidationstep",
            "formulation_markercheck",
            "formulation_formulationversion",
            "formulation_goal",
        ):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            raw += [str(v) for row in cursor.fetchall() for v in row]
    blob = " ".join(raw)
    for text in ("freeze", "abandoned", "grandmother", "No freeze", "held safely", "Speak up"):
        assert text not in blob
    assert (
        work.symptom == SYMPTOM
        and version.content["ccrt_wish"] == "To be held safely"
        and goal.text == "Speak up at work"
    )
    assert ReconsolidationWork.objects.get().emotional_truth == TRUTH
