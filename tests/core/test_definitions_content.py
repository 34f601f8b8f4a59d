"""The shipped definitions say what their sources say.

Every expected value below is written by hand from the source named in the comment next to it, never
read back from the definition file, so a wrong edit to a file fails here. Worked scoring examples are
computed by hand (shown in the comment) and checked through `scoring.score_response`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from spacebetween.core.instruments import Instrument, get
from spacebetween.core.scoring import score_response


def _instrument(instrument_id: str) -> Instrument:
    return get(instrument_id, include_licensed=True)


def _answer_scale(instrument_id: str) -> list[tuple[float, str]]:
    """(value, wording) of the first item's options, in the order the form prints them."""
    item = _instrument(instrument_id).items[0]
    return [(o.value, o.display) for o in item.options]


def _all_items_share_the_first_items_options(instrument: Instrument) -> bool:
    first = instrument.items[0].options
    return all(item.options == first for item in instrument.items)


def _score(instrument_id: str, answers: Mapping[str, float | None]) -> dict[str, float | None]:
    result = score_response(_instrument(instrument_id), answers)
    return {sid: sc.score for sid, sc in result.scales.items()}


def _same(instrument_id: str, value: float) -> dict[str, float | None]:
    return {i: value for i in _instrument(instrument_id).item_ids}


def _ids(prefix: str, numbers: list[int] | range) -> tuple[str, ...]:
    return tuple(f"{prefix}_{n}" for n in numbers)


# ------------------------------------------------------------------------------------------------ packs

CORE = ["core10", "k10", "who5", "scs-sf", "maas"]
LICENSED = ["wai-sr", "pss10", "brs", "aaq2", "ders16", "ffmq15"]


@pytest.mark.parametrize("instrument_id", CORE)
def test_core_instrument_is_free_to_ship(instrument_id: str) -> None:
    instrument = _instrument(instrument_id)
    # docs/instrument-definitions.md, licence classes: the core set is class A or B only.
    assert instrument.pack == "core"
    assert instrument.licence.licence_class in {"A", "B"}


@pytest.mark.parametrize("instrument_id", LICENSED)
def test_licensed_instrument_is_opt_in_with_terms_to_accept(instrument_id: str) -> None:
    instrument = _instrument(instrument_id)
    # docs/instrument-definitions.md, licence classes: WAI-SR, PSS-10, BRS, AAQ-II, DERS-16, FFMQ are C.
    assert instrument.pack == "licensed"
    assert instrument.licence.licence_class == "C"
    assert instrument.licence.terms and "confirms" in instrument.licence.terms


@pytest.mark.parametrize("instrument_id", LICENSED)
def test_licensed_instrument_is_not_in_the_default_registry(instrument_id: str) -> None:
    from spacebetween.core.instruments import UnknownInstrumentError

    with pytest.raises(UnknownInstrumentError, match="licensed pack"):
        get(instrument_id)


# ---------------------------------------------------------------------------------------------- CORE-10


def test_core10_has_ten_items_scored_0_to_4() -> None:
    core10 = _instrument("core10")
    assert core10.item_ids == _ids("core10", range(1, 11))
    # CST CORE-10 form (softoutcomes.org reproduction under CC BY-ND 4.0; CamCOPS core10.py "0 not at all -
    # 4 most or all of the time").
    assert _answer_scale("core10") == [
        (0, "Not at all"),
        (1, "Only occasionally"),
        (2, "Sometimes"),
        (3, "Often"),
        (4, "Most or all of the time"),
    ]
    assert _all_items_share_the_first_items_options(core10)


def test_core10_reverses_support_and_coping_items_only() -> None:
    # CamCOPS core10.py: Q2 (support) and Q3 (coping) are "0 most or all of the time - 4 not at all".
    total = _instrument("core10").scale("total")
    assert total.reverse == ("core10_2", "core10_3")
    assert total.method == "sum"
    assert total.range == (0, 40)
    assert total.direction == "lower_is_better"


def test_core10_item_6_is_the_risk_item_on_any_answer_above_not_at_all() -> None:
    core10 = _instrument("core10")
    # CST CORE-10 information: one risk item; item 6 wording from the CST form.
    assert core10.item("core10_6").text == "I made plans to end my life"
    [rule] = core10.risk_rules
    assert (rule.item, rule.operator, rule.value) == ("core10_6", ">", 0)


