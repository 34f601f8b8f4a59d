"""Writes: versions are appended, never overwritten; goals and ratings are checked; a refusal writes
nothing (no row, no audit event but the denial)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Episode, Session
from spacebetween.formulation import selectors, services
from spacebetween.formulation.models import FormulationVersion, Goal, GoalRating
from tests.conftest import FakeClock

pytestmark = pytest.mark.django_db


def _revise(actor: User, episode: Episode, **fields: str) -> FormulationVersion:
    return services.formulation_revise(actor=actor, episode=episode, fields=fields, measures=["phq9"])


def test_each_revision_is_a_new_version_and_the_old_one_is_kept(alice: User, episode: Episode) -> None:
    first = _revise(alice, episode, ccrt_wish="To be looked after")
    second = _revise(alice, episode, ccrt_wish="To be close without being controlled", strengths="Humour")
    assert (first.number, second.number) == (1, 2)
    first.refresh_from_db()
    assert first.content["ccrt_wish"] == "To be looked after"
    found = selectors.comparison(episode, None, None)
    assert found is not None
    assert [r.field for r in found.rows if r.changed] == ["ccrt_wish", "strengths"]
    assert AuditEvent.objects.filter(entity_type="FormulationVersion", action="C").count() == 2


@pytest.mark.parametrize(
    ("fields", "measures"),
    [
        ({}, ["phq9"]),  # empty
        ({"ccrt_wish": "x" * 4001}, []),  # too long
        ({"diagnosis": "x"}, []),  # not a field
        ({"ccrt_wish": "ok"}, ["no-such-instrument"]),
    ],
)
def test_bad_revisions_change_nothing(
    alice: User, episode: Episode, fields: dict[str, str], measures: list[str]
) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        services.formulation_revise(actor=alice, episode=episode, fields=fields, measures=measures)
    assert not FormulationVersion.objects.exists()
    assert AuditEvent.objects.count() == before


def test_an_unchanged_revision_is_refused(alice: User, episode: Episode) -> None:
    _revise(alice, episode, ccrt_wish="Same")
    with pytest.raises(ValidationError, match="Nothing changed"):
        _revise(alice, episode, ccrt_wish="Same ")
    assert FormulationVersion.objects.count() == 1


def test_only_the_treating_therapist_writes(sam: User, bob: User, shared_episode: Episode) -> None:
    for actor in (sam, bob):
        with pytest.raises(PermissionDenied):
            _revise(actor, shared_episode, ccrt_wish="Not mine to write")
        with pytest.raises(PermissionDenied):
            services.goal_add(actor=actor, episode=shared_episode, text="Sleep better")
    assert not FormulationVersion.objects.exists() and not Goal.objects.exists()
    assert AuditEvent.objects.filter(event_type="access-denied").count() >= 4


def test_up_to_three_active_goals(alice: User, episode: Episode) -> None:
    goals = [services.goal_add(actor=alice, episode=episode, text=f"Goal {i}") for i in range(3)]
    with pytest.raises(ValidationError, match="up to 3"):
        services.goal_add(actor=alice, episode=episode, text="A fourth")
    services.goal_close(actor=alice, goal=goals[0])
    services.goal_add(actor=alice, episode=episode, text="A fourth, now there is room")
    assert Goal.objects.filter(closed_at__isnull=True).count() == 3
    with pytest.raises(ValidationError):
        services.goal_add(actor=alice, episode=episode, text="   ")


def test_ratings_chart_the_change_from_first_to_latest(
    alice: User, episode: Episode, held: list[Session]
) -> None:
    goal = services.goal_add(actor=alice, episode=episode, text="Say no to my mother without guilt")
    services.goal_rate(actor=alice, goal=goal, session=held[0], score=2)
    services.goal_rate(actor=alice, goal=goal, session=held[2], score=6)
    services.goal_rate(actor=alice, goal=goal, session=held[2], score=7)  # corrects, no second row
    assert GoalRating.objects.count() == 2
    [progress] = selectors.goal_progress(episode, selectors.held_sessions(episode))
    assert progress.points == [(1, 2), (3, 7)]
    assert progress.change is not None and progress.change.change == 5


@pytest.mark.parametrize("score", [-1, 11, "7", None])
def test_a_rating_out_of_range_changes_nothing(
    alice: User, episode: Episode, held: list[Session], score: object
) -> None:
    goal = services.goal_add(actor=alice, episode=episode, text="Sleep")
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        services.goal_rate(actor=alice, goal=goal, session=held[0], score=score)
    assert not GoalRating.objects.exists() and AuditEvent.objects.count() == before


def test_a_goal_is_rated_at_a_held_session_of_its_episode(
    alice: User, episode: Episode, held: list[Session], clock: FakeClock
) -> None:
    goal = services.goal_add(actor=alice, episode=episode, text="Sleep")
    clock.set(dt.datetime(2026, 9, 20, tzinfo=dt.UTC))
    with pytest.raises(ValidationError, match="taken place"):
        services.goal_rate(actor=alice, goal=goal, session=held[2], score=5)
    other = clinical.episode_open(
        actor=alice, client=episode.client, referral_reason="Later", started_on=dt.date(2026, 9, 2)
    )
    elsewhere = clinical.session_create(
        actor=alice, episode=other, starts_at=dt.datetime(2026, 9, 9, 10, 0, tzinfo=dt.UTC)
    )
    with pytest.raises(ValidationError, match="this episode"):
        services.goal_rate(actor=alice, goal=goal, session=elsewhere, score=5)
    services.goal_close(actor=alice, goal=goal)
    with pytest.raises(ValidationError, match="closed"):
        services.goal_rate(actor=alice, goal=goal, session=held[0], score=5)
    assert not GoalRating.objects.exists()
