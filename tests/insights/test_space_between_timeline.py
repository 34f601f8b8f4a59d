"""The space-between chart's timeline strip: ruptures (note written or not) and themes, drawn by shape
and text and tabled in words."""

from __future__ import annotations

import re

import pytest

from spacebetween.insights import charts

BASE = {
    "title": "The space between",
    "client": [(1, 50.0), (2, 52.0), (3, 51.0), (4, 40.0)],
    "therapist": [],
    "client_label": "Client: WAI-SR",
    "therapist_label": "Therapist: session rating",
    "unit": "WAI-SR points",
    "scale_min": 12.0,
    "scale_max": 60.0,
}


def test_the_timeline_is_drawn_and_tabled() -> None:
    chart = charts.space_between_chart(
        **BASE,  # type: ignore[arg-type]
        timeline=[
            (4, "Possible rupture (detected); rupture note: withdrawal, partly repaired", True, ()),
            (3, "", False, ("counter-transference: wish to rescue",)),
            (2, "Possible rupture (detected); no note yet", False, ("transference: feeling judged",)),
        ],
    )
    assert chart.svg.count('class="sb-rupture-note"') == 2
    assert chart.svg.count('class="sb-theme"') == 2
    diamonds = re.findall(r"<polygon[^>]*sb-rupture-note[^>]*>", chart.svg)
    # Filled where the note is written, hollow where it is not yet: shape, not colour alone.
    assert sorted('fill="#000000"' in d for d in diamonds) == [False, True]
    headers = chart.table_headers
    assert list(headers[-2:]) == ["Rupture", "Themes"]
    by_session = {row[0]: row for row in chart.table_rows}
    assert by_session["3"][-1] == "counter-transference: wish to rescue"
    assert by_session["4"][-2].endswith("partly repaired") and list(by_session["1"][-2:]) == ["", ""]


def test_without_a_timeline_the_chart_is_unchanged() -> None:
    chart = charts.space_between_chart(**BASE)  # type: ignore[arg-type]
    assert "sb-rupture-note" not in chart.svg and "Rupture" not in chart.table_headers
    assert chart.table_headers[0] == "Session"


def test_a_timeline_session_must_be_a_session_number() -> None:
    with pytest.raises(ValueError, match="timeline"):
        charts.space_between_chart(**BASE, timeline=[(0, "Possible rupture", False, ())])  # type: ignore[arg-type]