def test_core10_clinical_range_starts_at_11() -> None:
    # NovoPsych summary of Barkham et al. 2013: 11 or above is clinically significant; above 13 likely
    # depression.
    caseness = _instrument("core10").scale("total").caseness
    assert caseness is not None
    assert (caseness.cutoff, caseness.operator) == (11, ">=")
    assert [(a.cutoff, a.operator) for a in caseness.alternatives] == [(13, ">")]


def test_core10_norms_are_the_manuals() -> None:
    total = _instrument("core10").scale("total")
    # CORE-10 manual via NovoPsych: primary care M 19.7 SD 7.7; general population M 4.7 SD 4.8; alpha .90.
    cs = total.clinical_significance
    assert cs is not None
    assert (cs.clinical_mean, cs.clinical_sd, cs.functional_mean, cs.functional_sd) == (19.7, 7.7, 4.7, 4.8)
    rc = total.reliable_change
    assert rc is not None
    assert (rc.reliability, rc.sd) == (0.90, 7.7)


def test_core10_prorates_one_missing_item_only() -> None:
    # CST: "It can be prorated if only one item is omitted".
    missing = _instrument("core10").scale("total").missing
    assert (missing.max_missing, missing.prorate) == (1, True)


def test_core10_all_most_or_all_of_the_time_scores_32() -> None:
    # 8 problem items x 4, plus reversed items 2 and 3: 4 -> 0 each.
    assert _score("core10", _same("core10", 4)) == {"total": 32}


def test_core10_all_not_at_all_scores_8_from_the_reversed_items() -> None:
    # 8 x 0, plus items 2 and 3: "Not at all" -> 4 each.
    assert _score("core10", _same("core10", 0)) == {"total": 8}


def test_core10_one_missing_item_is_prorated_to_ten_items() -> None:
    answers = _same("core10", 2)
    answers["core10_1"] = None
    # 9 answered items of 2 (reversed 2 stays 2) = 18; 10 x 18 / 9 = 20 (CamCOPS clinical score).
    result = score_response(_instrument("core10"), answers)
    assert result.scales["total"].score == 20
    assert result.scales["total"].prorated is True


def test_core10_plans_to_end_life_raises_the_flag_whatever_the_total() -> None:
    answers = _same("core10", 0)
    answers["core10_2"] = 4  # reversed to 0
    answers["core10_3"] = 4
    answers["core10_6"] = 1  # "Only occasionally"
    result = score_response(_instrument("core10"), answers)
    assert result.scales["total"].score == 1
    assert result.scales["total"].caseness is False
    assert result.risk_flags == ("plans to end life",)


# -------------------------------------------------------------------------------------------------- K10


def test_k10_has_ten_items_scored_1_to_5() -> None:
    k10 = _instrument("k10")
    assert k10.item_ids == _ids("k10", range(1, 11))
    # Kessler et al. 2002; openEHR K10 archetype: 1 None of the time ... 5 All of the time.
    assert _answer_scale("k10") == [
        (1, "None of the time"),
        (2, "A little of the time"),
        (3, "Some of the time"),
        (4, "Most of the time"),
        (5, "All of the time"),
    ]
    assert _all_items_share_the_first_items_options(k10)
    assert (
        k10.item("k10_1").text
        == "During the last 30 days, about how often did you feel tired out for no good reason?"
    )


def test_k10_is_a_plain_sum_from_10_to_50_without_reverse_or_risk_items() -> None:
    k10 = _instrument("k10")
    total = k10.scale("total")
    # openEHR K10 archetype: total 10-50; no reverse items; the K10 has no suicidality item.
    assert (total.method, total.range, total.reverse) == ("sum", (10, 50), ())
    assert k10.risk_rules == ()


def test_k10_bands_are_10_19_20_24_25_29_30_50() -> None:
    # EAP Assist / COMPAR-EU K10 entries: likely well, mild, moderate, severe.
    bands = _instrument("k10").scale("total").bands
    assert [(b.min, b.max) for b in bands] == [(10, 19), (20, 24), (25, 29), (30, 50)]


