"""core.schedule: hand-built episodes, the London clock changes, month ends, and idempotence."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spacebetween.core.schedule import (
    FOLLOW_UP_MONTHS,
    Due,
    Key,
    PlanRow,
    Reason,
    SessionSlot,
    When,
    add_months,
    due_now,
    planned,
    reminder_at,
)

LONDON = "Europe/London"
UTC = dt.UTC


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=UTC)


def slot(key: str, when: dt.datetime) -> SessionSlot:
    return SessionSlot(key=key, starts_at=when)


# ------------------------------------------------------------------------------ plan rows


def test_a_plan_row_refuses_every_nth_without_n() -> None:
    with pytest.raises(ValueError, match="n of at least 2"):
        PlanRow("phq9", When.EVERY_NTH_SESSION)


def test_a_plan_row_refuses_a_follow_up_of_5_months() -> None:
    with pytest.raises(ValueError, match="3, 6 or 12"):
        PlanRow("phq9", When.FOLLOW_UP, months=5)


def test_a_plan_row_refuses_n_on_intake() -> None:
    with pytest.raises(ValueError, match="only every_nth_session"):
        PlanRow("phq9", When.INTAKE, n=3)


# ------------------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (dt.date(2026, 8, 31), 6, dt.date(2027, 2, 28)),
        (dt.date(2027, 8, 31), 6, dt.date(2028, 2, 29)),  # leap year
        (dt.date(2026, 11, 30), 3, dt.date(2027, 2, 28)),
        (dt.date(2026, 1, 31), 3, dt.date(2026, 4, 30)),
        (dt.date(2026, 10, 15), 12, dt.date(2027, 10, 15)),
        (dt.date(2026, 12, 31), 12, dt.date(2027, 12, 31)),
    ],
)
def test_months_later_is_clamped_to_the_end_of_a_shorter_month(
    start: dt.date, months: int, expected: dt.date
) -> None:
    assert add_months(start, months) == expected


def test_follow_ups_are_due_at_9_local_and_clamped_to_month_end() -> None:
    rows = [PlanRow("phq9", When.FOLLOW_UP, months=m) for m in FOLLOW_UP_MONTHS]
    dues = planned(
        rows=rows,
        started_on=dt.date(2026, 3, 1),
        ended_on=dt.date(2026, 8, 31),
        sessions=[],
        time_zone=LONDON,
    )
    assert [(d.occasion, d.due_at) for d in dues] == [
        ("3", at(2026, 11, 30, 9)),  # GMT in November
        ("6", at(2027, 2, 28, 9)),  # 31 Feb does not exist
        ("12", at(2027, 8, 31, 8)),  # 09:00 BST
    ]
    assert all(d.expires_at - d.due_at == dt.timedelta(days=28) for d in dues)


def test_follow_ups_are_due_at_9_local_in_another_time_zone() -> None:
    [due] = planned(
        rows=[PlanRow("phq9", When.FOLLOW_UP, months=3)],
        started_on=dt.date(2026, 1, 5),
        ended_on=dt.date(2026, 3, 31),
        sessions=[],
        time_zone="America/New_York",
    )
    assert due.due_at == at(2026, 6, 30, 13)  # 09:00 EDT


# ------------------------------------------------------------------------------ sessions and DST


def test_a_session_measure_is_due_two_days_before_and_expires_a_day_after() -> None:
    [due] = planned(
        rows=[PlanRow("core10", When.EVERY_SESSION)],
        started_on=dt.date(2026, 6, 1),
        ended_on=None,
        sessions=[slot("7", at(2026, 6, 10, 9))],  # 10:00 BST
        time_zone=LONDON,
    )
    assert due == Due("core10", Reason.SESSION, "7", at(2026, 6, 8, 9), at(2026, 6, 11, 9))


def test_across_the_spring_clock_change_it_keeps_the_local_time() -> None:
    # Clocks go forward on Sunday 29 March 2026; a 10:00 BST session on Monday 30 March.
    [due] = planned(
        rows=[PlanRow("phq9", When.EVERY_SESSION)],
        started_on=dt.date(2026, 3, 1),
        ended_on=None,
        sessions=[slot("1", at(2026, 3, 30, 9))],
        time_zone=LONDON,
    )
    assert due.due_at == at(2026, 3, 28, 10)  # 10:00 GMT on Saturday: 47 hours before
    assert due.expires_at == at(2026, 3, 31, 9)


def test_across_the_autumn_clock_change_it_keeps_the_local_time() -> None:
    # Clocks go back on Sunday 25 October 2026; a 10:00 GMT session on Monday 26 October.
    [due] = planned(
        rows=[PlanRow("phq9", When.EVERY_SESSION)],
        started_on=dt.date(2026, 9, 1),
        ended_on=None,
        sessions=[slot("1", at(2026, 10, 26, 10))],
        time_zone=LONDON,
    )
    assert due.due_at == at(2026, 10, 24, 9)  # 10:00 BST on Saturday: 49 hours before


def test_every_third_session_means_sessions_1_4_and_7() -> None:
    sessions = [slot(str(i), at(2026, 6, 1, 9) + dt.timedelta(weeks=i)) for i in range(1, 8)]
    dues = planned(
        rows=[PlanRow("wai-sr", When.EVERY_NTH_SESSION, n=3)],
        started_on=dt.date(2026, 6, 1),
        ended_on=None,
        sessions=list(reversed(sessions)),  # numbered by time, not by the order given
        time_zone=LONDON,
    )
    assert [d.occasion for d in dues] == ["1", "4", "7"]


def test_every_session_and_every_nth_of_one_instrument_ask_once_per_session() -> None:
    dues = planned(
        rows=[PlanRow("phq9", When.EVERY_SESSION), PlanRow("phq9", When.EVERY_NTH_SESSION, n=2)],
        started_on=dt.date(2026, 6, 1),
        ended_on=None,
        sessions=[slot("1", at(2026, 6, 10, 9)), slot("2", at(2026, 6, 17, 9))],
        time_zone=LONDON,
    )
    assert [d.occasion for d in dues] == ["1", "2"]


def test_an_ended_episode_asks_only_for_end_and_follow_ups() -> None:
    rows = [
        PlanRow("phq9", When.INTAKE),
        PlanRow("phq9", When.EVERY_SESSION),
        PlanRow("phq9", When.END_OF_EPISODE),
        PlanRow("phq9", When.FOLLOW_UP, months=3),
    ]
    dues = planned(
        rows=rows,
        started_on=dt.date(2026, 1, 5),
        ended_on=dt.date(2026, 4, 1),
        sessions=[slot("1", at(2026, 1, 12, 10))],
        time_zone=LONDON,
    )
    assert [d.reason for d in dues] == [Reason.END_OF_EPISODE, Reason.FOLLOW_UP]
    assert dues[0].due_at == at(2026, 4, 1, 8)  # 09:00 BST


def test_an_open_episode_asks_for_intake_at_9_local_on_its_first_day() -> None:
    [due] = planned(
        rows=[PlanRow("gad7", When.INTAKE), PlanRow("gad7", When.END_OF_EPISODE)],
        started_on=dt.date(2026, 1, 5),
        ended_on=None,
        sessions=[],
        time_zone=LONDON,
    )
    assert (due.reason, due.due_at, due.expires_at) == (Reason.INTAKE, at(2026, 1, 5, 9), at(2026, 1, 19, 9))


# ------------------------------------------------------------------------------ due now


def test_due_now_leaves_out_future_expired_and_existing_occasions() -> None:
    sessions = [
        slot("past", at(2026, 6, 1, 9)),  # expired 2 June
        slot("now", at(2026, 6, 10, 9)),  # due 8 June
        slot("made", at(2026, 6, 11, 9)),  # due 9 June, already exists
        slot("later", at(2026, 6, 20, 9)),  # due 18 June
    ]
    dues = due_now(
        rows=[PlanRow("phq9", When.EVERY_SESSION)],
        started_on=dt.date(2026, 5, 1),
        ended_on=None,
        sessions=sessions,
        existing={Key("phq9", Reason.SESSION, "made")},
        now=at(2026, 6, 9, 12),
        time_zone=LONDON,
    )
    assert [d.occasion for d in dues] == ["now"]


def test_due_now_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        due_now(
            rows=[],
            started_on=dt.date(2026, 1, 1),
            ended_on=None,
            sessions=[],
            existing=set(),
            now=dt.datetime(2026, 1, 1),
            time_zone=LONDON,
        )


# ------------------------------------------------------------------------------ quiet hours


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (at(2026, 6, 8, 9), at(2026, 6, 8, 9)),  # 10:00 BST: now
        (at(2026, 6, 8, 20, 30), at(2026, 6, 9, 7)),  # 21:30 BST: 08:00 BST next day
        (at(2026, 6, 8, 3), at(2026, 6, 8, 7)),  # 04:00 BST: 08:00 BST that day
        (at(2026, 1, 8, 7, 59), at(2026, 1, 8, 8)),  # 07:59 GMT: 08:00 GMT
        (at(2026, 3, 28, 22), at(2026, 3, 29, 7)),  # 22:00 GMT Sat; 08:00 BST Sun after the change
    ],
)
def test_reminders_wait_out_the_quiet_hours_in_local_time(when: dt.datetime, expected: dt.datetime) -> None:
    assert reminder_at(when, LONDON) == expected


# ------------------------------------------------------------------------------ idempotence

rows_strategy = st.lists(
    st.one_of(
        st.builds(PlanRow, st.sampled_from(["phq9", "gad7"]), st.sampled_from([When.INTAKE])),
        st.builds(PlanRow, st.sampled_from(["phq9", "gad7"]), st.sampled_from([When.EVERY_SESSION])),
        st.builds(PlanRow, st.just("phq9"), st.just(When.EVERY_NTH_SESSION), st.integers(2, 5)),
        st.builds(PlanRow, st.just("gad7"), st.just(When.END_OF_EPISODE)),
        st.builds(
            PlanRow, st.just("phq9"), st.just(When.FOLLOW_UP), st.none(), st.sampled_from(FOLLOW_UP_MONTHS)
        ),
    ),
    max_size=6,
)
moments = st.datetimes(
    min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2028, 12, 31), timezones=st.just(UTC)
)


@given(
    rows=rows_strategy,
    start=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2027, 12, 31)),
    length=st.one_of(st.none(), st.integers(0, 400)),
    session_times=st.lists(moments, max_size=8),
    now=moments,
    time_zone=st.sampled_from([LONDON, "America/New_York", "Australia/Sydney", "UTC"]),
)
def test_running_twice_creates_nothing_new(
    rows: list[PlanRow],
    start: dt.date,
    length: int | None,
    session_times: list[dt.datetime],
    now: dt.datetime,
    time_zone: str,
) -> None:
    sessions = [slot(str(i), t) for i, t in enumerate(session_times)]
    end = None if length is None else start + dt.timedelta(days=length)
    kw = {"rows": rows, "started_on": start, "ended_on": end, "sessions": sessions, "time_zone": time_zone}
    first = due_now(existing=set(), now=now, **kw)  # type: ignore[arg-type]
    keys = {d.key for d in first}
    assert len(keys) == len(first), "one assignment per key"
    assert all(d.due_at <= now < d.expires_at for d in first)
    assert due_now(existing=keys, now=now, **kw) == []  # type: ignore[arg-type]
