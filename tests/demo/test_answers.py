"""The demo's planned questionnaire answers, as plain data: scored by the instruments' own definitions,
timed by the session-mapping rule, and telling the demo client's story. No database."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from spacebetween.clients.models import Attendance, EndReason
from spacebetween.core import instruments as catalogue
from spacebetween.core.alliance import AllianceRules, alliance_events, drop_threshold
from spacebetween.core.scoring import score_response
from spacebetween.demo import answers
from spacebetween.demo.generator import DEMO_TIME_ZONE, CasePlan, demo_clock, plan_demo_cases

TODAY = dt.date(2026, 11, 23)
LONDON = ZoneInfo(DEMO_TIME_ZONE)
REGISTRY = catalogue.registry(include_licensed=True)


@pytest.fixture(scope="module")
def cases() -> list[CasePlan]:
    return plan_demo_cases(7, TODAY)


def _course(case: CasePlan) -> answers.CoursePlan:
    assert case.course is not None
    return case.course


def _totals(seed: int) -> list[list[tuple[str, int, float, str]]]:
    return [
        [
            (r.instrument_id, r.session_number, r.score, r.submitted_at.isoformat())
            for r in _course(c).responses
        ]
        for c in plan_demo_cases(seed, TODAY, history_completed=5)
    ]


def test_the_same_seed_gives_the_same_answers_and_another_seed_others() -> None:
    first = _totals(7)
    assert first == _totals(7)
    assert first != _totals(8)
    assert sum(len(c) for c in first) > 1000


def test_the_history_size_leaves_the_current_caseloads_as_they_are(cases: list[CasePlan]) -> None:
    small = plan_demo_cases(7, TODAY, history_completed=0)
    current = [c for c in cases if not c.is_history]
    assert not any(c.is_history for c in small)
    assert [(c.people[0].given_name, c.started_on, c.sessions) for c in small] == [
        (c.people[0].given_name, c.started_on, c.sessions) for c in current
    ]
    assert [_course(a).scores("phq9") for a in small] == [_course(b).scores("phq9") for b in current]


def test_every_planned_answer_scores_its_target_with_no_risk_answer(cases: list[CasePlan]) -> None:
    checked = 0
    for case in cases:
        for r in _course(case).responses:
            instrument = REGISTRY[r.instrument_id]
            scored = score_response(instrument, r.answers)
            assert scored.scales[instrument.scales[0].id].score == pytest.approx(r.score, abs=1e-9), r
            for scale_id, total in r.scale_sums.items():
                scale = next(s for s in instrument.scales if s.id == scale_id)
                expected = total / len(scale.items) if scale.method == "mean" else total
                assert scored.scales[scale_id].score == pytest.approx(expected, abs=1e-9)
            assert not any(scored.risk.values()), r
            assert all(v in instrument.item(item).values for item, v in r.answers.items())
            if r.instrument_id == "phq9":
                assert r.answers["phq9_9"] == 0  # "Not at all": the demo never raises a risk flag
            checked += 1
    assert checked > 4000


def test_an_unreachable_target_is_refused_by_name() -> None:
    # With item 9 held at 0 the PHQ-9 cannot total 27.
    with pytest.raises(ValueError, match=r"phq9.*27"):
        answers.answers_for("phq9", {"total": 27}, random.Random(1))
    assert answers.highest_sum("phq9") == 24


def test_a_negative_history_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        plan_demo_cases(7, TODAY, history_completed=-1)


def _starts(case: CasePlan) -> list[dt.datetime]:
    return [s.starts_at for s in case.attended()]


def test_answers_fall_to_their_session_by_the_mapping_rule(cases: list[CasePlan]) -> None:
    # Written out (docs/insights.md): a pre-session measure submitted after session k-1 started and
    # before session k starts counts as session k; an alliance measure submitted after session k
    # started and before session k+1 starts is about session k; follow-ups come after the end date.
    now = demo_clock(TODAY)
    for case in cases:
        starts = _starts(case)
        for r in _course(case).responses:
            assert r.due_at < r.submitted_at < min(r.expires_at, now), r
            k = r.session_number
            if k == 0:
                assert case.ended_on is not None
                assert r.submitted_at.astimezone(LONDON).date() > case.ended_on
                continue
            if r.instrument_id == answers.ALLIANCE_MEASURE:
                after, before = starts[k - 1], starts[k] if k < len(starts) else now
            else:
                after, before = starts[k - 2] if k > 1 else r.due_at, starts[k - 1]
            assert after < r.submitted_at < before, (r.instrument_id, k, r.submitted_at)
            if case.ended_on is not None:
                assert r.submitted_at.astimezone(LONDON).date() <= case.ended_on


def test_each_attended_session_has_its_measures(cases: list[CasePlan]) -> None:
    for case in cases:
        n = len(case.attended())
        by = Counter((r.instrument_id, r.session_number) for r in _course(case).responses)
        for k in range(1, n + 1):
            for instrument_id in (*answers.SYMPTOM_MEASURES, answers.ALLIANCE_MEASURE):
                assert by[(instrument_id, k)] == 1
            for instrument_id in answers.INGREDIENT_MEASURES:
                assert by[(instrument_id, k)] == (1 if k % 3 == 1 else 0)


def test_two_years_of_history_with_enough_completed_courses_to_fit(cases: list[CasePlan]) -> None:
    completed = [c for c in cases if c.end_reason == EndReason.COMPLETED]
    long_enough = [c for c in completed if len(_course(c).scores("phq9")) >= 6]
    assert len(long_enough) >= 50
    history = [c for c in cases if c.is_history]
    assert {c.therapist for c in history} == {"therapist", "colleague_1", "colleague_2"}
    assert all(c.ended_on is not None and c.ended_on < TODAY for c in history)
    assert min(c.started_on for c in history) >= TODAY - dt.timedelta(days=731)
    assert min(c.started_on for c in history) < TODAY - dt.timedelta(days=365)
    assert all(6 <= len(c.attended()) <= 20 for c in history if c.end_reason == EndReason.COMPLETED)
    assert {c.end_reason for c in history} == {
        EndReason.COMPLETED,
        EndReason.DROPPED_OUT,
        EndReason.REFERRED_ON,
    }
    follow_ups = [c for c in completed if any(r.session_number == 0 for r in _course(c).responses)]
    assert 0.3 * len(completed) <= len(follow_ups) <= 0.7 * len(completed)


def test_most_improve_and_a_few_get_worse(cases: list[CasePlan]) -> None:
    rci = 6  # PHQ-9 reliable change, NHS Talking Therapies Manual
    changes = [s[-1] - s[0] for c in cases if len(s := _course(c).scores("phq9")) >= 6]
    improved = sum(d <= -rci for d in changes) / len(changes)
    worse = sum(d >= rci for d in changes) / len(changes)
    assert improved > 0.4
    assert 0.01 <= worse <= 0.14  # 5-14% of clients worsen (mbc-anchors.md §3)
    intakes = [_course(c).scores("phq9")[0] for c in cases if _course(c).scores("phq9")]
    assert sum(10 <= x <= 22 for x in intakes) / len(intakes) > 0.75


def _demo_client(cases: list[CasePlan]) -> CasePlan:
    return next(c for c in cases if c.is_demo_client)


def test_the_demo_client_is_not_on_track(cases: list[CasePlan]) -> None:
    course = _course(_demo_client(cases))
    phq, gad = course.scores("phq9"), course.scores("gad7")
    assert phq[0] == 16 and phq[-1] in (19, 20) and phq[-1] - phq[0] >= 3
    assert max(gad) - min(gad) <= 4 and min(gad) >= 13  # flat and high


def test_the_demo_clients_alliance_ruptures_and_is_repaired(cases: list[CasePlan]) -> None:
    wai = _course(_demo_client(cases)).scores("wai-sr")

    def baseline(k: int) -> float:  # the mean of the 3 scores before session k (1-based)
        return sum(wai[k - 4 : k - 1]) / 3

    # Rupture: a score at least 8 points below the mean of the previous 3; repair: two sessions
    # later, back at or above that mean.
    ruptures = [k for k in range(4, len(wai) + 1) if baseline(k) - wai[k - 1] >= 8]
    assert len(ruptures) == 1 and ruptures[0] in (7, 8)
    k = ruptures[0]
    assert wai[k + 1] >= baseline(k)


def test_the_demo_therapists_ratings_dip_less_than_the_client(cases: list[CasePlan]) -> None:
    course = _course(_demo_client(cases))
    wai = course.scores("wai-sr")
    low, high = REGISTRY["wai-sr"].scales[0].range
    client = [100 * (w - low) / (high - low) for w in wai]
    therapist = [10 * sum(r.ratings.values()) / len(r.ratings) for r in course.reflections]
    k = min(range(len(wai)), key=lambda i: wai[i])  # the rupture session
    client_dip = sum(client[k - 3 : k]) / 3 - client[k]
    therapist_dip = sum(therapist[k - 3 : k]) / 3 - therapist[k]
    assert client_dip > therapist_dip + 5
    assert course.reflections[k].feelings and course.reflections[k].note


def test_only_the_demo_therapists_open_episodes_get_reflections(cases: list[CasePlan]) -> None:
    for case in cases:
        mine = case.therapist == "therapist" and case.ended_on is None
        reflections = _course(case).reflections
        assert [r.session_number for r in reflections] == (
            list(range(1, len(case.attended()) + 1)) if mine else []
        )
        for r in reflections:
            assert set(r.ratings) == {"bond", "goals", "tasks", "overall"}
            assert all(0 <= v <= 10 for v in r.ratings.values())
            assert (r.intensity is None) == (not r.feelings)


def test_no_other_open_episode_of_the_demo_therapist_is_off_track(cases: list[CasePlan]) -> None:
    # Reliable improvement by session 6 on both measures (6 points on the PHQ-9, 4 on the GAD-7), and
    # no alliance drop of the insights' default size (10% of the WAI-SR range: 4.8 points).
    others = [c for c in cases if c.therapist == "therapist" and c.ended_on is None and not c.is_demo_client]
    assert len(others) >= 5
    low, high = catalogue.get("wai-sr", include_licensed=True).scales[0].range  # type: ignore[union-attr]
    default_drop, _ = drop_threshold(chosen=None, chosen_by="", published=None, minimum=low, maximum=high)
    assert default_drop == pytest.approx(4.8)
    [story] = [c for c in cases if c.is_demo_client and c.ended_on is None]
    story_wai = np.array([_course(story).scores("wai-sr")], dtype=np.float64)
    assert len(alliance_events(story_wai, AllianceRules(drop_points=default_drop)))  # the rule can see one
    for case in others:
        course = _course(case)
        phq, gad = course.scores("phq9"), course.scores("gad7")
        if len(phq) >= 6:
            assert phq[-1] <= phq[0] - 6 and gad[-1] <= gad[0] - 4, case.people[0]
        assert phq[-1] <= phq[0] and gad[-1] <= gad[0]
        wai = np.array([course.scores("wai-sr")], dtype=np.float64)
        assert not len(alliance_events(wai, AllianceRules(drop_points=default_drop))), case.people[0]


def test_sessions_that_were_not_attended_have_no_answers(cases: list[CasePlan]) -> None:
    for case in cases:
        missed = [s for s in case.sessions if s.attendance != Attendance.ATTENDED]
        assert len(case.attended()) + len(missed) == len(case.sessions)
        assert max((r.session_number for r in _course(case).responses), default=0) == len(case.attended())