@pytest.mark.parametrize(("value", "total", "band"), [(1, 10, 0), (2, 20, 1), (5, 50, 3)])
def test_k10_worked_totals_and_bands(value: int, total: int, band: int) -> None:
    result = score_response(_instrument("k10"), _same("k10", value))
    assert result.scales["total"].score == total
    assert result.scales["total"].band_index == band


# ------------------------------------------------------------------------------------------------ WHO-5


def test_who5_has_five_items_scored_0_to_5() -> None:
    who5 = _instrument("who5")
    assert who5.item_ids == _ids("who5", range(1, 6))
    # WHO-5 1998 form (Psychiatric Centre North Zealand): printed from 5 "All of the time" to 0 "At no time".
    assert _answer_scale("who5") == [
        (5, "All of the time"),
        (4, "Most of the time"),
        (3, "More than half of the time"),
        (2, "Less than half of the time"),
        (1, "Some of the time"),
        (0, "At no time"),
    ]
    assert _all_items_share_the_first_items_options(who5)


def test_who5_raw_0_25_and_percentage_times_4() -> None:
    who5 = _instrument("who5")
    # Topp et al. 2015; INSPQ: raw 0-25, x 4 = percentage 0-100; higher is better.
    raw, pct = who5.scale("raw"), who5.scale("percentage")
    assert (raw.method, raw.range, raw.multiply, raw.direction) == ("sum", (0, 25), None, "higher_is_better")
    assert (pct.range, pct.multiply) == ((0, 100), 4)
    assert who5.risk_rules == ()


def test_who5_cut_offs_are_raw_below_13_and_percentage_50_and_28() -> None:
    who5 = _instrument("who5")
    # SMAAT/INSPQ citing Topp 2015: raw < 13 (<= 50 %) poor wellbeing; <= 28 % likely depression.
    raw_case = who5.scale("raw").caseness
    pct_case = who5.scale("percentage").caseness
    assert raw_case is not None and pct_case is not None
    assert (raw_case.cutoff, raw_case.operator) == (13, "<")
    assert (pct_case.cutoff, pct_case.operator) == (50, "<=")
    assert [(a.cutoff, a.operator) for a in pct_case.alternatives] == [(28, "<=")]
    # WHO-5 manual via Valant: 10 percentage points is a significant change.
    mid = who5.scale("percentage").mid
    assert mid is not None and mid.value == 10


def test_who5_all_of_the_time_scores_25_and_100() -> None:
    assert _score("who5", _same("who5", 5)) == {"raw": 25, "percentage": 100}


def test_who5_raw_12_is_poor_wellbeing_on_both_scales() -> None:
    # 3 + 3 + 2 + 2 + 2 = 12 -> 48 %.
    answers = dict(zip(_ids("who5", range(1, 6)), [3, 3, 2, 2, 2], strict=True))
    result = score_response(_instrument("who5"), answers)
    assert result.scales["raw"].score == 12
    assert result.scales["raw"].caseness is True
    assert result.scales["percentage"].score == 48
    assert result.scales["percentage"].caseness is True


def test_who5_percentage_28_falls_in_the_likely_depression_band() -> None:
    # 2 + 2 + 1 + 1 + 1 = 7 -> 28 %.
    answers = dict(zip(_ids("who5", range(1, 6)), [2, 2, 1, 1, 1], strict=True))
    result = score_response(_instrument("who5"), answers)
    assert result.scales["percentage"].score == 28
    assert result.scales["percentage"].band_index == 0


# ----------------------------------------------------------------------------------------------- SCS-SF

# Neff's SCS-SF coding key (self-compassion.org information sheet).
SCSSF_SUBSCALES = {
    "self_kindness": [2, 6],
    "self_judgment": [11, 12],
    "common_humanity": [5, 10],
    "isolation": [4, 8],
    "mindfulness": [3, 7],
    "over_identification": [1, 9],
}


def test_scssf_has_twelve_items_scored_1_to_5() -> None:
    scssf = _instrument("scs-sf")
    assert scssf.item_ids == _ids("scssf", range(1, 13))
    # The form labels the ends only: 1 Almost never ... 5 Almost always (reproschema SCS-SF, Neff's sheet).
    values = [v for v, _ in _answer_scale("scs-sf")]
    assert values == [1, 2, 3, 4, 5]
    assert _answer_scale("scs-sf")[0][1] == "Almost never"
    assert _answer_scale("scs-sf")[-1][1] == "Almost always"


