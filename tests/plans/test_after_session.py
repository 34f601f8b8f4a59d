"""After-session measures (the alliance): due when the session ends, open until the next session
starts or six days, none after a missed session; the default plan asks for the WAI-SR after every
session once the practice has accepted its terms, and plan_apply assigns it when the session ends."""

from __future__ import annotations

import datetime as dt

import pytest

from spacebetween.accounts.models import User
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Attendance, Episode, Session
from spacebetween.core import schedule
from spacebetween.core.schedule import PlanRow, Reason, SessionSlot, When
from spacebetween.measures import services as measures
from spacebetween.measures.models import PlannedMeasure
from spacebetween.measures.selectors import (
    DEFAULT_PLAN,
    licensed_pack,
    pack_terms_digest,
    plan_lines,
    practice_plan_rows,
)
from spacebetween.plans import services as plans

UTC = dt.UTC
TZ = "Europe/London"
MON = dt.datetime(2026, 9, 7, 17, 0, tzinfo=UTC)  # 18:00 BST
WAI = PlanRow("wai-sr", When.AFTER_EVERY_SESSION)


def _planned(*slots: SessionSlot, ended_on: dt.date | None = None) -> list[schedule.Due]:
    return schedule.planned(
        rows=[WAI], started_on=dt.date(2026, 9, 1), ended_on=ended_on, sessions=slots, time_zone=TZ
    )


def test_due_when_the_session_ends_and_open_until_the_next_starts() -> None:
    first = SessionSlot("1", MON, ends_at=MON + dt.timedelta(minutes=50))
    second = SessionSlot("2", MON + dt.timedelta(days=3))
    dues = _planned(first, second)
    assert [(d.reason, d.occasion) for d in dues] == [
        (Reason.AFTER_SESSION, "1"),
        (Reason.AFTER_SESSION, "2"),
    ]
    assert (dues[0].due_at, dues[0].expires_at) == (MON + dt.timedelta(minutes=50), second.starts_at)
    # The last one: its default length (50 minutes), open for six days.
    assert dues[1].due_at == second.starts_at + schedule.DEFAULT_SESSION_LENGTH
    assert dues[1].expires_at == dues[1].due_at + schedule.AFTER_SESSION_OPEN


def test_a_long_gap_closes_it_after_six_days() -> None:
    first = SessionSlot("1", MON, ends_at=MON + dt.timedelta(minutes=50))
    later = SessionSlot("2", MON + dt.timedelta(days=21))
    [due, _] = _planned(first, later)
    assert due.expires_at == first.end + dt.timedelta(days=6)


def test_nothing_after_a_missed_session_or_once_the_episode_ended() -> None:
    missed = SessionSlot("1", MON, missed=True)
    assert _planned(missed) == []
    assert _planned(SessionSlot("2", MON), ended_on=dt.date(2026, 9, 30)) == []


def test_not_due_before_the_session_ends() -> None:
    slot = SessionSlot("1", MON, ends_at=MON + dt.timedelta(minutes=50))
    common = {
        "rows": [WAI],
        "started_on": dt.date(2026, 9, 1),
        "ended_on": None,
        "sessions": [slot],
        "existing": set(),
        "time_zone": TZ,
    }
    assert schedule.due_now(now=MON + dt.timedelta(minutes=49), **common) == []  # type: ignore[arg-type]
    [due] = schedule.due_now(now=MON + dt.timedelta(minutes=50), **common)  # type: ignore[arg-type]
    assert due.key == schedule.Key("wai-sr", Reason.AFTER_SESSION, "1")


def test_the_plan_reads_after_every_session() -> None:
    [line] = plan_lines([WAI], {"wai-sr": "WAI-SR"})
    assert line.occasions == "after every session"


@pytest.mark.django_db
def test_the_default_plan_has_the_alliance_only_where_the_wai_sr_is_on(admin: User) -> None:
    assert practice_plan_rows(admin.practice) == sorted(DEFAULT_PLAN)
    measures.licensed_pack_accept(actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True)
    assert practice_plan_rows(admin.practice) == sorted([*DEFAULT_PLAN, WAI])


@pytest.mark.django_db
def test_plan_apply_asks_for_the_alliance_when_the_session_ends(
    admin: User, alice: User, episode: Episode
) -> None:
    measures.licensed_pack_accept(actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True)
    session = clinical.session_create(actor=alice, episode=episode, starts_at=MON, duration_minutes=50)
    wai = PlannedMeasure.objects.filter(instrument_id="wai-sr")
    plans.plan_apply(now=MON + dt.timedelta(minutes=30))
    assert not wai.exists()
    plans.plan_apply(now=MON + dt.timedelta(minutes=51))
    planned = wai.get()
    assert (planned.reason, planned.occasion) == ("after_session", str(session.pk))
    assert planned.assignment.due_at == MON + dt.timedelta(minutes=50)
    assert planned.assignment.session_id == session.pk
    plans.plan_apply(now=MON + dt.timedelta(minutes=52))
    assert wai.count() == 1


@pytest.mark.django_db
def test_plan_apply_asks_nothing_after_a_missed_session(admin: User, alice: User, episode: Episode) -> None:
    measures.licensed_pack_accept(actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True)
    clinical.session_create(actor=alice, episode=episode, starts_at=MON, attendance=Attendance.DID_NOT_ATTEND)
    plans.plan_apply(now=MON + dt.timedelta(hours=2))
    assert not PlannedMeasure.objects.filter(instrument_id="wai-sr").exists()
    assert Session.objects.count() == 1
