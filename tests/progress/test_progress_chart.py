"""The client's small score chart: titled and described, one point per answer on the questionnaire's
whole range, no style attributes (the CSP), and bad input refused."""

from __future__ import annotations

import re

import pytest

from spacebetween.progress.chart import BOTTOM, TOP, score_chart


def test_one_point_per_answer_on_the_whole_range_with_text_alternatives() -> None:
    svg = score_chart(label="PHQ-9", scores=[18, 9, 0], low=0, high=27, shown=["18", "9", "0"])
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "<title>PHQ-9: your scores over time</title>" in svg
    assert "<desc>From 18 to 0, on a scale from 0 to 27.</desc>" in svg
    circles = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)
    assert len(circles) == 3
    ys = [float(y) for _, y in circles]
    assert ys[2] == BOTTOM and ys[0] < ys[1] < ys[2]  # 0 at the bottom, higher scores higher up
    assert ys[0] > TOP
    assert "style" not in svg and "<script" not in svg
    assert "Answer 1: 18" in svg


def test_a_single_answer_is_described_as_such() -> None:
    svg = score_chart(label="MAAS", scores=[3.4], low=1, high=6, shown=["3.4"])
    assert "One answer so far: 3.4" in svg and "<path" not in svg


@pytest.mark.parametrize(
    ("scores", "shown"),
    [([], []), ([28], ["28"]), ([-1], ["-1"]), ([5, 6], ["5"])],
)
def test_bad_input_is_refused(scores: list[float], shown: list[str]) -> None:
    with pytest.raises(ValueError):
        score_chart(label="PHQ-9", scores=scores, low=0, high=27, shown=shown)