def test_scssf_total_reverses_the_negative_items_and_takes_the_mean() -> None:
    total = _instrument("scs-sf").scale("total")
    # Neff: reverse self-judgment, isolation and over-identification items (1, 4, 8, 9, 11, 12), total mean.
    assert set(total.reverse) == set(_ids("scssf", [1, 4, 8, 9, 11, 12]))
    assert (total.method, total.range, total.direction) == ("mean", (1, 5), "higher_is_better")
    assert len(total.items) == 12


@pytest.mark.parametrize(("subscale", "numbers"), SCSSF_SUBSCALES.items())
def test_scssf_subscale_is_the_mean_of_its_two_items_unreversed(subscale: str, numbers: list[int]) -> None:
    scale = _instrument("scs-sf").scale(subscale)
    assert set(scale.items) == set(_ids("scssf", numbers))
    assert (scale.method, scale.reverse) == ("mean", ())


def test_scssf_negative_subscales_are_lower_is_better() -> None:
    scssf = _instrument("scs-sf")
    for subscale in ("self_judgment", "isolation", "over_identification"):
        assert scssf.scale(subscale).direction == "lower_is_better"
    for subscale in ("self_kindness", "common_humanity", "mindfulness"):
        assert scssf.scale(subscale).direction == "higher_is_better"


def test_scssf_bands_are_neffs_rough_guide() -> None:
    # Neff: 1-2.49 low, 2.5-3.5 moderate, 3.51-5.0 high.
    bands = _instrument("scs-sf").scale("total").bands
    assert [(b.min, b.max) for b in bands] == [(1, 2.49), (2.5, 3.5), (3.51, 5)]


def test_scssf_all_fives_is_a_middling_total_of_3() -> None:
    # 6 positive items 5 + 6 negative items reversed to 1 = 36 / 12 = 3.0; subscales unreversed = 5.
    scores = _score("scs-sf", _same("scs-sf", 5))
    assert scores["total"] == 3
    assert scores["self_judgment"] == 5
    assert scores["self_kindness"] == 5


def test_scssf_kind_answers_score_the_maximum_total() -> None:
    negative = set(_ids("scssf", [1, 4, 8, 9, 11, 12]))
    answers = {i: (1 if i in negative else 5) for i in _instrument("scs-sf").item_ids}
    result = score_response(_instrument("scs-sf"), answers)
    assert result.scales["total"].score == 5
    assert result.scales["total"].band == "high"
    assert result.scales["over_identification"].score == 1


# ------------------------------------------------------------------------------------------------- MAAS


def test_maas_has_fifteen_items_scored_1_to_6() -> None:
    maas = _instrument("maas")
    assert maas.item_ids == _ids("maas", range(1, 16))
    # Brown & Ryan 2003 (reproschema MAAS choices): 1 Almost always ... 6 Almost never.
    assert _answer_scale("maas") == [
        (1, "Almost always"),
        (2, "Very frequently"),
        (3, "Somewhat frequently"),
        (4, "Somewhat infrequently"),
        (5, "Very infrequently"),
        (6, "Almost never"),
    ]
    assert _all_items_share_the_first_items_options(maas)


def test_maas_is_the_mean_of_15_items_with_nothing_reversed() -> None:
    total = _instrument("maas").scale("total")
    # selfdeterminationtheory.org: mean of all items, 1-6, higher = more mindful; no item reversed.
    assert (total.method, total.range, total.reverse, total.direction) == (
        "mean",
        (1, 6),
        (),
        "higher_is_better",
    )
    assert len(total.items) == 15


def test_maas_worked_mean() -> None:
    # Items 1-5 "Almost never" (6), items 6-15 "Somewhat frequently" (3): (30 + 30) / 15 = 4.0.
    answers = {f"maas_{n}": (6 if n <= 5 else 3) for n in range(1, 16)}
    assert _score("maas", answers) == {"total": 4}


# ----------------------------------------------------------------------------------------------- WAI-SR

