"""The RFQ-8 on the client page: its two scales are distances from genuine mentalizing (Fonagy et al.
2016: high certainty leans toward hypermentalizing, high uncertainty toward hypomentalizing, low on both
is genuine mentalizing), so neither goes on the "higher is better" ingredients axis, and a rise in
certainty is never drawn or worded as improvement."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from spacebetween.core.instruments import get
from spacebetween.core.mentalizing import RFQ8_CERTAINTY, RFQ8_UNCERTAINTY, describe, deviation_scales
from spacebetween.insights.analysis import analyse_episode
from spacebetween.insights.models import InsightSettings
from spacebetween.insights.presenters import episode_view
from spacebetween.insights.series import EpisodeScores, ScorePoint

WHEN = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)


def _points(*pairs: tuple[int, float]) -> list[ScorePoint]:
    return [ScorePoint(s, v, WHEN + dt.timedelta(days=7 * s)) for s, v in pairs]


def _scores() -> EpisodeScores:
    # Certainty rises 0.5 -> 2.5 (toward hypermentalizing); uncertainty falls 2 -> 0.5.
    certainty = _points((1, 0.5), (2, 1.5), (3, 2.5))
    entry = EpisodeScores(
        episode=SimpleNamespace(pk=1),  # type: ignore[arg-type]
        attended=[WHEN + dt.timedelta(days=7 * k) for k in range(3)],
    )
    entry.series = {"rfq8": certainty, "scs-sf": _points((1, 2.5), (3, 3.0))}
    entry.scale_series = {
        ("rfq8", "certainty"): certainty,
        ("rfq8", "uncertainty"): _points((1, 2.0), (2, 1.0), (3, 0.5)),
    }
    return entry


def test_the_rfq_scales_are_deviations_with_their_poles() -> None:
    assert deviation_scales("rfq8") == (RFQ8_CERTAINTY, RFQ8_UNCERTAINTY)
    assert deviation_scales("scs-sf") == ()
    assert (RFQ8_CERTAINTY.pole, RFQ8_CERTAINTY.side) == ("hypermentalizing", 1)
    assert (RFQ8_UNCERTAINTY.pole, RFQ8_UNCERTAINTY.side) == ("hypomentalizing", -1)
    assert describe(RFQ8_CERTAINTY, 2.5) == "Certainty (RFQ_c) 2.5 of 3 from 0, toward hypermentalizing"
    assert "genuine mentalizing" in describe(RFQ8_UNCERTAINTY, 0)
    # Neither scale is "higher is better" in the shipped definition.
    assert {s.direction for s in get("rfq8").scales} == {"lower_is_better"}


def test_rfq_leaves_the_higher_is_better_axis_and_gets_its_own_chart() -> None:
    instruments = {"rfq8": get("rfq8"), "scs-sf": get("scs-sf")}
    insight = analyse_episode(_scores(), instruments, settings=InsightSettings(), fits={})
    assert [title for title, _ in insight.process] == [instruments["scs-sf"].title]
    assert [(d.scale_id, points) for d, points in insight.mentalizing] == [
        ("certainty", [(1, 0.5), (2, 1.5), (3, 2.5)]),
        ("uncertainty", [(1, 2.0), (2, 1.0), (3, 0.5)]),
    ]
    view = episode_view(insight, therapist_side=True)
    assert view.process is not None and "RFQ" not in view.process.svg
    assert view.mentalizing is not None
    # Rising certainty is stated as moving toward hypermentalizing, not as improvement.
    assert "Certainty (RFQ_c) 2.5 RFQ points toward hypermentalizing at session 3" in view.mentalizing.summary
    assert "not an improvement" in view.mentalizing.summary
    assert "better" not in view.mentalizing.svg.lower().replace("not an improvement", "")
    assert "Fonagy et al. 2016" in view.mentalizing_note and "Müller" in view.mentalizing_note
