"""When each questionnaire of a measurement plan falls due: plain Python, no framework.

A plan is a list of rows (instrument, when). From the rows, the episode's dates, its sessions and the
assignments that already exist, `due_now` returns the assignments that should exist now and do not.
Every occasion has a key (instrument, reason, occasion); an occasion whose key exists is never made
again, so running the computation twice creates nothing new.

Times are aware; local rules (09:00, two days before) are applied in the practice's time zone and
the results are returned in UTC.

Defaults, chosen for a weekly outpatient practice:
- before a session: due at the same local clock time two calendar days before it, expiring one day
  after it starts (a client who forgot can still answer the next day; the score then describes the
  week of that session). Across a change of the clocks that is 47 or 49 hours, not 48: the client
  is asked at the time of day they are used to.
- after a session (the alliance): due when the session ends (its start plus its length), open until
  the next session starts or for six days, whichever is first, so that an answer is always about the
  session just had (the rule the insights pages read alliance answers by, docs/insights.md). A
  session the client did not attend gets none. The WAI-SR (Hatcher & Gillaspy 2006, Psychother Res
  16:12-25; psychometrics in outpatients and inpatients, Munder et al. 2010, Clin Psychol Psychother
  17:231-239) rates the relationship with the therapist; rupture and repair are read from
  post-session alliance scores against the client's own running level (Stiles et al. 2004; Stevens
  et al. 2007; the project's research notes, mbc-anchors 5.6), hence after every session.
- intake: 09:00 local on the day the episode starts; open for 14 days.
- end of episode: 09:00 local on the day it ends; open for 14 days.
- follow-up after N months: 09:00 local on the date N months after the end date, the day clamped
  to the end of a shorter month (31 Aug + 6 months = 28 Feb); open for 28 days.
- reminders are not sent between 21:00 and 08:00 local; one due in that window waits until 08:00.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo


class When(StrEnum):
    INTAKE = "intake"
    EVERY_SESSION = "every_session"
    EVERY_NTH_SESSION = "every_nth_session"
    AFTER_EVERY_SESSION = "after_every_session"
    END_OF_EPISODE = "end_of_episode"
    FOLLOW_UP = "follow_up"


class Reason(StrEnum):
    """Why an assignment exists; with the instrument and the occasion, its key."""

    INTAKE = "intake"
    SESSION = "session"
    AFTER_SESSION = "after_session"
    END_OF_EPISODE = "end_of_episode"
    FOLLOW_UP = "follow_up"


# Durable change is judged months after the last session (PRODUCT.md, "change should last").
FOLLOW_UP_MONTHS = (3, 6, 12)
LOCAL_DUE_TIME = dt.time(9, 0)
BEFORE_SESSION_DAYS = 2
AFTER_SESSION_DAYS = 1
# An after-session measure stays open this long after the session ends, at most (weekly sessions).
AFTER_SESSION_OPEN = dt.timedelta(days=6)
# A session whose length is not known is taken to last this long (clients.Session's default).
DEFAULT_SESSION_LENGTH = dt.timedelta(minutes=50)
INTAKE_OPEN = dt.timedelta(days=14)
END_OPEN = dt.timedelta(days=14)
FOLLOW_UP_OPEN = dt.timedelta(days=28)
QUIET_FROM = dt.time(21, 0)
QUIET_UNTIL = dt.time(8, 0)

BAD_N = "every_nth_session needs n of at least 2"
BAD_MONTHS = "follow_up needs months of 3, 6 or 12"
STRAY_N = "only every_nth_session takes n"
STRAY_MONTHS = "only follow_up takes months"
NAIVE = "times must be aware"


@dataclass(frozen=True, order=True)
class PlanRow:
    instrument_id: str
    when: When
    n: int | None = None
    months: int | None = None

    def __post_init__(self) -> None:
        if self.when == When.EVERY_NTH_SESSION:
            if self.n is None or self.n < 2:
                raise ValueError(BAD_N)
        elif self.n is not None:
            raise ValueError(STRAY_N)
        if self.when == When.FOLLOW_UP:
            if self.months not in FOLLOW_UP_MONTHS:
                raise ValueError(BAD_MONTHS)
        elif self.months is not None:
            raise ValueError(STRAY_MONTHS)


@dataclass(frozen=True)
class SessionSlot:
    """A session that has not been cancelled; `key` is stable for the life of the session (its id).
    `ends_at`: when it ends (else `DEFAULT_SESSION_LENGTH` after it starts); `missed`: the client did
    not attend, so nothing is asked about it afterwards."""

    key: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None = None
    missed: bool = False

    @property
    def end(self) -> dt.datetime:
        return self.ends_at if self.ends_at is not None else self.starts_at + DEFAULT_SESSION_LENGTH


@dataclass(frozen=True, order=True)
class Key:
    instrument_id: str
    reason: Reason
    occasion: str  # the session key, the follow-up months, or "" for intake and end


@dataclass(frozen=True)
class Due:
    instrument_id: str
    reason: Reason
    occasion: str
    due_at: dt.datetime
    expires_at: dt.datetime

    @property
    def key(self) -> Key:
        return Key(self.instrument_id, self.reason, self.occasion)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the last day of a shorter month."""
    year, month0 = divmod(day.month - 1 + months, 12)
    year += day.year
    last = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(day.day, last))