# Hatcher & Gillaspy 2006 as given by Rivet and Blueprint:
# Task 1, 2, 10, 12; Bond 3, 5, 7, 9; Goal 4, 6, 8, 11.
WAISR_SUBSCALES = {"task": [1, 2, 10, 12], "bond": [3, 5, 7, 9], "goal": [4, 6, 8, 11]}


def test_waisr_has_twelve_items_scored_1_to_5() -> None:
    waisr = _instrument("wai-sr")
    assert waisr.item_ids == _ids("waisr", range(1, 13))
    assert _answer_scale("wai-sr") == [
        (1, "Seldom"),
        (2, "Sometimes"),
        (3, "Fairly often"),
        (4, "Very often"),
        (5, "Always"),
    ]
    assert _all_items_share_the_first_items_options(waisr)
    # The form prints a blank for the therapist's name (Rivet: "I believe __ likes me").
    assert waisr.item("waisr_3").text == "I believe _____ likes me."


@pytest.mark.parametrize(("subscale", "numbers"), WAISR_SUBSCALES.items())
def test_waisr_subscale_membership(subscale: str, numbers: list[int]) -> None:
    scale = _instrument("wai-sr").scale(subscale)
    assert set(scale.items) == set(_ids("waisr", numbers))
    assert (scale.reverse, scale.range) == ((), (4, 20))


def test_waisr_total_has_no_reverse_items_and_no_invented_bands() -> None:
    total = _instrument("wai-sr").scale("total")
    # No validated cut-offs for the WAI-SR (its definition's notes; vendor bands are not norms).
    assert (total.range, total.reverse, total.bands, total.caseness) == ((12, 60), (), (), None)


def test_waisr_all_always_scores_60_and_20_per_subscale() -> None:
    assert _score("wai-sr", _same("wai-sr", 5)) == {"total": 60, "task": 20, "bond": 20, "goal": 20}


# ----------------------------------------------------------------------------------------------- PSS-10


def test_pss10_has_ten_items_on_the_loinc_0_to_4_answer_list() -> None:
    pss10 = _instrument("pss10")
    assert pss10.item_ids == _ids("pss10", range(1, 11))
    # LOINC 66830-1, normative answer list LL1625-4.
    item = pss10.item("pss10_10")
    assert [(o.value, o.code, o.display) for o in item.options] == [
        (0, "LA6270-8", "Never"),
        (1, "LA13866-1", "Almost never"),
        (2, "LA10082-8", "Sometimes"),
        (3, "LA16644-9", "Fairly often"),
        (4, "LA14985-8", "Very often"),
    ]
    assert item.code == "66830-1"
    assert _all_items_share_the_first_items_options(pss10)


def test_pss10_reverses_items_4_5_7_8_and_has_no_cut_offs() -> None:
    total = _instrument("pss10").scale("total")
    # LOINC 106860-0: answer scores for the positive questions 4, 5, 7, 8 are reversed; total 0-40.
    assert set(total.reverse) == set(_ids("pss10", [4, 5, 7, 8]))
    assert (total.method, total.range, total.loinc) == ("sum", (0, 40), "106860-0")
    # LOINC 64394-0 (PhenX): "there are no cut-offs for classification ... into high, medium, or low stress".
    assert (total.bands, total.caseness) == ((), None)


def test_pss10_all_very_often_scores_24() -> None:
    # 6 negative items x 4 + 4 positive items reversed to 0.
    assert _score("pss10", _same("pss10", 4)) == {"total": 24}


def test_pss10_most_stressed_answers_score_40() -> None:
    positive = set(_ids("pss10", [4, 5, 7, 8]))
    answers = {i: (0 if i in positive else 4) for i in _instrument("pss10").item_ids}
    assert _score("pss10", answers) == {"total": 40}


# -------------------------------------------------------------------------------------------------- BRS


def test_brs_has_six_items_scored_1_to_5() -> None:
    brs = _instrument("brs")
    assert brs.item_ids == _ids("brs", range(1, 7))
    # Smith et al. 2008: 1 Strongly disagree ... 5 Strongly agree.
    assert _answer_scale("brs") == [
        (1, "Strongly disagree"),
        (2, "Disagree"),
        (3, "Neutral"),
        (4, "Agree"),
        (5, "Strongly agree"),
    ]


