"""The framework-free parts: goal change (GBO) and the comparison of two formulation versions."""

from __future__ import annotations

import pytest

from spacebetween.core.formulation import FIELD_IDS, changed_fields, compare
from spacebetween.core.goals import GoalRatingError, check_rating, goal_change


def test_goal_change_is_latest_minus_first_in_session_order() -> None:
    change = goal_change([(5, 7), (1, 2), (3, 4)])
    assert change is not None
    assert (change.first_session, change.first, change.latest_session, change.latest) == (1, 2, 5, 7)
    assert change.change == 5
    assert change.ratings == 3


def test_goal_change_can_be_negative_and_none_without_ratings() -> None:
    change = goal_change([(1, 6), (4, 3)])
    assert change is not None and change.change == -3
    assert goal_change([]) is None


@pytest.mark.parametrize("bad", [-1, 11, 2.5, True, "5", None])
def test_ratings_outside_zero_to_ten_are_refused(bad: object) -> None:
    with pytest.raises(GoalRatingError):
        check_rating(bad)
    with pytest.raises(GoalRatingError):
        goal_change([(1, 5), (2, bad)])  # type: ignore[list-item]


def test_one_rating_per_session() -> None:
    with pytest.raises(GoalRatingError):
        goal_change([(1, 5), (1, 6)])


def test_compare_marks_exactly_the_changed_fields() -> None:
    before = {"ccrt_wish": "To be close", "strengths": "Curious "}
    after = {"ccrt_wish": "To be close and not controlled", "strengths": "Curious"}
    rows = compare(before, after, before_measures=["phq9"], after_measures=["phq9", "gad7"])
    assert [r.field for r in rows if r.changed] == ["ccrt_wish", "measures"]
    assert len(rows) == len(FIELD_IDS) + 1
    wish = next(r for r in rows if r.field == "ccrt_wish")
    assert (wish.group, wish.label) == ("Core conflictual relationship theme", "Wish")
    assert changed_fields(before, before) == []
