"""Loading and validating instrument definitions.

Expected facts come from the sources, not from the code: PHQ-9 (Kroenke et al. 2001; LOINC 44249-1),
GAD-7 (Spitzer et al. 2006; LOINC 69737-5).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spacebetween.core import instruments as catalogue
from spacebetween.core.instruments import (
    CORE_DIR,
    LICENSED_DIR,
    InstrumentDefinitionError,
    UnknownInstrumentError,
    build_instrument,
    load_definition,
)

ALL_FILES = sorted(CORE_DIR.glob("*.json")) + sorted(LICENSED_DIR.glob("*.json"))


@pytest.fixture(autouse=True)
def _fresh_registry() -> Any:
    catalogue.clear_cache()
    yield
    catalogue.clear_cache()


def _write(tmp_path: Path, doc: dict[str, Any], name: str = "def.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _error(tmp_path: Path, doc: dict[str, Any]) -> InstrumentDefinitionError:
    path = _write(tmp_path, doc)
    with pytest.raises(InstrumentDefinitionError) as info:
        load_definition(path)
    assert info.value.file == str(path)
    assert str(path) in str(info.value)
    return info.value


# --- every shipped file ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_every_shipped_definition_loads(path: Path) -> None:
    inst = load_definition(path)
    assert inst.pack == path.parent.name


def test_core_registry_has_phq9_and_gad7() -> None:
    reg = catalogue.registry()
    assert {"phq9", "gad7"} <= set(reg)
    assert all(inst.pack == "core" for inst in reg.values())


# --- PHQ-9 facts ------------------------------------------------------------------------------------


def test_phq9_items_in_questionnaire_order_with_unscored_difficulty_item_last() -> None:
    phq = catalogue.get("phq9")
    assert phq.item_ids == tuple(f"phq9_{i}" for i in range(1, 11))
    assert phq.scored_item_ids == tuple(f"phq9_{i}" for i in range(1, 10))
    assert not phq.item("phq9_10").scored
    assert all("phq9_10" not in sc.items for sc in phq.scales)


def test_phq9_items_carry_loinc_codes_and_0_to_3_answers() -> None:
    phq = catalogue.get("phq9")
    # LOINC panel 44249-1 (https://loinc.org/44249-1), item order of the form.
    loinc = [
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
    ]
    assert [phq.item(f"phq9_{i}").code for i in range(1, 10)] == loinc
    item = phq.item("phq9_1")
    assert (item.min, item.max) == (0, 3)
    assert item.options == (
        (0, "LA6568-5", "Not at all"),
        (1, "LA6569-3", "Several days"),
        (2, "LA6570-1", "More than half the days"),
        (3, "LA6571-9", "Nearly every day"),
    )


def test_phq9_item_text_is_the_pfizer_wording() -> None:
    phq = catalogue.get("phq9")
    assert phq.item("phq9_1").text == "Little interest or pleasure in doing things"
    assert (
        phq.item("phq9_9").text
        == "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    assert phq.instructions == (
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?",
    )


def test_phq9_total_scale_matches_kroenke_2001() -> None:
    total = catalogue.get("phq9").scale("total")
    assert total.method == "sum" and total.reverse == ()
    assert total.range == (0, 27)
    assert [(b.min, b.max, b.label) for b in total.bands] == [
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 19, "moderately severe"),
        (20, 27, "severe"),
    ]
    assert total.caseness is not None
    assert (total.caseness.operator, total.caseness.cutoff) == (">=", 10)
    assert total.reliable_change is not None and total.reliable_change.rci == 6
    assert total.loinc == "44261-6"


def test_phq9_item_9_is_a_risk_item() -> None:
    (rule,) = catalogue.get("phq9").risk_rules
    assert (rule.item, rule.operator, rule.value) == ("phq9_9", ">", 0)


def test_gad7_item_2_keeps_its_loinc_answer_code_but_shows_validated_wording() -> None:
    gad = catalogue.get("gad7")
    option = gad.item("gad7_2").options[2]
    assert option == (2, "LA18938-3", "More than half the days")
    total = gad.scale("total")
    assert total.range == (0, 21)
    assert [(b.min, b.max) for b in total.bands] == [(0, 4), (5, 9), (10, 14), (15, 21)]
    assert total.caseness is not None and total.caseness.cutoff == 10
    assert [(a.operator, a.cutoff) for a in total.caseness.alternatives] == [(">=", 8)]
    assert gad.risk_rules == ()


# --- lookups ---------------------------------------------------------------------------------------


def test_get_unknown_id_names_the_known_ones() -> None:
    with pytest.raises(UnknownInstrumentError, match="no instrument 'nope'.*phq9"):
        catalogue.get("nope")


def test_licensed_instrument_needs_the_licensed_pack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, doc_factory: Callable[..., dict[str, Any]]
) -> None:
    doc = doc_factory()
    doc.update(id="lic", pack="licensed")
    doc["licence"].update({"class": "C", "terms": "Clinical and research use only."})
    licensed = tmp_path / "licensed"
    licensed.mkdir()
    _write(licensed, doc, "lic.json")
    monkeypatch.setattr(catalogue, "LICENSED_DIR", licensed)
    with pytest.raises(UnknownInstrumentError, match="licensed pack"):
        catalogue.get("lic")
    assert catalogue.get("lic", include_licensed=True).licence.licence_class == "C"


def test_extra_path_with_a_duplicate_id_is_refused(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    path = _write(tmp_path, phq9_doc)
    with pytest.raises(InstrumentDefinitionError, match="already defined") as info:
        catalogue.registry(extra_paths=[path])
    assert info.value.pointer == "/id"


def test_extra_path_is_added_to_the_registry(
    tmp_path: Path, doc_factory: Callable[..., dict[str, Any]]
) -> None:
    path = _write(tmp_path, doc_factory())
    assert "test" in catalogue.registry(extra_paths=[path])
    assert "test" not in catalogue.registry()


# --- refused files: each names file, JSON pointer and problem ---------------------------------------


def test_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"id": ', encoding="utf-8")
    with pytest.raises(InstrumentDefinitionError, match="not valid JSON") as info:
        load_definition(path)
    assert info.value.pointer == "/"


def test_missing_top_level_field(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    del phq9_doc["scoring"]
    err = _error(tmp_path, phq9_doc)
    assert err.pointer == "/" and "'scoring' is a required property" in err.problem


def test_non_numeric_ordinal_value(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    phq9_doc["questionnaire"]["item"][1]["answerOption"][0]["extension"][0]["valueDecimal"] = "0"
    err = _error(tmp_path, phq9_doc)
    assert err.pointer == "/questionnaire/item/1/answerOption/0/extension/0/valueDecimal"
    assert "not of type 'number'" in err.problem


def test_answer_option_without_ordinal_value(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    phq9_doc["questionnaire"]["item"][2]["answerOption"][3]["extension"] = []
    err = _error(tmp_path, phq9_doc)
    assert err.pointer == "/questionnaire/item/2/answerOption/3"
    assert "ordinalValue" in err.problem


def test_repeated_ordinal_value(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    phq9_doc["questionnaire"]["item"][1]["answerOption"][3]["extension"][0]["valueDecimal"] = 2
    err = _error(tmp_path, phq9_doc)
    assert err.pointer == "/questionnaire/item/1/answerOption/3"


def test_duplicate_link_id(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    phq9_doc["questionnaire"]["item"][2]["linkId"] = "phq9_1"
    err = _error(tmp_path, phq9_doc)
    assert err.pointer == "/questionnaire/item/2/linkId" and "repeats" in err.problem


def test_scale_item_not_in_questionnaire(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    phq9_doc["scoring"]["scales"][0]["items"][3] = "phq9_44"
    err = _error(tmp_path, phq9_doc)
    assert err.pointer == "/scoring/scales/0/items/3" and "phq9_44" in err.problem


def test_reverse_item_outside_the_scale(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    phq9_doc["scoring"]["scales"][0]["reverse"] = ["phq9_10"]
    err = _error(tmp_path, phq9_doc)
    assert err.pointer == "/scoring/scales/0/reverse/0"


def test_declared_range_must_match_the_items(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    phq9_doc["scoring"]["scales"][0]["range"] = [0, 30]
    err = _error(tmp_path, phq9_doc)
    assert err.pointer == "/scoring/scales/0/range" and "[0, 27]" in err.problem


def test_gap_between_bands(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    phq9_doc["scoring"]["scales"][0]["bands"][1]["min"] = 6
    err = _error(tmp_path, phq9_doc)
    assert err.pointer == "/scoring/scales/0/bands/1/min" and "gap" in err.problem


def test_overlapping_bands(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    phq9_doc["scoring"]["scales"][0]["bands"][2]["min"] = 9
    err = _error(tmp_path, phq9_doc)
    assert err.pointer == "/scoring/scales/0/bands/2/min" and "overlaps" in err.problem


def test_bands_must_reach_the_top_of_the_range(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    phq9_doc["scoring"]["scales"][0]["bands"][4]["max"] = 26
    err = _error(tmp_path, phq9_doc)
    assert err.pointer == "/scoring/scales/0/bands/4/max"


def test_bands_need_a_source(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    del phq9_doc["scoring"]["scales"][0]["bands_source"]
    err = _error(tmp_path, phq9_doc)
    assert err.pointer == "/scoring/scales/0/bands_source"


def test_caseness_outside_the_range(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    phq9_doc["scoring"]["scales"][0]["caseness"]["cutoff"] = 28
    err = _error(tmp_path, phq9_doc)
    assert err.pointer == "/scoring/scales/0/caseness/cutoff"


def test_sum_with_missing_items_must_prorate(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    phq9_doc["scoring"]["scales"][0]["missing"]["max_missing"] = 1
    err = _error(tmp_path, phq9_doc)
    assert err.pointer == "/scoring/scales/0/missing/prorate"


def test_misspelt_scale_field_is_refused(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    phq9_doc["scoring"]["scales"][0]["revrse"] = []
    err = _error(tmp_path, phq9_doc)
    assert err.pointer == "/scoring/scales/0" and "revrse" in err.problem


def test_risk_item_must_exist(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    phq9_doc["scoring"]["risk_items"][0]["item"] = "phq9_99"
    err = _error(tmp_path, phq9_doc)
    assert err.pointer == "/scoring/risk_items/0/item"


def test_risk_rule_that_can_never_fire(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    phq9_doc["scoring"]["risk_items"][0]["value"] = 3
    err = _error(tmp_path, phq9_doc)
    assert err.pointer == "/scoring/risk_items/0/value" and "no answer option" in err.problem


def test_core_pack_refuses_licence_class_c(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    phq9_doc["licence"]["class"] = "C"
    err = _error(tmp_path, phq9_doc)
    assert err.pointer == "/licence/class"


def test_licensed_pack_needs_terms(tmp_path: Path, phq9_doc: dict[str, Any]) -> None:
    phq9_doc["pack"] = "licensed"
    err = _error(tmp_path, phq9_doc)
    assert err.pointer == "/licence/terms"


# --- formats the other instruments need ---------------------------------------------------------


def test_mean_scale_with_two_decimal_bands_loads(doc_factory: Callable[..., dict[str, Any]]) -> None:
    # BRS-style: mean of 1-5 items, bands 1.00-2.99 / 3.00-4.30 / 4.31-5.00 (Smith et al. 2013).
    doc = doc_factory(
        n_items=6,
        reverse=["t_2", "t_4", "t_6"],
        bands=[(1, 2.99, "low"), (3, 4.30, "normal"), (4.31, 5, "high")],
    )
    inst = build_instrument(doc, "brs_like.json")
    assert inst.scale("total").range == (1, 5)
    assert inst.scale("total").reverse == ("t_2", "t_4", "t_6")


def test_multiplied_sum_range_includes_the_factor(doc_factory: Callable[..., dict[str, Any]]) -> None:
    # WHO-5-style: 5 items 0-5, raw 0-25, x4 -> 0-100.
    doc = doc_factory(n_items=5, values=(0, 1, 2, 3, 4, 5), method="sum", multiply=4, value_range=[0, 100])
    assert build_instrument(doc, "who5_like.json").scale("total").range == (0, 100)
    doc["scoring"]["scales"][0]["range"] = [0, 25]
    with pytest.raises(InstrumentDefinitionError, match=r"\[0, 100\]"):
        build_instrument(doc, "who5_like.json")


def test_ordinal_value_on_the_coding_is_accepted(phq9_doc: dict[str, Any]) -> None:
    for item in phq9_doc["questionnaire"]["item"]:
        for option in item.get("answerOption", []):
            option["valueCoding"]["extension"] = option.pop("extension")
    assert build_instrument(phq9_doc, "phq9.json").item("phq9_3").values == (0, 1, 2, 3)


def test_each_caseness_cut_off_says_its_purpose_and_source() -> None:
    # GAD-7: 10 for probable GAD (Spitzer et al. 2006), 8 for NHS Talking Therapies caseness (the Manual).
    gad = catalogue.get("gad7").scale("total").caseness
    assert gad is not None
    screening, counted = gad.for_purpose("screening"), gad.for_purpose("nhs_talking_therapies")
    assert screening is not None and counted is not None
    assert (screening.cutoff, counted.cutoff) == (10, 8)
    assert screening.describe() == "probable generalized anxiety disorder, ≥10 (Spitzer et al. 2006)"
    assert counted.describe() == "NHS Talking Therapies caseness, ≥8 (NHS Talking Therapies Manual)"
    # PHQ-9: one cut-off, 10, serves both.
    phq = catalogue.get("phq9").scale("total").caseness
    assert phq is not None and phq.for_purpose("screening") is phq.for_purpose("nhs_talking_therapies") is phq
    assert gad.for_purpose("no_such_purpose") is None


def test_one_cut_off_per_purpose(phq9_doc: dict[str, Any]) -> None:
    caseness = phq9_doc["scoring"]["scales"][0]["caseness"]
    caseness["alternatives"] = [
        {"cutoff": 12, "operator": ">=", "label": "other", "source": "test", "purposes": ["screening"]}
    ]
    with pytest.raises(InstrumentDefinitionError, match="one cut-off per purpose"):
        build_instrument(phq9_doc, "phq9.json")