def test_brs_reverses_items_2_4_6_and_takes_the_mean() -> None:
    total = _instrument("brs").scale("total")
    # PsyToolkit / Smith 2008: items 2, 4, 6 reverse-coded; mean 1-5.
    assert set(total.reverse) == set(_ids("brs", [2, 4, 6]))
    assert (total.method, total.range, total.direction) == ("mean", (1, 5), "higher_is_better")
    # Smith et al. 2013 via PsyToolkit: 1.00-2.99 low, 3.00-4.30 normal, 4.31-5.00 high.
    assert [(b.min, b.max) for b in total.bands] == [(1, 2.99), (3, 4.30), (4.31, 5)]


def test_brs_all_strongly_agree_is_a_normal_mean_of_3() -> None:
    # (5 + 1 + 5 + 1 + 5 + 1) / 6 = 3.0.
    result = score_response(_instrument("brs"), _same("brs", 5))
    assert result.scales["total"].score == 3
    assert result.scales["total"].band == "normal resilience"


def test_brs_resilient_answers_score_5_and_high() -> None:
    answers = {"brs_1": 5, "brs_2": 1, "brs_3": 5, "brs_4": 1, "brs_5": 5, "brs_6": 1}
    result = score_response(_instrument("brs"), answers)
    assert result.scales["total"].score == 5
    assert result.scales["total"].band == "high resilience"


# ----------------------------------------------------------------------------------------------- AAQ-II


def test_aaq2_has_seven_items_scored_1_to_7() -> None:
    aaq2 = _instrument("aaq2")
    assert aaq2.item_ids == _ids("aaq2", range(1, 8))
    # Bond et al. 2011: 1 never true ... 7 always true.
    assert _answer_scale("aaq2") == [
        (1, "never true"),
        (2, "very seldom true"),
        (3, "seldom true"),
        (4, "sometimes true"),
        (5, "frequently true"),
        (6, "almost always true"),
        (7, "always true"),
    ]


def test_aaq2_is_a_plain_sum_7_to_49_with_clinical_range_above_24_to_28() -> None:
    total = _instrument("aaq2").scale("total")
    # Bond et al. 2011: no reverse items; higher = more inflexibility; scores above 24-28 probable distress.
    assert (total.method, total.range, total.reverse, total.direction) == (
        "sum",
        (7, 49),
        (),
        "lower_is_better",
    )
    assert total.caseness is not None
    assert (total.caseness.cutoff, total.caseness.operator) == (24, ">")
    assert [(a.cutoff, a.operator) for a in total.caseness.alternatives] == [(28, ">")]
    # Bond et al. 2011: clinical M 28.3 SD 9.9, non-clinical M 18.51 SD 7.05, mean alpha .84.
    cs = total.clinical_significance
    assert cs is not None
    assert (cs.clinical_mean, cs.clinical_sd, cs.functional_mean, cs.functional_sd) == (
        28.3,
        9.9,
        18.51,
        7.05,
    )
    assert total.reliable_change is not None
    assert (total.reliable_change.reliability, total.reliable_change.sd) == (0.84, 9.9)


@pytest.mark.parametrize(("value", "total", "case"), [(1, 7, False), (4, 28, True), (7, 49, True)])
def test_aaq2_worked_totals(value: int, total: int, case: bool) -> None:
    result = score_response(_instrument("aaq2"), _same("aaq2", value))
    assert result.scales["total"].score == total
    assert result.scales["total"].caseness is case


def test_aaq2_total_of_24_is_not_yet_clinical() -> None:
    # 4 + 4 + 4 + 4 + 3 + 3 + 2 = 24.
    answers = dict(zip(_ids("aaq2", range(1, 8)), [4, 4, 4, 4, 3, 3, 2], strict=True))
    result = score_response(_instrument("aaq2"), answers)
    assert result.scales["total"].score == 24
    assert result.scales["total"].caseness is False


# ---------------------------------------------------------------------------------------------- DERS-16

# Bjureberg et al. 2016 item map.
DERS16_SUBSCALES = {
    "nonacceptance": [9, 10, 13],
    "goals": [3, 7, 15],
    "impulse": [4, 8, 11],
    "strategies": [5, 6, 12, 14, 16],
    "clarity": [1, 2],
}


