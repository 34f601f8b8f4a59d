"""Scores written the way clients write them: an assignment, then answers through response_submit,
backdated so that each falls to the session the test means."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from spacebetween.accounts.models import User
from spacebetween.answering import services as answering
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Attendance, Episode

# Weekly sessions whose last one was three days ago, so that "overdue" means what the test says.
LAST_SESSION = dt.datetime.combine(dt.date.today() - dt.timedelta(days=3), dt.time(10, 0), tzinfo=dt.UTC)
# Item ids and values that make a total: (items, lowest value, highest value, items fixed at their lowest).
ITEMS = {
    "phq9": ([f"phq9_{i}" for i in range(1, 9)], 0, 3, {"phq9_9": 0}),  # item 9 (risk) never endorsed here
    "gad7": ([f"gad7_{i}" for i in range(1, 8)], 0, 3, {}),
    "wai-sr": ([f"waisr_{i}" for i in range(1, 13)], 1, 5, {}),
}


def answers_for(instrument_id: str, total: int) -> dict[str, int]:
    """Item answers whose sum is `total` (filled item by item, in order)."""
    items, low, high, fixed = ITEMS[instrument_id]
    left = total - low * len(items)
    assert 0 <= left <= (high - low) * len(items), f"{instrument_id} cannot total {total}"
    answers = dict(fixed)
    for item in items:
        step = min(high - low, left)
        answers[item] = low + step
        left -= step
    return answers


def session_start(k: int, of: int = 5) -> dt.datetime:
    """The start of session k of a course of `of` weekly sessions."""
    return LAST_SESSION - dt.timedelta(weeks=of - k)


@pytest.fixture
def course(alice: User) -> Callable[..., Episode]:
    """An episode of `alice` with attended weekly sessions and, per session k, the totals given:
    course(phq9=[16, 15, ...], gad7=[...]); symptom measures the evening before, alliance after."""

    def make(
        name: str = "Course", *, sessions: int | None = None, therapist: User | None = None, **totals: list
    ) -> Episode:
        actor = therapist or alice
        n = sessions or max(len(v) for v in totals.values())
        client = clinical.client_create(actor=actor, given_name=name, family_name="Client")
        episode = clinical.episode_open(
            actor=actor, client=client, referral_reason="Low mood", started_on=session_start(1, n).date()
        )
        for k in range(1, n + 1):
            clinical.session_create(
                actor=actor, episode=episode, starts_at=session_start(k, n), attendance=Attendance.ATTENDED
            )
        for instrument_id, series in totals.items():
            iid = instrument_id.replace("_", "-")
            for k, total in enumerate(series, start=1):
                if total is None:
                    continue
                offset = dt.timedelta(hours=8) if iid == "wai-sr" else -dt.timedelta(hours=14)
                when = session_start(k, n) + offset
                assignment = answering.assignment_create(
                    actor=actor,
                    episode=episode,
                    instrument_id=iid,
                    due_at=when - dt.timedelta(hours=1),
                    now=when,
                )
                answering.response_submit(
                    assignment=assignment, answers=answers_for(iid, total), via="link", now=when
                )
        return episode

    return make
