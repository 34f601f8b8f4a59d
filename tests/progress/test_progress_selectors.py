"""What the client's own progress view reads, and practice per week beside the measures."""

from __future__ import annotations

import datetime as dt

import pytest

from spacebetween.accounts.models import User
from spacebetween.clients.models import Episode, Session
from spacebetween.core.weekly import per_week, week_start
from spacebetween.exercises import services as exercises
from spacebetween.formulation import services as formulation
from spacebetween.progress import selectors, services
from tests.conftest import FakeClock
from tests.exercises.conftest import THOUGHT_RECORD, assign
from tests.progress.conftest import phq9, phq9_answers

OCT = dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC)  # a Monday


def test_per_week_counts_each_monday_to_sunday_and_fills_empty_weeks() -> None:
    days = [dt.date(2026, 10, 5), dt.date(2026, 10, 11), dt.date(2026, 10, 12), dt.date(2026, 9, 1)]
    assert week_start(dt.date(2026, 10, 11)) == dt.date(2026, 10, 5)
    assert per_week(days, last_day=dt.date(2026, 10, 14), weeks=3) == [
        (dt.date(2026, 9, 28), 0),
        (dt.date(2026, 10, 5), 2),  # Monday and the Sunday after it
        (dt.date(2026, 10, 12), 1),
    ]
    with pytest.raises(ValueError, match="weeks"):
        per_week(days, last_day=dt.date(2026, 10, 14), weeks=0)


def test_the_answers_helper_gives_the_total_asked_for() -> None:
    assert sum(phq9_answers(18).values()) == 18
    assert phq9_answers(24)["phq9_9"] == 0


@pytest.mark.django_db
def test_the_client_reads_their_own_scores_over_time_oldest_first(
    alice: User, carol_user: User, episode: Episode
) -> None:
    first = phq9(alice, episode, 18, OCT)
    later = phq9(alice, episode, 9, OCT + dt.timedelta(weeks=6))
    progress = selectors.own_progress(carol_user, now=OCT + dt.timedelta(weeks=7))
    assert progress.shown and progress.client is not None
    [measure] = progress.measures
    assert (measure.plain.short, measure.plain.name) == ("PHQ-9", "Your mood questionnaire")
    assert [(p.response_id, p.score) for p in measure.points] == [(first.pk, "18"), (later.pk, "9")]
    assert (measure.first.score, measure.latest.score) == ("18", "9")
    assert ("Response", first.pk) in [(str(e), pk) for e, pk in progress.read]


@pytest.mark.django_db
def test_nothing_is_read_when_the_therapist_has_turned_it_off(
    alice: User, carol_user: User, client_record, episode: Episode
) -> None:
    phq9(alice, episode, 18, OCT)
    services.progress_view_set(actor=alice, client=client_record, shown=False)
    progress = selectors.own_progress(carol_user, now=OCT)
    assert progress.client == client_record
    assert not progress.shown
    assert (
        progress.measures == [] and progress.goals == [] and progress.read == [("Client", client_record.pk)]
    )


@pytest.mark.django_db
def test_a_clinician_gets_no_client_view(alice: User, episode: Episode) -> None:
    phq9(alice, episode, 18, OCT)
    assert selectors.own_progress(alice).client is None
    assert selectors.own_progress(alice).measures == []


@pytest.mark.django_db
def test_dave_sees_only_his_own(alice: User, episode: Episode, dave_assignment) -> None:
    phq9(alice, episode, 18, OCT)  # Carol's
    dave = dave_assignment.episode.client.portal_user
    phq9(alice, dave_assignment.episode, 5, OCT)
    progress = selectors.own_progress(dave, now=OCT)
    assert [p.score for m in progress.measures for p in m.points] == ["5"]


@pytest.mark.django_db
def test_goals_in_the_clients_words_with_first_and_latest_rating(
    alice: User, carol_user: User, episode: Episode, held: list[Session]
) -> None:
    goal = formulation.goal_add(actor=alice, episode=episode, text="Sleep through the night")
    unrated = formulation.goal_add(actor=alice, episode=episode, text="Call my sister")
    formulation.goal_rate(actor=alice, goal=goal, session=held[2], score=7)
    formulation.goal_rate(actor=alice, goal=goal, session=held[0], score=2)
    views = selectors.own_progress(carol_user).goals
    assert [v.goal.text for v in views] == ["Sleep through the night", "Call my sister"]
    first, latest = views[0].first, views[0].latest
    assert first is not None and latest is not None
    assert (first.score, latest.score) == (2, 7)
    assert views[1].goal.pk == unrated.pk and views[1].latest is None


@pytest.mark.django_db
def test_practice_per_week_for_the_client_page(
    alice: User, bob: User, carol_user: User, episode: Episode, clock: FakeClock
) -> None:
    clock.set(OCT)
    assert selectors.practice_per_week(alice, episode) is None  # nothing set yet
    assignment = assign(alice, episode, OCT.date())
    for day in (0, 1, 8):
        clock.set(OCT + dt.timedelta(days=day))
        exercises.entry_record(
            actor=carol_user, assignment=assignment, answers=THOUGHT_RECORD, private=day == 1
        )
    weeks = selectors.practice_per_week(alice, episode)
    assert weeks is not None
    assert weeks.weeks[-2:] == [(dt.date(2026, 10, 5), 2), (dt.date(2026, 10, 12), 1)]
    assert len(weeks.weeks) == selectors.PRACTICE_WEEKS and weeks.total == 3
    assert selectors.practice_per_week(bob, episode) is None  # not bob's to read
    own = selectors.own_progress(carol_user)
    assert own.practice is not None and own.practice.total == 3
    assert [row.assignment.pk for row in own.exercises] == [assignment.pk]
