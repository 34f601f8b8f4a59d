"""Alliance ruptures and repairs on hand-built series whose answers are worked out by hand in each test.

The client measure is WAI-SR-like (12–60, higher = better alliance). The gap rule compares it only with a
therapist form on the same metric (the WAI-SR-T: the WAI-SR items in therapist wording, the same answer
scale and scoring); with the default 15 % of the range that is 7.2 points.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spacebetween.core.alliance import (
    AllianceEvent,
    AllianceEventKind,
    AllianceEvents,
    AllianceMetric,
    AllianceRules,
    RuptureReason,
    alliance_events,
    alliance_gap,
    metric_of,
    percent_of_range,
    shared_metric,
    why_not_shared,
)
from spacebetween.core.change import parameters_from_scale, reliable_change_points
from spacebetween.core.instruments import get

NAN = math.nan
LOW, HIGH = 12.0, 60.0
WAI_SR = Path(__file__).resolve().parents[2] / "spacebetween" / "instruments" / "licensed" / "wai-sr.json"
Event = tuple[int, int, str, str, float, float]
FIVE_POINT = (1.0, 2.0, 3.0, 4.0, 5.0)
WAI = AllianceMetric("WAI-SR points", LOW, HIGH, 12, FIVE_POINT, "sum", validated=True)
# The therapist wording of the same twelve items, answers and scoring.
WAI_T = AllianceMetric("WAI-SR-T points", LOW, HIGH, 12, FIVE_POINT, "sum", validated=True)
# Unlike measures: the project's own 0–10 session rating (not validated), and a therapist form on another
# answer scale (the WAI-S-T: 12 items answered 1–7, instruments.md §2.3).
SESSION_RATING = AllianceMetric(
    "session rating points", 0, 10, 4, tuple(float(v) for v in range(11)), "mean", validated=False
)
WAI_S_T = AllianceMetric(
    "WAI-S-T points", 12, 84, 12, tuple(float(v) for v in range(1, 8)), "sum", validated=True
)


def matrix(*rows: Sequence[float]) -> np.ndarray:
    width = max(len(r) for r in rows)
    return np.array([list(r) + [NAN] * (width - len(r)) for r in rows], dtype=np.float64)


def found(events: AllianceEvents) -> list[Event]:
    return [
        (int(r), int(n), str(k), str(why), float(v), float(b))
        for r, n, k, why, v, b in zip(
            events.row,
            events.session_number,
            events.kind,
            events.reason,
            events.value,
            events.baseline,
            strict=True,
        )
    ]


def run(
    *rows: Sequence[float], rules: AllianceRules, therapist: list[list[float]] | None = None
) -> list[Event]:
    return found(
        alliance_events(
            matrix(*rows),
            rules,
            therapist=None if therapist is None else matrix(*therapist),
            client_metric=WAI,
            therapist_metric=WAI_T,
            client_minimum=LOW,
            client_maximum=HIGH,
        )
    )


DROP8 = AllianceRules(drop_points=8.0)
# The drop rule out of the way, to test the others alone.
NO_DROP = AllianceRules(drop_points=100.0)


# --- drop from the client's own running baseline ------------------------------------------------------


def test_a_drop_beyond_the_threshold_below_the_running_baseline_is_a_rupture() -> None:
    # Baseline at session 4 = (50 + 52 + 54) / 3 = 52; 40 < 52 − 8 = 44.
    events = alliance_events(matrix([50, 52, 54, 40]), DROP8)
    assert found(events) == [(0, 4, "rupture", "drop", 40.0, 52.0)]
    assert events.threshold.tolist() == [44.0]


def test_a_drop_of_exactly_the_threshold_is_not_a_rupture() -> None:
    # 44 is not below 52 − 8 = 44: the rule is strict, "beyond" the reliable change.
    assert run([50, 52, 54, 44], rules=DROP8) == []


def test_the_baseline_needs_two_earlier_scores() -> None:
    # One earlier score is no baseline; two are: (50 + 52) / 2 = 51, and 30 < 43.
    assert run([50, 30], rules=DROP8) == []
    assert run([50, 52, 30], rules=DROP8) == [(0, 3, "rupture", "drop", 30.0, 51.0)]


def test_the_baseline_is_the_mean_of_the_last_window_scores() -> None:
    # Window 3 at session 5: (50 + 52 + 54) / 3 = 52 and 45 < 52 − 5. Window 4 would also hold the low
    # first score: (20 + 50 + 52 + 54) / 4 = 44, and 45 is not below 39.
    series = [20, 50, 52, 54, 45]
    assert run(series, rules=AllianceRules(drop_points=5.0)) == [(0, 5, "rupture", "drop", 45.0, 52.0)]
    assert run(series, rules=AllianceRules(drop_points=5.0, baseline_window=4)) == []


def test_missing_sessions_are_skipped_not_counted() -> None:
    # The baseline is the last three scores given, whatever sessions they came at: (50 + 52 + 54) / 3.
    assert run([50, NAN, 52, NAN, NAN, 54, 40], rules=DROP8) == [(0, 7, "rupture", "drop", 40.0, 52.0)]


def test_repair_is_a_later_score_back_at_the_baseline_before_the_rupture() -> None:
    # Rupture at 4 against 52. 42 and 51 stay below 52 and do not enter the baseline (had they, it would
    # be (52 + 54 + 40) / 3 = 48.7 at session 5 and 51 would count as a repair); 52 repairs.
    assert run([50, 52, 54, 40, 42, 51, 52], rules=DROP8) == [
        (0, 4, "rupture", "drop", 40.0, 52.0),
        (0, 7, "repair", "drop", 52.0, 52.0),
    ]


def test_no_repair_leaves_the_rupture_open() -> None:
    events = alliance_events(matrix([50, 52, 54, 40, 45, 50, 51.9], [50, 52, 54, 55]), DROP8)
    assert found(events) == [(0, 4, "rupture", "drop", 40.0, 52.0)]
    assert events.open_ruptures().tolist() == [0]


def test_two_ruptures_in_one_series() -> None:
    # Repair at 5 (52 ≥ 52) feeds the baseline again: (52 + 54 + 52) / 3 = 52.67 at session 6,
    # and 43 < 52.67 − 8 = 44.67.
    events = run([50, 52, 54, 40, 52, 43], rules=DROP8)
    assert events[:2] == [(0, 4, "rupture", "drop", 40.0, 52.0), (0, 5, "repair", "drop", 52.0, 52.0)]
    assert events[2][:5] == (0, 6, "rupture", "drop", 43.0)
    assert events[2][5] == pytest.approx(158 / 3)


# --- floor -------------------------------------------------------------------------------------------


def test_floor_only_needs_no_baseline_and_is_repaired_at_the_floor() -> None:
    rules = AllianceRules(drop_points=100.0, floor=36.0)
    assert run([40, 35, 37], rules=rules) == [
        (0, 2, "rupture", "floor", 35.0, 36.0),
        (0, 3, "repair", "floor", 37.0, 36.0),
    ]
    assert run([40, 36, 38], rules=rules) == []  # at the floor is not below it


def test_without_a_floor_a_low_series_is_no_rupture() -> None:
    assert run([20, 18, 16, 15], rules=DROP8) == []


def test_a_floor_rupture_is_repaired_at_the_clients_baseline_when_that_is_higher() -> None:
    # Baseline (50 + 48) / 2 = 49 at session 3: 35 is no drop of more than 20 but below the floor of 40.
    # 45 is above the floor yet below 49; 49 repairs.
    rules = AllianceRules(drop_points=20.0, floor=40.0)
    assert run([50, 48, 35, 45, 49], rules=rules) == [
        (0, 3, "rupture", "floor", 35.0, 49.0),
        (0, 5, "repair", "floor", 49.0, 49.0),
    ]


def test_a_drop_below_the_floor_is_reported_as_a_drop() -> None:
    assert run([50, 52, 54, 38], rules=AllianceRules(drop_points=8.0, floor=40.0)) == [
        (0, 4, "rupture", "drop", 38.0, 52.0)
    ]


# --- gap between the client's and the therapist's view -----------------------------------------------

CLIENT_48 = [48.0] * 6
SHARED: dict[str, Any] = {"client_metric": WAI, "therapist_metric": WAI_T}


def test_a_gap_widening_on_two_paired_sessions_is_a_rupture_and_its_return_a_repair() -> None:
    # Gaps 48 − therapist: 2, 1, 3 (reference (2 + 1 + 3) / 3 = 2), then 10 and 9.5: 8 and 7.5 away from
    # 2, ≥ 7.2 WAI-SR points (15 % of 48) on 2 sessions in a row → rupture at 5; 2 is back → repair at 6.
    events = alliance_events(matrix(CLIENT_48), DROP8, therapist=matrix([46, 47, 45, 38, 38.5, 46]), **SHARED)
    assert found(events) == [(0, 5, "rupture", "gap", 9.5, 2.0), (0, 6, "repair", "gap", 2.0, 2.0)]
    assert events.threshold.tolist() == pytest.approx([9.2, 9.2])


def test_the_gap_rule_is_in_the_shared_metrics_points() -> None:
    # 7.5 points away is apart with the default (7.2) but not with 20 % of 48 = 9.6 points.
    assert run(CLIENT_48, rules=DROP8, therapist=[[46, 47, 45, 38, 38.5, 46]])
    assert (
        run(
            CLIENT_48,
            rules=AllianceRules(drop_points=8.0, gap_points=20.0),
            therapist=[[46, 47, 45, 38, 38.5, 46]],
        )
        == []
    )


def test_one_session_apart_is_not_yet_a_gap_rupture() -> None:
    assert run(CLIENT_48, rules=DROP8, therapist=[[46, 47, 45, 38, 46, 47]]) == []


def test_the_client_falling_behind_the_therapist_is_a_gap_rupture_too() -> None:
    # Gaps 2, 2, 2 then −10, −10: 12 below the reference of 2; the edge is 2 − 7.2 = −5.2.
    events = alliance_events(matrix([48, 48, 48, 36, 36]), NO_DROP, therapist=matrix([46] * 5), **SHARED)
    assert found(events) == [(0, 5, "rupture", "gap", -10.0, 2.0)]
    assert events.threshold.tolist() == pytest.approx([-5.2])
    assert "the client's view has fallen behind the therapist's" in events.for_row(0)[0].explain("WAI-SR")


def test_a_session_without_a_therapist_rating_neither_counts_nor_breaks_the_run() -> None:
    assert run(CLIENT_48, rules=DROP8, therapist=[[46, 47, 45, 38, NAN, 38.5]]) == [
        (0, 6, "rupture", "gap", 9.5, 2.0)
    ]
    # A paired session back within 7.2 points does break it.
    assert run(CLIENT_48, rules=DROP8, therapist=[[46, 47, 45, 38, 46, 38.5]]) == []


def test_a_gap_that_swings_to_the_other_side_starts_a_new_run() -> None:
    # Deviations +8 (therapist 38), −12 (therapist 58), +8: never twice in a row on one side.
    assert run(CLIENT_48, rules=DROP8, therapist=[[46, 47, 45, 38, 58, 38]]) == []


def test_the_reference_gap_is_taken_from_paired_sessions_only() -> None:
    # No therapist rating at session 1: the reference is sessions 2–4, (1 + 3 + 2) / 3 = 2.
    assert run([48.0] * 7, rules=DROP8, therapist=[[NAN, 47, 45, 46, 38, 38.5, 46]]) == [
        (0, 6, "rupture", "gap", 9.5, 2.0),
        (0, 7, "repair", "gap", 2.0, 2.0),
    ]


def test_the_gap_rule_needs_therapist_ratings() -> None:
    # Without them the same client series has no events at all.
    assert run(CLIENT_48, rules=DROP8) == []


def test_therapist_ratings_without_both_metrics_are_refused() -> None:
    with pytest.raises(ValueError, match="client_metric and therapist_metric"):
        alliance_events(matrix(CLIENT_48), DROP8, therapist=matrix([46.0] * 6))
    with pytest.raises(ValueError, match="client_metric and therapist_metric"):
        alliance_events(matrix(CLIENT_48), DROP8, therapist=matrix([46.0] * 6), client_metric=WAI)


@pytest.mark.parametrize(
    ("therapist_metric", "why"),
    [
        (SESSION_RATING, "the therapist's measure is not a validated instrument"),
        (WAI_S_T, "the two forms differ in answer scale, range"),
    ],
)
def test_no_gap_and_no_gap_rupture_between_unlike_measures(
    therapist_metric: AllianceMetric, why: str
) -> None:
    # A session rating of 3/10 next to a WAI-SR of 48 would be a "gap" of 45 in no unit at all; the
    # same numbers in percent of each range (75 % and 30 %) would look like a wide gap. Refused, not drawn.
    assert why_not_shared(WAI, therapist_metric) == why
    assert not shared_metric(WAI, therapist_metric)
    with pytest.raises(ValueError, match=f"no gap between unlike measures: {why}"):
        alliance_events(
            matrix(CLIENT_48),
            DROP8,
            therapist=matrix([3.0] * 6),
            client_metric=WAI,
            therapist_metric=therapist_metric,
        )


def test_a_shared_metric_is_the_same_items_answers_scoring_and_range_on_validated_forms() -> None:
    assert why_not_shared(WAI, WAI_T) is None and shared_metric(WAI, WAI_T)
    fewer_items = AllianceMetric("SAI points", LOW, HIGH, 6, FIVE_POINT, "sum", validated=True)
    assert why_not_shared(WAI, fewer_items) == "the two forms differ in number of items"
    as_mean = AllianceMetric("WAI-SR-T points", 1, 5, 12, FIVE_POINT, "mean", validated=True)
    assert why_not_shared(WAI, as_mean) == "the two forms differ in scoring, range"
    unvalidated_client = AllianceMetric("WAI-SR points", LOW, HIGH, 12, FIVE_POINT, "sum", validated=False)
    assert why_not_shared(unvalidated_client, WAI_T) == "the client's measure is not a validated instrument"


def test_the_metric_of_the_shipped_wai_sr() -> None:
    metric = metric_of(get("wai-sr", include_licensed=True))
    assert metric == AllianceMetric("WAI-SR points", 12.0, 60.0, 12, FIVE_POINT, "sum", validated=True)
    assert metric.span == 48.0
    assert shared_metric(metric, WAI_T)


# --- many rows at once ---------------------------------------------------------------------------------


def test_rows_are_independent_all_at_once_or_one_by_one() -> None:
    rng = np.random.default_rng(5)
    client = np.round(rng.normal(46, 6, (300, 14))).clip(LOW, HIGH)
    client[rng.random(client.shape) < 0.25] = NAN
    therapist = np.round(rng.normal(44, 7, client.shape)).clip(LOW, HIGH)
    therapist[rng.random(client.shape) < 0.25] = NAN
    rules = AllianceRules(drop_points=6.0, floor=34.0, gap_points=12.0)
    together = alliance_events(client, rules, therapist=therapist, **SHARED)
    one_by_one: list[Event] = []
    for i in range(client.shape[0]):
        single = alliance_events(
            client[i : i + 1],
            rules,
            therapist=therapist[i : i + 1],
            **SHARED,
        )
        one_by_one += [(i, *event[1:]) for event in found(single)]
    assert found(together) == one_by_one
    assert {str(r) for r in together.reason} == {"drop", "floor", "gap"}  # every rule was exercised
    assert len(together) > 100


def test_an_empty_panel_has_no_events() -> None:
    assert len(alliance_events(np.empty((0, 5)), DROP8)) == 0
    assert len(alliance_events(np.empty((3, 0)), DROP8)) == 0


# --- explanations --------------------------------------------------------------------------------------


def test_explanations_give_the_numbers_and_the_rule() -> None:
    events = alliance_events(matrix([50, 52, 54, 40, 52]), DROP8).for_row(0)
    assert events[0].explain("WAI-SR", DROP8) == (
        "WAI-SR 40 at session 4 is more than 8 points below this client's own baseline of 52 (the mean of up "
        "to 3 earlier scores outside a rupture): possible rupture — explore. A repair is a later score back "
        "at 52 or above"
    )
    assert events[1].explain("WAI-SR") == (
        "WAI-SR 52 at session 5 is back at or above 52, this client's baseline before the rupture: repair"
    )
    floor = alliance_events(matrix([40, 35, 37]), AllianceRules(drop_points=100.0, floor=36.0)).for_row(0)
    assert floor[0].explain("WAI-SR").startswith("WAI-SR 35 at session 2 is below the practice's floor of 36")
    assert floor[1].explain("WAI-SR").endswith("36, the practice's floor: repair")


def test_a_gap_explanation_names_both_views_and_the_sessions() -> None:
    events = alliance_events(
        matrix(CLIENT_48), DROP8, therapist=matrix([46, 47, 45, 38, 38.5, 46]), **SHARED
    ).for_row(0)
    assert events[0] == AllianceEvent(
        0,
        5,
        AllianceEventKind.RUPTURE,
        RuptureReason.GAP,
        9.5,
        2.0,
        pytest.approx(9.2),  # type: ignore[arg-type]
    )
    assert events[0].explain("WAI-SR", DROP8) == (
        "At session 5 the gap on the WAI-SR (client minus therapist) is +9.5 points against a usual +2: "
        "the therapist's view has fallen behind the client's, by 7.2 points or more on 2 paired sessions in "
        "a row: possible rupture — explore"
    )
    assert "(client minus therapist, +2 points) is back within 7.2 points of its usual +2: repair" in events[
        1
    ].explain("WAI-SR")


# --- the drop threshold and the scales ------------------------------------------------------------------


def test_the_wai_sr_gives_no_reliable_change_so_the_caller_sets_the_drop() -> None:
    scale = json.loads(WAI_SR.read_text())["scoring"]["scales"][0]
    assert parameters_from_scale(scale).reliable_change_points() is None


def test_a_definition_with_sd_and_reliability_gives_the_drop_in_points() -> None:
    scale = {"direction": "higher_is_better", "reliable_change": {"sd": 8.0, "reliability": 0.8}}
    drop = parameters_from_scale(scale).reliable_change_points()
    assert drop == pytest.approx(1.96 * math.sqrt(2) * 8.0 * math.sqrt(1 - 0.8))
    assert drop == reliable_change_points(sd=8.0, reliability=0.8)
    assert AllianceRules(drop_points=drop).drop_points == drop


def test_percent_of_range() -> None:
    assert percent_of_range([12, 36, 60, NAN], LOW, HIGH).tolist()[:3] == [0.0, 50.0, 100.0]
    assert math.isnan(percent_of_range([NAN], LOW, HIGH)[0])
    with pytest.raises(ValueError, match=r"score 61 \(row 0, session 2\) is outside the range 12–60"):
        percent_of_range([40, 61], LOW, HIGH)
    with pytest.raises(ValueError, match="range"):
        percent_of_range([40], 60, 12)


def test_alliance_gap_is_client_minus_therapist() -> None:
    assert alliance_gap(np.array([[75.0, 50.0]]), np.array([[70.0, 60.0]])).tolist() == [[5.0, -10.0]]
    with pytest.raises(ValueError, match="differ in shape"):
        alliance_gap(np.zeros((1, 2)), np.zeros((1, 3)))


# --- bad input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"drop_points": 0.0}, "drop_points"),
        ({"drop_points": NAN}, "drop_points"),
        ({"drop_points": 8.0, "baseline_window": 1}, "baseline_window"),
        ({"drop_points": 8.0, "gap_points": 0.0}, "gap_points"),
        ({"drop_points": 8.0, "gap_sessions": 0}, "gap_sessions"),
        ({"drop_points": 8.0, "gap_reference_sessions": 0}, "gap_reference_sessions"),
        ({"drop_points": 8.0, "floor": math.inf}, "floor"),
    ],
)
def test_impossible_rules_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AllianceRules(**kwargs)  # type: ignore[arg-type]


def test_bad_panels_are_refused_with_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="series × sessions"):
        alliance_events(np.array([50.0, 52.0]), DROP8)
    with pytest.raises(ValueError, match="infinite"):
        alliance_events(matrix([50, math.inf]), DROP8)
    with pytest.raises(ValueError, match="score 70"):
        alliance_events(matrix([50, 70]), DROP8, client_minimum=LOW, client_maximum=HIGH)
    with pytest.raises(ValueError, match="both client_minimum and client_maximum"):
        alliance_events(matrix([50, 52]), DROP8, client_minimum=LOW)
    with pytest.raises(ValueError, match="therapist score 70"):
        alliance_events(matrix([50, 52]), DROP8, therapist=matrix([50, 70]), **SHARED)
    with pytest.raises(ValueError, match="differ in shape"):
        alliance_events(matrix([50, 52]), DROP8, therapist=matrix([50]), **SHARED)


def test_columnar_events_built_without_thresholds_read_as_nan() -> None:
    events = AllianceEvents(
        row=np.array([0], dtype=np.intp),
        session_number=np.array([4], dtype=np.int64),
        kind=np.array(["rupture"]),
        reason=np.array(["drop"]),
        value=np.array([40.0]),
        baseline=np.array([52.0]),
    )
    assert math.isnan(events.for_row(0)[0].threshold)
