"""The server-side SVG charts: well-formed, titled and described, no inline styles or scripts, a legend,
points where the geometry says, the data again as a table, hostile labels escaped, and a clear chart
when there is nothing to draw."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from spacebetween.insights import charts
from spacebetween.insights.charts import Chart, Cutoff, Marker, plot

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(\"x\")</script> & 'quoted' \x07"


def without_control_characters(text: str) -> str:
    return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)


def parse(chart: Chart) -> ET.Element:
    # Our own output, not untrusted input (S314); raises on anything not well-formed.
    root = ET.fromstring(chart.svg)  # noqa: S314
    assert root.tag == f"{SVG}svg"
    return root


def by_class(root: ET.Element, css: str) -> list[ET.Element]:
    return [e for e in root.iter() if css in (e.get("class") or "").split()]


def texts(root: ET.Element) -> list[str]:
    return ["".join(e.itertext()) for e in root.iter(f"{SVG}text")]


def assert_accessible(chart: Chart) -> ET.Element:
    """title and desc referenced by aria, role img, no style anywhere, no script, scalable width."""
    root = parse(chart)
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == title.get("id")
    assert root.get("aria-describedby") == desc.get("id")
    # XML cannot carry control characters: the SVG drops them, the rest of the text is kept.
    assert title.text == without_control_characters(chart.title)
    assert desc.text == without_control_characters(chart.summary)
    assert root.get("width") == "100%"
    assert re.fullmatch(r"0 0 480 \d+", root.get("viewBox") or "")
    for element in root.iter():
        assert "style" not in element.attrib, element.tag
        assert element.tag not in (f"{SVG}style", f"{SVG}script", f"{SVG}foreignObject")
        assert not any(name.startswith("on") for name in element.attrib), element.tag
    return root


def circle_centres(root: ET.Element, css: str) -> list[tuple[float, float]]:
    return [(float(e.get("cx", "nan")), float(e.get("cy", "nan"))) for e in by_class(root, css)]


# ------------------------------------------------------------------------------------------ trajectory


def tiny_trajectory(**overrides: object) -> Chart:
    kwargs: dict[str, object] = {
        "title": "PHQ-9",
        "scale_min": 0,
        "scale_max": 20,
        "higher_is_better": False,
        "scores": [(1, 10.0), (2, 5.0), (4, 15.0)],
        "sessions": [1, 2, 3, 4],
    }
    kwargs.update(overrides)
    return charts.trajectory_chart(**kwargs)  # type: ignore[arg-type]


def test_the_geometry_constants_are_the_ones_worked_out_below() -> None:
    # If the layout changes, the hand-computed coordinates in the next test must be worked out again.
    assert (plot.PLOT_LEFT, plot.PLOT_RIGHT, plot.PLOT_TOP, plot.PLOT_BOTTOM) == (48, 464, 34, 234)


def test_scores_sit_at_the_hand_computed_coordinates() -> None:
    root = assert_accessible(tiny_trajectory())
    # 4 sessions share the 416-px plot (48..464): slot 104 px, session k centred at 48 + (k - 0.5) * 104.
    # Scale 0..20 over 200 px (234 at 0, 34 at 20): 10 px a point, y = 234 - 10 * score.
    assert circle_centres(root, "sb-score") == [(100.0, 134.0), (204.0, 184.0), (412.0, 84.0)]


def test_a_missing_session_is_bridged_but_two_are_not() -> None:
    bridged = parse(tiny_trajectory())  # sessions 1, 2, 4: one missing session, one line
    assert [e.get("d") for e in by_class(bridged, "sb-score-line")] == ["M100.0 134.0L204.0 184.0L412.0 84.0"]
    broken = parse(tiny_trajectory(scores=[(1, 10.0), (2, 5.0), (5, 15.0)], sessions=[1, 2, 3, 4, 5]))
    lines = by_class(broken, "sb-score-line")
    assert len(lines) == 1 and lines[0].get("d", "").count("L") == 1  # 1-2 joined, 2..5 left open
    assert len(by_class(broken, "sb-score")) == 3  # the lone score is still drawn


def test_the_table_holds_the_input_data() -> None:
    chart = tiny_trajectory(
        expected=[(1, 10.0, 8.0, 12.0), (2, 9.5, 7.0, 12.0)],
        markers=[Marker(2, "Sudden gain", "sudden_gain")],
    )
    assert chart.table_headers == ("Session", "Score", "Expected", "Expected range", "Events")
    assert chart.table_rows == (
        ("1", "10", "10", "8–12", ""),
        ("2", "5", "9.5", "7–12", "Sudden gain"),
        ("4", "15", "", "", ""),
    )


def test_legend_bands_cutoffs_and_markers_are_drawn_and_named() -> None:
    chart = tiny_trajectory(
        expected=[(1, 10.0, 8.0, 12.0), (2, 9.5, 7.0, 12.0)],
        reliable_change=(4.0, 16.0),
        cutoffs=[Cutoff(10, "Moderate depression")],
        markers=[Marker(2, "Sudden gain", "sudden_gain"), Marker(4, "Not on track", "not_on_track")],
    )
    root = assert_accessible(chart)
    legend = [t for e in by_class(root, "sb-legend") for t in e.itertext()]
    assert legend == [
        "Score (PHQ-9)",
        "Expected range",
        "No reliable change: 4–16, around the intake score",
        "Cut-off (named on the line)",
        "Expected course",
        "Sudden gain",
        "Not on track",
        "Lower scores are better",
    ]
    assert len(by_class(root, "sb-expected-band")) == 1
    zone = by_class(root, "sb-reliable-zone")[0]
    # 4..16 on a 0..20 scale: from y = 234 - 160 = 74 down to 234 - 40 = 194.
    assert (float(zone.get("y", "0")), float(zone.get("height", "0"))) == (74.0, 120.0)
    pattern = root.find(f"{SVG}defs/{SVG}pattern")
    assert pattern is not None and zone.get("fill") == f"url(#{pattern.get('id')})"
    cutoff = by_class(root, "sb-cutoff")[0]
    assert cutoff.get("y1") == cutoff.get("y2") == "134.0" and cutoff.get("stroke-dasharray")
    assert "Moderate depression (10)" in texts(root)
    assert len(by_class(root, "sb-marker-sudden_gain")) == len(by_class(root, "sb-marker-not_on_track")) == 1


def test_series_differ_by_dash_pattern_not_colour_alone() -> None:
    root = parse(tiny_trajectory(expected=[(1, 10.0, 8.0, 12.0), (2, 9.5, 7.0, 12.0)]))
    score_line = by_class(root, "sb-score-line")[0]
    expected_line = by_class(root, "sb-expected")[0]
    assert score_line.get("stroke-dasharray") is None and expected_line.get("stroke-dasharray") == "7 4"
    colours = {e.get(attr) for e in root.iter() for attr in ("fill", "stroke") if e.get(attr)}
    greys = {c for c in colours if re.fullmatch(r"#([0-9a-f]{2})\1\1", c or "")}
    assert colours - greys <= {"none"} | {c for c in colours if c and c.startswith("url(#")}


def test_a_hostile_label_is_escaped_everywhere() -> None:
    chart = tiny_trajectory(
        title=HOSTILE, cutoffs=[Cutoff(10, HOSTILE)], markers=[Marker(1, HOSTILE, "not_on_track")]
    )
    root = assert_accessible(chart)
    assert "<script" not in chart.svg
    assert root.find(f"{SVG}title") is not None
    cleaned = HOSTILE.replace("\x07", "")
    assert chart.title == HOSTILE  # the Chart keeps the input; the template escapes it again
    assert any(cleaned[:20] in t for t in texts(root))


def test_no_scores_gives_a_clear_empty_chart() -> None:
    chart = tiny_trajectory(scores=[], sessions=[])
    root = assert_accessible(chart)
    assert [t for e in by_class(root, "sb-empty") for t in e.itertext()] == [charts.NO_SCORES]
    assert chart.table_rows == ()
    assert chart.summary == "No scores yet on the PHQ-9."


def test_output_is_deterministic() -> None:
    assert tiny_trajectory().svg == tiny_trajectory().svg
    assert tiny_trajectory().svg != tiny_trajectory(title="GAD-7").svg


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"scores": [(0, 5.0)]}, "scores: session numbers are whole numbers from 1, not 0"),
        ({"scores": [(1, 25.0)]}, "scores: 25 at session 1 is outside 0–20"),
        ({"scores": [(1, float("nan"))]}, "scores: the value at session 1 is not a number"),
        ({"scores": [(1, 5.0), (1, 6.0)]}, "scores: one value per session"),
        ({"scale_min": 5, "scale_max": 5}, "the scale must run from a lower to a higher number"),
        ({"markers": [Marker(1, "x", "bogus")]}, "marker kind 'bogus' is not one of"),
        ({"cutoffs": [Cutoff(30, "High")]}, "cut-off 'High': 30 is outside 0–20"),
        ({"expected": [(1, 10.0, 11.0, 12.0)]}, "expected: at session 1 the band 11–12 excludes 10"),
    ],
)
def test_bad_input_is_refused_by_name(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        tiny_trajectory(**overrides)


# ------------------------------------------------------------------------------------------ space between


GAP_RULE = (
    "Possible rupture: the gap moves 7.2 WAI-SR points or more from its usual level on 2 paired sessions"
)


def space(**overrides: object) -> Chart:
    # Client WAI-SR and therapist WAI-SR-T: one validated metric, 12-60 WAI-SR points.
    kwargs: dict[str, object] = {
        "title": "The space between",
        "client": [(1, 45.0), (2, 36.0), (3, 50.0)],
        "therapist": [(1, 40.0), (3, 48.0)],
        "client_label": "Client: WAI-SR",
        "therapist_label": "Therapist: WAI-SR-T",
        "unit": "WAI-SR points",
        "scale_min": 12.0,
        "scale_max": 60.0,
        "gap_rule": GAP_RULE,
        "markers": [Marker(2, "Possible rupture", "rupture"), Marker(3, "Repair", "repair")],
        "checkins": [(1, "calm", 2), (2, "irritated, sad", 4), (3, "warm", None)],
    }
    kwargs.update(overrides)
    return charts.space_between_chart(**kwargs)  # type: ignore[arg-type]


def test_space_between_points_gap_and_table_in_one_unit() -> None:
    chart = space()
    root = assert_accessible(chart)
    # 3 sessions: slot 416 / 3; 12..60 over 200 px, y = 234 - (score - 12) * 200 / 48.
    slot = 416 / 3

    def y(score: float) -> float:
        return round(234 - (score - 12) * 200 / 48, 1)

    assert circle_centres(root, "sb-client") == [
        (round(48 + 0.5 * slot, 1), y(45)),
        (round(48 + 1.5 * slot, 1), y(36)),
        (round(48 + 2.5 * slot, 1), y(50)),
    ]
    therapist = by_class(root, "sb-therapist")
    assert [e.tag for e in therapist] == [f"{SVG}rect"] * 2  # squares, not circles: shape tells them apart
    gaps = by_class(root, "sb-gap")
    assert [(float(g.get("y1") or 0), float(g.get("y2") or 0)) for g in gaps] == [
        (y(45), y(40)),
        (y(50), y(48)),
    ]
    # The gap's tooltip states its sign and its unit.
    assert [t for g in gaps for t in g.itertext()] == [
        "Session 1: gap (client minus therapist) +5 WAI-SR points",
        "Session 3: gap (client minus therapist) +2 WAI-SR points",
    ]
    assert [t for e in by_class(root, "sb-unit") for t in e.itertext()] == ["WAI-SR points"]
    assert chart.table_headers == (
        "Session",
        "Client: WAI-SR (WAI-SR points)",
        "Therapist: WAI-SR-T (WAI-SR points)",
        "Gap, client minus therapist (WAI-SR points)",
        "Events",
        "Check-in",
    )
    assert chart.table_rows == (
        ("1", "45", "40", "+5", "", "calm (intensity 2 of 5)"),
        ("2", "36", "", "", "Possible rupture", "irritated, sad (intensity 4 of 5)"),
        ("3", "50", "48", "+2", "Repair", "warm"),
    )
    legend = [t for e in by_class(root, "sb-legend") for t in e.itertext()]
    assert legend[:2] == ["Client: WAI-SR", "Therapist: WAI-SR-T"]
    assert legend[2] == "Gap: client minus therapist, in WAI-SR points"
    # The rupture threshold in the same unit as the axis and the gap (the legend may shorten it).
    assert legend[3].startswith("Possible rupture: the gap moves 7.2 WAI-SR points")
    assert legend[-2:] == ["Possible rupture", "Repair"]
    assert "(client minus therapist) is +2 WAI-SR points" in chart.summary
    assert len(by_class(root, "sb-checkin")) == 3
    assert len(by_class(root, "sb-marker-rupture")) == len(by_class(root, "sb-marker-repair")) == 1


def test_without_a_gap_rule_no_gap_is_drawn_or_tabled() -> None:
    chart = space(gap_rule=None)
    root = assert_accessible(chart)
    assert by_class(root, "sb-gap") == []
    assert not any("Gap" in h for h in chart.table_headers)
    assert not any("client minus therapist" in t for t in texts(root))
    assert "gap" not in chart.summary


def test_one_view_per_chart_each_in_its_own_unit() -> None:
    # The session rating (0-10) is another metric than the WAI-SR: its own chart, its own axis, no gap.
    chart = space(
        client=[],
        therapist=[(1, 7.0), (2, 6.5)],
        unit="session rating points (0–10)",
        scale_min=0.0,
        scale_max=10.0,
        gap_rule=None,
        markers=[],
    )
    root = assert_accessible(chart)
    assert by_class(root, "sb-gap") == [] and by_class(root, "sb-client") == []
    assert [t for e in by_class(root, "sb-unit") for t in e.itertext()] == ["session rating points (0–10)"]
    assert chart.table_rows[0][:2] == ("1", "")


def test_a_value_off_the_charts_scale_is_refused() -> None:
    # A 0-10 rating cannot be put on the WAI-SR's 12-60 axis.
    with pytest.raises(ValueError, match="therapist: 7 at session 1 is outside 12–60"):
        space(therapist=[(1, 7.0)])
    with pytest.raises(ValueError, match="from a lower to a higher number"):
        space(scale_min=60.0, scale_max=12.0)


def test_the_clients_copy_without_the_therapist_side() -> None:
    chart = space(therapist=[], gap_rule=None, checkins=[])
    root = assert_accessible(chart)
    assert by_class(root, "sb-therapist") == [] and by_class(root, "sb-checkin") == []
    assert chart.table_headers == ("Session", "Client: WAI-SR (WAI-SR points)", "Events")


def test_space_between_escapes_feelings_and_labels() -> None:
    chart = space(client_label=HOSTILE, checkins=[(1, HOSTILE, 3)])
    assert_accessible(chart)
    assert "<script" not in chart.svg


def test_space_between_with_nothing_rated() -> None:
    chart = space(client=[], therapist=[], markers=[], checkins=[])
    root = assert_accessible(chart)
    assert [t for e in by_class(root, "sb-empty") for t in e.itertext()] == [charts.NO_SCORES]
    assert chart.table_rows == ()


def test_an_intensity_outside_one_to_five_is_refused() -> None:
    with pytest.raises(ValueError, match="check-ins: the intensity at session 1 must be 1 to 5"):
        space(checkins=[(1, "calm", 6)])


# ------------------------------------------------------------------------------------------ process


def test_process_lines_have_distinct_styles_and_the_table_the_data() -> None:
    series = [
        ("Mindfulness (FFMQ-15)", [(1, 40.0), (3, 50.0)]),
        ("Self-compassion (SCS-SF)", [(1, 30.0), (2, 35.0)]),
    ]
    chart = charts.process_chart(title="Ingredients", series=series, sessions=[1, 2, 3])
    root = assert_accessible(chart)
    first, second = by_class(root, "sb-series-0-line")[0], by_class(root, "sb-series-1-line")[0]
    assert first.get("stroke-dasharray") != second.get("stroke-dasharray")
    assert {e.tag for e in by_class(root, "sb-series-0")} != {e.tag for e in by_class(root, "sb-series-1")}
    assert chart.table_headers == ("Session", "Mindfulness (FFMQ-15)", "Self-compassion (SCS-SF)")
    assert chart.table_rows == (("1", "40%", "30%"), ("2", "", "35%"), ("3", "50%", ""))
    legend = [t for e in by_class(root, "sb-legend") for t in e.itertext()]
    assert legend == ["Mindfulness (FFMQ-15)", "Self-compassion (SCS-SF)"]


def test_process_without_scores() -> None:
    chart = charts.process_chart(title="Ingredients", series=[("Mindfulness", [])])
    root = assert_accessible(chart)
    assert [t for e in by_class(root, "sb-empty") for t in e.itertext()] == [charts.NO_SCORES]


# ------------------------------------------------------------------------------------------ outcome bars


def test_outcome_bars_widths_and_table() -> None:
    chart = charts.outcome_bars(
        title="Outcomes",
        rows=[("Recovery", 50.0, 50.8), ("Reliable improvement", None, 66.4), (HOSTILE, 25.0, None)],
        benchmark_label="England 2017/18",
        missing_text="<5",
    )
    root = assert_accessible(chart)
    practice = by_class(root, "sb-bar-practice")
    benchmark = by_class(root, "sb-bar-benchmark")
    # Bars run from x = 12 over 388 px for 100 %: 50 % is 194 px wide, 25 % 97.
    assert [p.get("width") for p in practice] == ["194.0", "97.0"]
    assert [b.get("width") for b in benchmark] == [f"{50.8 / 100 * 388:.1f}", f"{66.4 / 100 * 388:.1f}"]
    assert chart.table_headers == ("Outcome", "This practice", "England 2017/18")
    assert chart.table_rows == (
        ("Recovery", "50%", "50.8%"),
        ("Reliable improvement", "<5", "66.4%"),
        (HOSTILE, "25%", "—"),
    )
    assert "<5" in texts(root) and "no national figure" in texts(root)
    assert "<script" not in chart.svg


def test_outcome_bars_refuse_a_figure_beyond_a_hundred_percent() -> None:
    with pytest.raises(ValueError, match="Recovery \\(This practice\\): 120 is outside 0–100"):
        charts.outcome_bars(title="Outcomes", rows=[("Recovery", 120.0, None)], benchmark_label="England")


# ------------------------------------------------------------------------------------------ RFQ-8 deviations


def rfq(**overrides: object) -> Chart:
    kwargs: dict[str, object] = {
        "title": "Mentalizing (RFQ-8)",
        "series": [
            ("Certainty (RFQ_c)", "hypermentalizing", 1, [(1, 0.5), (2, 1.5), (3, 3.0)]),
            ("Uncertainty (RFQ_u)", "hypomentalizing", -1, [(1, 1.5), (3, 0.0)]),
        ],
        "scale_max": 3.0,
        "unit": "RFQ points",
        "zero_label": "0: genuine mentalizing (Fonagy et al. 2016)",
        "sessions": [1, 2, 3],
    }
    kwargs.update(overrides)
    return charts.deviation_chart(**kwargs)  # type: ignore[arg-type]


def test_rfq_certainty_rises_away_from_the_zero_line_and_uncertainty_falls_below_it() -> None:
    chart = rfq()
    root = assert_accessible(chart)
    # -3..3 over 200 px: the zero line at y = 134; one RFQ point is 200 / 6 px.
    (zero,) = by_class(root, "sb-zero")
    assert zero.get("y1") == zero.get("y2") == "134.0"
    point = 200 / 6
    certainty_y = [y for _, y in circle_centres(root, "sb-series-0")]
    assert certainty_y == [round(134 - 0.5 * point, 1), round(134 - 1.5 * point, 1), 34.0]
    # A rise in certainty goes UP, away from 0 (toward hypermentalizing): the same way as a rise in
    # uncertainty goes DOWN, away from 0 (toward hypomentalizing). Neither reads as a gain.
    uncertainty = by_class(root, "sb-series-1")
    assert [float(e.get("y", "nan")) + float(e.get("height", "nan")) / 2 for e in uncertainty] == [
        pytest.approx(134 + 1.5 * point, abs=0.1),
        pytest.approx(134.0, abs=0.1),
    ]
    # The axis reads distance from 0 on both sides, never a negative score.
    assert {"3", "2", "1", "0"} <= set(texts(root)) and not any(t.startswith("-") for t in texts(root))
    assert "Certainty (RFQ_c): toward hypermentalizing" in texts(root)
    assert "Uncertainty (RFQ_u): toward hypomentalizing" in texts(root)
    assert "0: genuine mentalizing (Fonagy et al. 2016)" in texts(root)
    assert chart.table_headers == (
        "Session",
        "Certainty (RFQ_c) (RFQ points, toward hypermentalizing)",
        "Uncertainty (RFQ_u) (RFQ points, toward hypomentalizing)",
    )
    assert chart.table_rows == (("1", "0.5", "1.5"), ("2", "1.5", ""), ("3", "3", "0"))
    assert "not an improvement" in chart.summary
    # No wording anywhere that calls a direction better or an improvement.
    words = " ".join(texts(root)).lower()
    assert "better" not in words and "improv" not in words


def test_a_deviation_chart_refuses_a_score_off_the_scale_or_no_side() -> None:
    with pytest.raises(ValueError, match=r"Certainty: 3\.5 at session 1 is outside 0–3"):
        rfq(series=[("Certainty", "hypermentalizing", 1, [(1, 3.5)])])
    with pytest.raises(ValueError, match="side must be 1"):
        rfq(series=[("Certainty", "hypermentalizing", 0, [(1, 1.0)])])


def test_a_deviation_chart_without_scores() -> None:
    chart = rfq(series=[("Certainty (RFQ_c)", "hypermentalizing", 1, [])])
    root = assert_accessible(chart)
    assert [t for e in by_class(root, "sb-empty") for t in e.itertext()] == [charts.NO_SCORES]