def test_ders16_has_sixteen_items_scored_1_to_5() -> None:
    ders16 = _instrument("ders16")
    assert ders16.item_ids == _ids("ders16", range(1, 17))
    assert _answer_scale("ders16") == [
        (1, "Almost never (0-10%)"),
        (2, "Sometimes (11-35%)"),
        (3, "About half the time (36-65%)"),
        (4, "Most of the time (66-90%)"),
        (5, "Almost always (91-100%)"),
    ]


@pytest.mark.parametrize(("subscale", "numbers"), DERS16_SUBSCALES.items())
def test_ders16_subscale_membership(subscale: str, numbers: list[int]) -> None:
    scale = _instrument("ders16").scale(subscale)
    assert set(scale.items) == set(_ids("ders16", numbers))
    assert (scale.method, scale.reverse, scale.range) == ("sum", (), (len(numbers), 5 * len(numbers)))


def test_ders16_total_is_16_to_80_with_no_reverse_items_or_cut_offs() -> None:
    total = _instrument("ders16").scale("total")
    # Bjureberg 2016: awareness items dropped, so no reverse keys; no published cut-offs.
    assert (total.range, total.reverse, total.bands, total.caseness) == ((16, 80), (), (), None)


def test_ders16_all_about_half_the_time_scores_48() -> None:
    scores = _score("ders16", _same("ders16", 3))
    assert scores["total"] == 48
    assert scores["strategies"] == 15
    assert scores["clarity"] == 6


# ---------------------------------------------------------------------------------------------- FFMQ-15

# Baer et al. 2012 facets (FFMQ-39 items 6/11/15, 2/16/27, 8/34/38, 10/14/30, 19/29/33), numbered as on
# the 15-item form; reverse keys from the FFMQ-39 sheet: describing item 16 and all awareness and
# nonjudging items.
FFMQ15_FACETS = {
    "observing": ([1, 6, 11], []),
    "describing": ([2, 7, 12], [7]),
    "acting_with_awareness": ([3, 8, 13], [3, 8, 13]),
    "nonjudging": ([4, 9, 14], [4, 9, 14]),
    "nonreactivity": ([5, 10, 15], []),
}


def test_ffmq15_has_fifteen_items_scored_1_to_5() -> None:
    ffmq15 = _instrument("ffmq15")
    assert ffmq15.item_ids == _ids("ffmq15", range(1, 16))
    assert _answer_scale("ffmq15") == [
        (1, "Never or very rarely true"),
        (2, "Rarely true"),
        (3, "Sometimes true"),
        (4, "Often true"),
        (5, "Very often or always true"),
    ]


@pytest.mark.parametrize(("facet", "keys"), FFMQ15_FACETS.items())
def test_ffmq15_facet_items_and_reverse_keys(facet: str, keys: tuple[list[int], list[int]]) -> None:
    numbers, reverse = keys
    scale = _instrument("ffmq15").scale(facet)
    assert set(scale.items) == set(_ids("ffmq15", numbers))
    assert set(scale.reverse) == set(_ids("ffmq15", reverse))
    assert (scale.method, scale.range) == ("sum", (3, 15))


def test_ffmq15_total_reverses_seven_items() -> None:
    total = _instrument("ffmq15").scale("total")
    assert set(total.reverse) == set(_ids("ffmq15", [3, 4, 7, 8, 9, 13, 14]))
    assert total.range == (15, 75)


def test_ffmq15_all_fives_scores_47() -> None:
    # 8 forward items x 5 + 7 reversed items 5 -> 1.
    scores = _score("ffmq15", _same("ffmq15", 5))
    assert scores["total"] == 47
    assert scores["observing"] == 15
    assert scores["acting_with_awareness"] == 3
    assert scores["describing"] == 11


# -------------------------------------------------------------------------------------- risk items, all


@pytest.mark.parametrize("instrument_id", ["k10", "who5", "scs-sf", "maas", *LICENSED])
def test_instrument_without_a_self_harm_item_has_no_risk_rule(instrument_id: str) -> None:
    # Of this set only the CORE-10 asks about self-harm (item 6); none of the others has such an item.
    assert _instrument(instrument_id).risk_rules == ()
