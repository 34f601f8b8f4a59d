"""Goal-based outcomes (GBOs; Law & Jacob 2015, Law 2019): the client's own goals, each rated 0-10
(0 = no progress toward the goal, 10 = reached) at sessions the client and therapist choose. The
outcome is simply the movement along the scale: latest rating minus first (docs/formulation.md).

A threshold for "reliable" change on a GBO is not asserted here: the figure often quoted is not yet
verified against its source in this project's research notes, so callers show the raw change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

GOAL_MIN = 0
GOAL_MAX = 10
MAX_ACTIVE_GOALS = 3  # Law & Jacob (2015): up to three goals at a time


class GoalRatingError(ValueError):
    pass


def check_rating(score: object) -> int:
    """A whole number from 0 to 10, else GoalRatingError."""
    if isinstance(score, bool) or not isinstance(score, int) or not GOAL_MIN <= score <= GOAL_MAX:
        raise GoalRatingError(f"A goal rating is a whole number from {GOAL_MIN} to {GOAL_MAX}.")
    return score


@dataclass(frozen=True)
class GoalChange:
    first_session: int
    first: int
    latest_session: int
    latest: int
    ratings: int  # how many sessions rated

    @property
    def change(self) -> int:
        """Latest minus first: positive is movement toward the goal."""
        return self.latest - self.first


def goal_change(ratings: Sequence[tuple[int, int]]) -> GoalChange | None:
    """(session number, rating) pairs, in any order, one per session -> the change from the first
    rated session to the latest; None with no rating. Refuses a rating out of range or a session
    rated twice."""
    if not ratings:
        return None
    ordered = sorted(ratings)
    sessions = [s for s, _ in ordered]
    if len(set(sessions)) != len(sessions):
        raise GoalRatingError("Each session has at most one rating of a goal.")
    for _, score in ordered:
        check_rating(score)
    (first_session, first), (latest_session, latest) = ordered[0], ordered[-1]
    return GoalChange(first_session, first, latest_session, latest, len(ordered))
