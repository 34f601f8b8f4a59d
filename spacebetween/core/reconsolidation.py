"""Memory-reconsolidation work: the steps in their order, the verification markers and the follow-ups.

Ecker, Ticic & Hulley (2012, *Unlocking the Emotional Brain*) describe the therapeutic reconsolidation
process: (A) identify the symptom and its emotional truth, the implicit learning that makes the symptom
necessary; (B) retrieve that target learning, felt and put into the client's words; (C) find knowledge
that vividly contradicts it; (D) the juxtaposition experience, the target learning and the
contradicting knowledge felt at once (repeated a few times); (E) verify. Change that comes from
erasing the learning (not from counteracting it) shows three markers (Ecker 2015; Lane et al. 2015 for
the neuroscience): the emotional reaction is no longer re-triggered by its former cues, the symptom
ceases, and the change lasts without effort. This module is framework-free: the order of the steps,
and when the follow-ups fall due.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

# The dated steps after the symptom and its emotional truth (step A), in the order they must happen.
RETRIEVAL = "retrieval"
DISCONFIRMATION = "disconfirmation"
JUXTAPOSITION = "juxtaposition"
STEPS: tuple[tuple[str, str, str], ...] = (
    # (id, letter, label)
    (RETRIEVAL, "B", "Retrieval: the target learning experienced and put into words"),
    (DISCONFIRMATION, "C", "Disconfirming knowledge found"),
    (JUXTAPOSITION, "D", "Juxtaposition experience"),
)
STEP_IDS = tuple(s for s, _, _ in STEPS)
STEP_LABELS = {s: label for s, _, label in STEPS}
REPEATABLE = frozenset({JUXTAPOSITION})  # the juxtaposition is repeated; the others happen once

# The three markers of transformational change (Ecker 2015), each checked as one of RESULTS.
MARKERS: tuple[tuple[str, str], ...] = (
    ("no_retrigger", "The emotional reaction is no longer re-triggered by its former cues"),
    ("symptom_ceased", "The symptom has ceased"),
    ("effortless", "The change persists without effort"),
)
MARKER_IDS = tuple(m for m, _ in MARKERS)
RESULTS: tuple[tuple[str, str], ...] = (
    ("yes", "Yes"),
    ("partly", "Partly"),
    ("no", "No"),
    ("not_checked", "Not checked"),
)
RESULT_IDS = tuple(r for r, _ in RESULTS)

# When the markers are checked: at a later session, and at 3, 6 and 12 months (the project's
# follow-up points, as in the measurement plans' follow-ups).
LATER_SESSION = "session"
FOLLOW_UP_MONTHS = (3, 6, 12)
OCCASIONS: tuple[tuple[str, str], ...] = (
    (LATER_SESSION, "At a later session"),
    *((f"{m}m", f"{m}-month follow-up") for m in FOLLOW_UP_MONTHS),
)
OCCASION_IDS = tuple(o for o, _ in OCCASIONS)
# A follow-up is "due" from its date for this long, then "overdue". A project choice, not the source's.
DUE_WINDOW = dt.timedelta(days=28)
# A follow-up check recorded up to this long before its date counts as that follow-up (sessions are
# booked around the date, not on it); earlier is refused. Also a project choice.
EARLY_WINDOW = dt.timedelta(days=14)


class OrderError(ValueError):
    """A step recorded out of its order."""


class DateOrderError(OrderError):
    """A step dated before the step it follows."""


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def check_step(step: str, done: Collection[tuple[str, dt.date]], on: dt.date) -> None:
    """Raise OrderError unless `step`, dated `on`, may follow the steps `done` ((step, date) pairs):
    each step needs the one before it, dated no later; only the juxtaposition repeats."""
    if step not in STEP_IDS:
        raise OrderError(f"{step!r} is not a step of the reconsolidation process.")
    index = STEP_IDS.index(step)
    kinds = {s for s, _ in done}
    if step in kinds and step not in REPEATABLE:
        raise OrderError(f"{STEP_LABELS[step]} is already recorded.")
    if index > 0:
        before = STEP_IDS[index - 1]
        if before not in kinds:
            raise OrderError(f"Record step {STEPS[index - 1][1]} ({STEP_LABELS[before]}) first.")
        earliest = max(d for s, d in done if s == before)
        if on < earliest:
            raise DateOrderError(
                f"This step cannot be dated before step {STEPS[index - 1][1]} ({earliest:%-d %b %Y})."
            )


@dataclass(frozen=True)
class FollowUp:
    occasion: str  # "3m", "6m", "12m"
    label: str
    due_on: dt.date
    status: str  # "done", "due", "overdue", "upcoming"


def follow_ups(juxtaposed_on: dt.date | None, today: dt.date, checked: Collection[str]) -> list[FollowUp]:
    """The 3/6/12-month follow-ups counted from the latest juxtaposition (the unlearning is complete
    only after its last repetition), each done (a check at that occasion exists), upcoming, due (from
    its date for DUE_WINDOW) or overdue. None before any juxtaposition."""
    if juxtaposed_on is None:
        return []
    result = []
    for (occasion, label), months in zip(OCCASIONS[1:], FOLLOW_UP_MONTHS, strict=True):
        due_on = add_months(juxtaposed_on, months)
        if occasion in checked:
            status = "done"
        elif today < due_on:
            status = "upcoming"
        elif today <= due_on + DUE_WINDOW:
            status = "due"
        else:
            status = "overdue"
        result.append(FollowUp(occasion, label, due_on, status))
    return result


def follow_up_due(juxtaposed_on: dt.date, occasion: str) -> dt.date:
    """When the follow-up `occasion` ("3m", "6m", "12m") falls due after the juxtaposition."""
    return add_months(juxtaposed_on, FOLLOW_UP_MONTHS[OCCASION_IDS.index(occasion) - 1])