def local_at(day: dt.date, at: dt.time, time_zone: str) -> dt.datetime:
    """`at` o'clock local on `day`, in UTC."""
    return dt.datetime.combine(day, at, tzinfo=ZoneInfo(time_zone)).astimezone(dt.UTC)


def _shift_local_days(when: dt.datetime, days: int, time_zone: str) -> dt.datetime:
    """The same local clock time `days` calendar days away (wall-clock, not elapsed, arithmetic)."""
    local = when.astimezone(ZoneInfo(time_zone))
    shifted = local.replace(tzinfo=None) + dt.timedelta(days=days)
    return shifted.replace(tzinfo=ZoneInfo(time_zone)).astimezone(dt.UTC)


def _aware(*times: dt.datetime) -> None:
    for when in times:
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError(NAIVE)


def planned(
    *,
    rows: Iterable[PlanRow],
    started_on: dt.date,
    ended_on: dt.date | None,
    sessions: Sequence[SessionSlot],
    time_zone: str,
) -> list[Due]:
    """Every occasion the plan asks for, past and future, one per key, in due order.

    Intake and session measures belong to an open episode; once it has ended only the end-of-episode
    and follow-up measures remain. Sessions are numbered in time order from 1; every n-th session
    means sessions 1, n+1, 2n+1, ... After every session: when each attended (or not yet marked)
    session ends, open until the next one starts or AFTER_SESSION_OPEN has passed."""
    _aware(*(s.starts_at for s in sessions), *(s.ends_at for s in sessions if s.ends_at is not None))
    ordered = sorted(sessions, key=lambda s: (s.starts_at, s.key))
    found: dict[Key, Due] = {}

    def add(due: Due) -> None:
        found.setdefault(due.key, due)

    for row in sorted(set(rows)):
        iid = row.instrument_id
        if ended_on is None and row.when == When.INTAKE:
            due_at = local_at(started_on, LOCAL_DUE_TIME, time_zone)
            add(Due(iid, Reason.INTAKE, "", due_at, due_at + INTAKE_OPEN))
        elif ended_on is None and row.when in (When.EVERY_SESSION, When.EVERY_NTH_SESSION):
            step = 1 if row.when == When.EVERY_SESSION else row.n or 1
            for number, slot in enumerate(ordered):
                if number % step == 0:
                    add(
                        Due(
                            iid,
                            Reason.SESSION,
                            slot.key,
                            _shift_local_days(slot.starts_at, -BEFORE_SESSION_DAYS, time_zone),
                            _shift_local_days(slot.starts_at, AFTER_SESSION_DAYS, time_zone),
                        )
                    )
        elif ended_on is None and row.when == When.AFTER_EVERY_SESSION:
            for slot, following in zip(ordered, [*ordered[1:], None], strict=True):
                if not slot.missed:
                    add(_after(iid, slot, following))
        elif ended_on is not None and row.when == When.END_OF_EPISODE:
            due_at = local_at(ended_on, LOCAL_DUE_TIME, time_zone)
            add(Due(iid, Reason.END_OF_EPISODE, "", due_at, due_at + END_OPEN))
        elif ended_on is not None and row.when == When.FOLLOW_UP and row.months is not None:
            due_at = local_at(add_months(ended_on, row.months), LOCAL_DUE_TIME, time_zone)
            add(Due(iid, Reason.FOLLOW_UP, str(row.months), due_at, due_at + FOLLOW_UP_OPEN))
    return sorted(found.values(), key=lambda d: (d.due_at, d.key))


def _after(instrument_id: str, slot: SessionSlot, following: SessionSlot | None) -> Due:
    due_at = slot.end
    expires_at = due_at + AFTER_SESSION_OPEN
    if following is not None and due_at < following.starts_at < expires_at:
        expires_at = following.starts_at
    return Due(instrument_id, Reason.AFTER_SESSION, slot.key, due_at, expires_at)


def due_now(
    *,
    rows: Iterable[PlanRow],
    started_on: dt.date,
    ended_on: dt.date | None,
    sessions: Sequence[SessionSlot],
    existing: Collection[Key],
    now: dt.datetime,
    time_zone: str,
) -> list[Due]:
    """The assignments that should exist now and do not: due (due_at <= now), still open
    (now < expires_at), and whose key is not in `existing`. An occasion missed entirely (the worker
    was down until after it expired) is not made late."""
    _aware(now)
    return [
        due
        for due in planned(
            rows=rows, started_on=started_on, ended_on=ended_on, sessions=sessions, time_zone=time_zone
        )
        if due.due_at <= now < due.expires_at and due.key not in existing
    ]


def reminder_at(when: dt.datetime, time_zone: str) -> dt.datetime:
    """`when`, or the next 08:00 local if `when` falls in the quiet hours (21:00 to 08:00 local)."""
    _aware(when)
    local = when.astimezone(ZoneInfo(time_zone))
    if local.time() >= QUIET_FROM:
        return local_at(local.date() + dt.timedelta(days=1), QUIET_UNTIL, time_zone)
    if local.time() < QUIET_UNTIL:
        return local_at(local.date(), QUIET_UNTIL, time_zone)
    return when.astimezone(dt.UTC)
