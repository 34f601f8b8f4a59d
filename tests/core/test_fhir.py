"""FHIR R4 out and back in (spacebetween.core.fhir).

Every resource the module produces is constructed again here with the fhir.resources R4B models, so a
test fails if the module's own validation were switched off. Round trips run over every shipped
instrument (core and licensed): answers -> QuestionnaireResponse -> answers must score exactly as the
original answers, and score -> Observations -> score must give the same scores back.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from hypothesis import given, settings
from hypothesis import strategies as st

from spacebetween.core import fhir
from spacebetween.core import instruments as catalogue
from spacebetween.core.instruments import ORDINAL_VALUE_URL, Instrument
from spacebetween.core.scoring import score_response
from tests.core.conftest import make_doc

ALL = catalogue.registry(include_licensed=True)
ALL_IDS = sorted(ALL)
CORE_IDS = sorted(catalogue.registry())
PHQ9 = catalogue.get("phq9")
CORE10 = catalogue.get("core10")
AUTHORED = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC)
MODELS: dict[str, type[FHIRAbstractModel]] = {
    "Questionnaire": Questionnaire,
    "QuestionnaireResponse": QuestionnaireResponse,
    "Observation": Observation,
    "Bundle": Bundle,
}


def construct(resource: dict[str, Any]) -> Any:
    """Independent check: the fhir.resources R4B model accepts the resource (raises otherwise)."""
    return MODELS[resource["resourceType"]].model_validate(resource)


def synthetic(instrument: Instrument, shift: int = 0) -> dict[str, int | float | None]:
    """A different answer option per item, walking through the options so every value gets used."""
    return {
        item.id: item.options[(k + shift) % len(item.options)].value
        for k, item in enumerate(instrument.items)
    }


def everything(instrument: Instrument, answers: dict[str, int | float | None]) -> dict[str, Any]:
    return {i: answers.get(i) for i in instrument.item_ids}


def qr_for(
    instrument: Instrument, answers: Mapping[str, int | float | None], rid: str = "r1"
) -> dict[str, Any]:
    return fhir.questionnaire_response(instrument, answers, response_id=rid, authored=AUTHORED)


def phq9_answers(**overrides: int | None) -> dict[str, int | float | None]:
    answers: dict[str, int | float | None] = {f"phq9_{i}": 1 for i in range(1, 10)}
    answers.update(overrides)
    return answers


def refused(call: Any, *args: Any, **kwargs: Any) -> fhir.FhirError:
    with pytest.raises(fhir.FhirError) as info:
        call(*args, **kwargs)
    return info.value


# ------------------------------------------------------------------------------------------ questionnaire


@pytest.mark.parametrize("instrument_id", ALL_IDS)
def test_questionnaire_of_every_instrument_is_valid_r4_with_its_canonical(instrument_id: str) -> None:
    instrument = ALL[instrument_id]
    q = fhir.questionnaire_resource(instrument)
    construct(q)
    source = instrument.definition["questionnaire"]
    assert q["url"] == f"urn:spacebetween:questionnaire:{instrument_id}"
    assert q["version"] == instrument.version
    assert q["status"] == source["status"] == "active"
    assert q.get("code") == source.get("code")
    assert q["item"] == source["item"]  # verbatim item text and answer options


def test_questionnaire_keeps_the_loinc_panel_code() -> None:
    q = fhir.questionnaire_resource(PHQ9)
    assert q["code"] == [
        {
            "system": "http://loinc.org",
            "code": "44249-1",
            "display": "PHQ-9 quick depression assessment panel",
        }
    ]


def test_questionnaire_export_leaves_the_catalogue_untouched() -> None:
    q = fhir.questionnaire_resource(PHQ9)
    q["item"][1]["text"] = "changed"
    assert (
        PHQ9.definition["questionnaire"]["item"][1]["text"] == "Little interest or pleasure in doing things"
    )
    assert "url" not in PHQ9.definition["questionnaire"]


# -------------------------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("shift", [0, 1, 2, 3])
@pytest.mark.parametrize("instrument_id", ALL_IDS)
def test_every_instrument_round_trips_answers_and_scores(instrument_id: str, shift: int) -> None:
    instrument = ALL[instrument_id]
    answers = synthetic(instrument, shift)
    qr = qr_for(instrument, answers)
    construct(qr)
    assert qr["questionnaire"] == f"urn:spacebetween:questionnaire:{instrument_id}|{instrument.version}"
    assert qr["status"] == "completed"

    parsed = fhir.parse_questionnaire_response(json.dumps(qr), include_licensed=True)
    assert parsed.instrument is instrument
    assert parsed.answers == everything(instrument, answers)
    original = score_response(instrument, answers, "r1")
    assert score_response(instrument, parsed.answers, "r1") == original

    observations = fhir.score_observations(instrument, original, response_id="r1", effective=AUTHORED)
    for obs in observations:
        construct(obs)
    assert len(observations) == len(instrument.scales) + len(instrument.risk_rules)
    back = fhir.parse_observations([json.dumps(o) for o in observations], include_licensed=True)
    assert back == {"r1": original}


def test_the_round_trips_cover_the_core_and_the_licensed_pack() -> None:
    assert {"phq9", "gad7", "core10"} <= set(CORE_IDS) < set(ALL_IDS)


def test_answer_carries_the_option_coding_and_its_ordinal_value() -> None:
    qr = qr_for(PHQ9, phq9_answers(phq9_3=2))
    item = next(i for i in qr["item"] if i["linkId"] == "phq9_3")
    assert item["text"] == "Trouble falling or staying asleep, or sleeping too much"
    assert item["answer"] == [
        {
            "valueCoding": {
                "system": "http://loinc.org",
                "code": "LA6570-1",
                "display": "More than half the days",
                "extension": [{"url": ORDINAL_VALUE_URL, "valueDecimal": 2}],
            }
        }
    ]


def test_unanswered_items_are_left_out_and_read_back_as_none() -> None:
    answers = phq9_answers(phq9_4=None)
    qr = qr_for(PHQ9, answers)
    assert [i["linkId"] for i in qr["item"]] == [f"phq9_{i}" for i in (1, 2, 3, 5, 6, 7, 8, 9)]
    parsed = fhir.parse_questionnaire_response(qr)
    assert parsed.answers["phq9_4"] is None and parsed.answers["phq9_10"] is None


def test_prorated_core10_round_trips_with_its_flag() -> None:
    # One item missing is allowed and prorated (Barkham et al. 2013); the flag must survive.
    answers = synthetic(CORE10)
    answers["core10_3"] = None
    score = score_response(CORE10, answers, "c1")
    assert score.scales["total"].prorated
    parsed = fhir.parse_questionnaire_response(qr_for(CORE10, answers, "c1"))
    assert score_response(CORE10, parsed.answers, "c1") == score
    observations = fhir.score_observations(CORE10, score, response_id="c1", effective=AUTHORED)
    total = observations[0]
    assert {
        "code": {
            "coding": [
                {
                    "system": fhir.DETAILS_SYSTEM,
                    "code": "prorated",
                    "display": fhir._DETAIL_DISPLAY["prorated"],
                }
            ]
        },
        "valueBoolean": True,
    } in total["component"]
    assert fhir.parse_observations(observations) == {"c1": score}


def test_unscorable_scale_has_a_data_absent_reason_and_round_trips() -> None:
    score = score_response(PHQ9, phq9_answers(phq9_1=None, phq9_2=None), "p1", incomplete="nan")
    total, risk = fhir.score_observations(PHQ9, score, response_id="p1", effective=AUTHORED)
    construct(total)
    assert "valueQuantity" not in total and "interpretation" not in total
    assert total["dataAbsentReason"]["coding"][0]["code"] == "not-performed"
    assert risk["valueBoolean"] is True  # item 9 = 1 still raises its flag
    assert fhir.parse_observations([total, risk]) == {"p1": score}


def test_scale_observation_codes_value_band_and_caseness() -> None:
    # 1 x 9 = 9: mild, below the caseness cut-off of 10 (Kroenke et al. 2001).
    score = score_response(PHQ9, phq9_answers(), "p1")
    total = fhir.score_observations(
        PHQ9, score, response_id="p1", subject_reference="Patient/7", effective=AUTHORED
    )[0]
    assert total["category"][0]["coding"][0]["code"] == "survey"
    assert total["code"]["coding"] == [
        {"system": "http://loinc.org", "code": "44261-6"},
        {
            "system": "urn:spacebetween:codesystem:phq9-scales",
            "version": "1.0.0",
            "code": "total",
            "display": "PHQ-9 total",
        },
    ]
    assert total["valueQuantity"] == {
        "value": 9,
        "unit": "{score}",
        "system": "http://unitsofmeasure.org",
        "code": "{score}",
    }
    assert total["interpretation"][0]["coding"][0]["code"] == "total/mild"
    assert total["component"][0]["code"]["coding"][0]["code"] == "caseness"
    assert total["component"][0]["valueBoolean"] is False
    assert total["subject"] == {"reference": "Patient/7"}
    assert total["effectiveDateTime"] == "2024-05-01T09:30:00+00:00"
    assert total["derivedFrom"][0]["reference"] == "QuestionnaireResponse/p1"


def test_scale_without_loinc_uses_only_the_project_code() -> None:
    score = score_response(CORE10, synthetic(CORE10), "c1")
    total = fhir.score_observations(CORE10, score, response_id="c1", effective=AUTHORED)[0]
    assert total["code"]["coding"] == [
        {
            "system": "urn:spacebetween:codesystem:core10-scales",
            "version": "1.0.0",
            "code": "total",
            "display": CORE10.scale("total").title,
        }
    ]


def test_risk_flag_is_its_own_observation() -> None:
    fired = score_response(PHQ9, phq9_answers(phq9_9=2), "p1")
    risk = fhir.score_observations(PHQ9, fired, response_id="p1", effective=AUTHORED)[-1]
    assert risk["code"]["coding"][0]["system"] == "urn:spacebetween:codesystem:phq9-risk"
    assert risk["code"]["coding"][0]["code"] == "phq9_9"
    assert risk["valueBoolean"] is True
    quiet = score_response(PHQ9, phq9_answers(phq9_9=0), "p1")
    assert (
        fhir.score_observations(PHQ9, quiet, response_id="p1", effective=AUTHORED)[-1]["valueBoolean"]
        is False
    )


def test_unanswered_risk_item_is_unknown_not_false() -> None:
    score = score_response(PHQ9, phq9_answers(phq9_9=None), "p1", incomplete="nan")
    risk = fhir.score_observations(PHQ9, score, response_id="p1", effective=AUTHORED)[-1]
    construct(risk)
    assert "valueBoolean" not in risk
    assert risk["dataAbsentReason"]["coding"][0]["code"] == "unknown"
    assert fhir.parse_observations(
        [o for o in fhir.score_observations(PHQ9, score, response_id="p1", effective=AUTHORED)]
    )["p1"].risk == {"phq9_9": None}


def test_response_id_that_is_not_a_fhir_id_survives_in_the_identifier() -> None:
    qr = qr_for(PHQ9, phq9_answers(), rid="client 7_b")
    construct(qr)
    assert qr["id"] != "client 7_b"
    assert qr["identifier"] == {"system": fhir.RESPONSE_ID_SYSTEM, "value": "client 7_b"}
    assert fhir.parse_questionnaire_response(qr).response_id == "client 7_b"
    score = score_response(PHQ9, phq9_answers(), "client 7_b")
    observations = fhir.score_observations(PHQ9, score, response_id="client 7_b", effective=AUTHORED)
    assert observations[0]["derivedFrom"][0]["reference"] == f"QuestionnaireResponse/{qr['id']}"
    assert fhir.parse_observations(observations) == {"client 7_b": score}


@pytest.mark.parametrize("blank", ["", " ", "\xa0", "\t\n"])
def test_a_response_id_with_no_visible_character_is_refused(blank: str) -> None:
    # FHIR's string needs a character that is not white space: a blank id would export an invalid
    # resource (found by the round-trip property test below with a no-break space).
    score = score_response(PHQ9, phq9_answers(), "p1")
    with pytest.raises(fhir.FhirError, match="visible character"):
        fhir.questionnaire_response(PHQ9, phq9_answers(), response_id=blank, authored=AUTHORED)
    with pytest.raises(fhir.FhirError, match="visible character"):
        fhir.score_observations(PHQ9, score, response_id=blank, effective=AUTHORED)


def test_the_same_input_gives_the_same_resources() -> None:
    score = score_response(PHQ9, phq9_answers(), "p1")
    assert qr_for(PHQ9, phq9_answers(), "p1") == qr_for(PHQ9, phq9_answers(), "p1")
    first = fhir.score_observations(PHQ9, score, response_id="p1", effective=AUTHORED)
    assert first == fhir.score_observations(PHQ9, score, response_id="p1", effective=AUTHORED)
    assert len({o["id"] for o in first}) == len(first)


def test_bundle_references_point_at_the_response_entry() -> None:
    score = score_response(PHQ9, phq9_answers(phq9_9=1), "p1")
    qr = qr_for(PHQ9, phq9_answers(phq9_9=1), "p1")
    observations = fhir.score_observations(PHQ9, score, response_id="p1", effective=AUTHORED)
    bundle = fhir.collection_bundle([qr, *observations])
    construct(bundle)
    assert bundle["type"] == "collection"
    qr_url = bundle["entry"][0]["fullUrl"]
    assert qr_url.startswith("urn:uuid:")
    assert all(e["resource"]["derivedFrom"][0]["reference"] == qr_url for e in bundle["entry"][1:])
    assert observations[0]["derivedFrom"][0]["reference"] == "QuestionnaireResponse/p1"  # inputs not changed
    parsed = fhir.parse_bundle(json.dumps(bundle))
    assert [r.response_id for r in parsed.responses] == ["p1"]
    assert parsed.observed == {"p1": score}
    fhir.check_observed_scores(parsed, {"p1": score})


def test_bundle_observation_found_by_reference_alone() -> None:
    score = score_response(PHQ9, phq9_answers(), "p1")
    bundle = fhir.collection_bundle(
        [
            qr_for(PHQ9, phq9_answers(), "p1"),
            *fhir.score_observations(PHQ9, score, response_id="p1", effective=AUTHORED),
        ]
    )
    for entry in bundle["entry"][1:]:
        del entry["resource"]["derivedFrom"][0]["identifier"]
    assert fhir.parse_bundle(bundle).observed == {"p1": score}


def test_nested_groups_round_trip(tmp_path: Path) -> None:
    # Shipped definitions have no groups yet; the loader allows them, so responses must nest as R4 asks.
    doc = make_doc(n_items=3, values=(0, 1, 2), method="sum")
    doc["id"] = "grouped"
    display, *choices = doc["questionnaire"]["item"]
    doc["questionnaire"]["item"] = [
        display,
        {"linkId": "g1", "type": "group", "text": "Part 1", "item": choices},
    ]
    path = tmp_path / "grouped.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    instrument = catalogue.get("grouped", extra_paths=[path])
    answers = {"t_1": 2, "t_2": None, "t_3": 0}
    qr = qr_for(instrument, answers)
    construct(qr)
    assert qr["item"] == [
        {"linkId": "g1", "text": "Part 1", "item": [qr["item"][0]["item"][0], qr["item"][0]["item"][1]]}
    ]
    assert [i["linkId"] for i in qr["item"][0]["item"]] == ["t_1", "t_3"]
    parsed = fhir.parse_questionnaire_response(qr, extra_paths=[path])
    assert parsed.answers == answers


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_random_valid_answers_round_trip(data: st.DataObject) -> None:
    instrument = ALL[data.draw(st.sampled_from(ALL_IDS))]
    answers = {
        item.id: data.draw(st.one_of(st.none(), st.sampled_from(item.values)), label=item.id)
        for item in instrument.items
    }
    rid = data.draw(st.text(min_size=1, max_size=20).filter(str.strip), label="response id")
    qr = qr_for(instrument, answers, rid)
    construct(qr)
    parsed = fhir.parse_questionnaire_response(json.dumps(qr), include_licensed=True)
    assert (parsed.instrument.id, parsed.response_id, parsed.answers) == (instrument.id, rid, answers)
    original = score_response(instrument, answers, rid, incomplete="nan")
    assert score_response(instrument, parsed.answers, rid, incomplete="nan") == original
    observations = fhir.score_observations(instrument, original, response_id=rid, effective=AUTHORED)
    for obs in observations:
        construct(obs)
    assert fhir.parse_observations(observations, include_licensed=True) == {rid: original}


# ------------------------------------------------------------------------------------- refused on import


def test_it_refuses_a_status_that_is_not_final() -> None:
    qr = qr_for(PHQ9, phq9_answers()) | {"status": "in-progress"}
    err = refused(fhir.parse_questionnaire_response, qr)
    assert err.field == "QuestionnaireResponse.status"
    assert err.problem == fhir.STATUS_NOT_SCORABLE.format(status="in-progress", allowed="completed, amended")


def test_it_refuses_a_status_of_the_wrong_type() -> None:
    err = refused(fhir.parse_questionnaire_response, qr_for(PHQ9, phq9_answers()) | {"status": 5})
    assert err.field == "QuestionnaireResponse.status"
    assert err.problem.startswith("not a valid FHIR QuestionnaireResponse (fhir.resources R4B (4.3.0))")


def test_it_refuses_an_unknown_link_id() -> None:
    qr = qr_for(PHQ9, phq9_answers())
    qr["item"][2]["linkId"] = "phq9_99"
    err = refused(fhir.parse_questionnaire_response, qr)
    assert err.field == "QuestionnaireResponse.item[2].linkId"
    assert err.problem == fhir.UNKNOWN_LINK_ID.format(link_id="phq9_99", instrument="phq9")


def test_it_refuses_a_code_that_is_not_an_answer_option() -> None:
    qr = qr_for(PHQ9, phq9_answers())
    qr["item"][4]["answer"][0]["valueCoding"]["code"] = "LA6572-7"  # an option of item 10, not item 5
    err = refused(fhir.parse_questionnaire_response, qr)
    assert err.field == "QuestionnaireResponse.item[4].answer[0].valueCoding.code"
    assert err.problem.startswith(
        "'LA6572-7' is not an answer option of 'phq9_5' (options: LA6568-5 (Not at all)"
    )


def test_it_refuses_a_code_from_another_system() -> None:
    qr = qr_for(PHQ9, phq9_answers())
    qr["item"][0]["answer"][0]["valueCoding"]["system"] = "http://snomed.info/sct"
    err = refused(fhir.parse_questionnaire_response, qr)
    assert err.field == "QuestionnaireResponse.item[0].answer[0].valueCoding.system"


def test_it_refuses_an_ordinal_value_that_disagrees_with_the_option() -> None:
    qr = qr_for(PHQ9, phq9_answers())
    qr["item"][0]["answer"][0]["valueCoding"]["extension"][0]["valueDecimal"] = 3
    err = refused(fhir.parse_questionnaire_response, qr)
    assert err.field == "QuestionnaireResponse.item[0].answer[0].valueCoding.extension[0].valueDecimal"
    assert err.problem == fhir.ORDINAL_DISAGREES.format(
        found="3", expected="1", code="LA6569-3", link_id="phq9_1"
    )


def test_it_refuses_a_number_instead_of_a_coding() -> None:
    qr = qr_for(PHQ9, phq9_answers())
    qr["item"][0]["answer"] = [{"valueInteger": 1}]
    err = refused(fhir.parse_questionnaire_response, qr)
    assert err.field == "QuestionnaireResponse.item[0].answer[0]"
    assert err.problem == fhir.NOT_CODING.format(link_id="phq9_1", found="valueInteger")


def test_it_refuses_two_answers_to_one_item() -> None:
    qr = qr_for(PHQ9, phq9_answers())
    qr["item"][0]["answer"] *= 2
    err = refused(fhir.parse_questionnaire_response, qr)
    assert err.field == "QuestionnaireResponse.item[0].answer"


def test_it_refuses_the_same_item_answered_twice() -> None:
    qr = qr_for(PHQ9, phq9_answers())
    qr["item"].append(copy.deepcopy(qr["item"][0]))
    err = refused(fhir.parse_questionnaire_response, qr)
    assert err.field == "QuestionnaireResponse.item[9].linkId"


def test_it_refuses_an_answer_to_a_display_item() -> None:
    qr = qr_for(PHQ9, phq9_answers())
    qr["item"].insert(0, {"linkId": "phq9_instructions", "answer": [{"valueString": "ok"}]})
    err = refused(fhir.parse_questionnaire_response, qr)
    assert err.field == "QuestionnaireResponse.item[0].answer"


@pytest.mark.parametrize(
    ("questionnaire", "problem"),
    [
        ("http://example.org/Questionnaire/phq9|1.0.0", "is not a Space Between questionnaire"),
        ("urn:spacebetween:questionnaire:phq99|1.0.0", "no instrument 'phq99'"),
        (
            "urn:spacebetween:questionnaire:phq9",
            "names no version; expected 'urn:spacebetween:questionnaire:phq9|1.0.0'",
        ),
        ("urn:spacebetween:questionnaire:phq9|2.0.0", "phq9 version '2.0.0' is not loaded"),
        ("urn:spacebetween:questionnaire:pss10|1.0.0", "is in the licensed pack"),
    ],
)
def test_it_refuses_an_unknown_questionnaire(questionnaire: str, problem: str) -> None:
    qr = qr_for(PHQ9, phq9_answers()) | {"questionnaire": questionnaire}
    err = refused(fhir.parse_questionnaire_response, qr)
    assert err.field == "QuestionnaireResponse.questionnaire"
    assert problem in err.problem


def test_it_refuses_unknown_fields_and_bad_json() -> None:
    err = refused(fhir.parse_questionnaire_response, qr_for(PHQ9, phq9_answers()) | {"answerz": []})
    assert err.field == "QuestionnaireResponse.answerz"
    err = refused(fhir.parse_questionnaire_response, '{"resourceType": ')
    assert err.field == "QuestionnaireResponse" and err.problem.startswith("not valid JSON")
    err = refused(fhir.parse_questionnaire_response, {"resourceType": "Observation"})
    assert err.field == "QuestionnaireResponse.resourceType"


def test_observation_without_our_code_is_refused() -> None:
    score = score_response(PHQ9, phq9_answers(), "p1")
    total = fhir.score_observations(PHQ9, score, response_id="p1", effective=AUTHORED)[0]
    total["code"]["coding"] = total["code"]["coding"][:1]  # LOINC alone does not say which definition version
    err = refused(fhir.parse_observations, [total])
    assert err.field == "Observation[0].code"
    assert err.problem == fhir.NOT_OUR_OBSERVATION


def test_observation_without_definition_version_is_refused() -> None:
    score = score_response(PHQ9, phq9_answers(), "p1")
    total = fhir.score_observations(PHQ9, score, response_id="p1", effective=AUTHORED)[0]
    del total["code"]["coding"][1]["version"]
    err = refused(fhir.parse_observations, [total])
    assert err.field == "Observation[0].code.coding[1].version"


def test_observation_with_a_band_of_another_scale_is_refused() -> None:
    score = score_response(PHQ9, phq9_answers(), "p1")
    total = fhir.score_observations(PHQ9, score, response_id="p1", effective=AUTHORED)[0]
    total["interpretation"][0]["coding"][0]["code"] = "total/catastrophic"
    err = refused(fhir.parse_observations, [total])
    assert err.field == "Observation[0].interpretation[0].coding[0].code"


def test_observation_with_value_and_absent_reason_is_refused() -> None:
    score = score_response(PHQ9, phq9_answers(), "p1")
    total = fhir.score_observations(PHQ9, score, response_id="p1", effective=AUTHORED)[0]
    total["dataAbsentReason"] = {"text": "?"}
    err = refused(fhir.parse_observations, [total])
    assert err.field == "Observation[0].dataAbsentReason"


def test_incomplete_or_repeated_observation_sets_are_refused() -> None:
    score = score_response(PHQ9, phq9_answers(), "p1")
    total, risk = fhir.score_observations(PHQ9, score, response_id="p1", effective=AUTHORED)
    err = refused(fhir.parse_observations, [total])
    assert err.problem == fhir.MISSING_OBSERVATION.format(
        response_id="p1", code="urn:spacebetween:codesystem:phq9-risk|phq9_9"
    )
    err = refused(fhir.parse_observations, [total, risk, total])
    assert err.field == "Observation[2].code"


def test_preliminary_observation_is_refused() -> None:
    score = score_response(PHQ9, phq9_answers(), "p1")
    total = fhir.score_observations(PHQ9, score, response_id="p1", effective=AUTHORED)[0] | {
        "status": "preliminary"
    }
    assert refused(fhir.parse_observations, [total]).field == "Observation[0].status"


def test_bundle_observation_that_disagrees_with_the_answers_is_refused() -> None:
    score = score_response(PHQ9, phq9_answers(), "p1")
    bundle = fhir.collection_bundle(
        [
            qr_for(PHQ9, phq9_answers(), "p1"),
            *fhir.score_observations(PHQ9, score, response_id="p1", effective=AUTHORED),
        ]
    )
    bundle["entry"][2]["resource"]["valueBoolean"] = False  # item 9 = 1 fires the risk rule
    parsed = fhir.parse_bundle(bundle)
    err = refused(fhir.check_observed_scores, parsed, {"p1": score})
    assert err.field == "Bundle.entry[2].resource.valueBoolean"
    assert err.problem == fhir.SCORE_DIFFERS.format(found="False", expected="True")


def test_bundle_errors_name_the_entry() -> None:
    qr = qr_for(PHQ9, phq9_answers(), "p1")
    qr["item"][1]["linkId"] = "nope"
    bundle = fhir.collection_bundle([qr_for(PHQ9, phq9_answers(), "p0"), qr])
    err = refused(fhir.parse_bundle, bundle)
    assert err.field == "Bundle.entry[1].resource.item[1].linkId"


def test_bundle_with_observations_of_an_absent_response_is_refused() -> None:
    score = score_response(PHQ9, phq9_answers(), "p1")
    bundle = fhir.collection_bundle(
        [
            qr_for(PHQ9, phq9_answers(), "p0"),
            *fhir.score_observations(PHQ9, score, response_id="p1", effective=AUTHORED),
        ]
    )
    err = refused(fhir.parse_bundle, bundle)
    assert err.field == "Bundle.entry[1].resource.derivedFrom"


def test_bundle_with_a_response_twice_is_refused() -> None:
    qr = qr_for(PHQ9, phq9_answers(), "p1")
    bundle = fhir.collection_bundle([qr, qr | {"id": "other"}])
    assert refused(fhir.parse_bundle, bundle).field == "Bundle.entry[1].resource.identifier"


def test_other_resources_in_a_bundle_are_counted_not_read() -> None:
    bundle = fhir.collection_bundle([qr_for(PHQ9, phq9_answers(), "p1")])
    bundle["entry"].append(
        {
            "fullUrl": "urn:uuid:1d3c1c3e-0000-4000-8000-000000000000",
            "resource": {"resourceType": "Patient", "id": "x"},
        }
    )
    assert fhir.parse_bundle(bundle).ignored == {"Patient": 1}


# ------------------------------------------------------------------------------------- refused on export


def test_export_refuses_naive_datetimes() -> None:
    err = refused(
        fhir.questionnaire_response,
        PHQ9,
        phq9_answers(),
        response_id="p1",
        authored=dt.datetime(2024, 5, 1, 9),
    )
    assert err.field == "authored"
    score = score_response(PHQ9, phq9_answers(), "p1")
    err = refused(
        fhir.score_observations, PHQ9, score, response_id="p1", effective=dt.datetime(2024, 5, 1, 9)
    )
    assert err.field == "effective"


def test_export_refuses_unknown_items_and_values_outside_the_options() -> None:
    err = refused(qr_for, PHQ9, {"phq9_11": 1})
    assert err.field == "answers['phq9_11']"
    err = refused(qr_for, PHQ9, phq9_answers(phq9_1=4))
    assert err.field == "answers['phq9_1']"
    assert err.problem == fhir.NOT_AN_OPTION.format(value=4, item="phq9_1", options="0, 1, 2, 3")
    assert refused(qr_for, PHQ9, {"phq9_1": True}).field == "answers['phq9_1']"


def test_export_refuses_a_score_of_another_instrument() -> None:
    score = score_response(PHQ9, phq9_answers(), "p1")
    err = refused(fhir.score_observations, CORE10, score, response_id="p1", effective=AUTHORED)
    assert err.field == "score"


def test_score_differences_names_every_field_that_differs() -> None:
    want = score_response(PHQ9, phq9_answers(phq9_9=1), "p1")  # 9: mild, not a case, flag raised
    other = score_response(PHQ9, phq9_answers(phq9_1=3, phq9_2=3, phq9_9=0), "p1")  # 12: moderate, a case
    assert [(kind, key, field) for kind, key, field, _ in fhir.score_differences(want, want)] == []
    assert [(kind, key, field) for kind, key, field, _ in fhir.score_differences(want, other)] == [
        ("scale", "total", "valueQuantity.value"),
        ("scale", "total", "interpretation"),
        ("scale", "total", "component[caseness].valueBoolean"),
        ("risk", "phq9_9", "valueBoolean"),
    ]


def test_collection_bundle_refuses_an_invalid_resource() -> None:
    qr = qr_for(PHQ9, phq9_answers(), "p1")
    bad = qr | {"authored": "yesterday"}
    err = refused(fhir.collection_bundle, [qr, bad])
    assert err.field == "resources[1].authored"


def test_bundle_entry_resource_must_be_an_object() -> None:
    bundle = fhir.collection_bundle([qr_for(PHQ9, phq9_answers(), "p1")])
    bundle["entry"].append({"resource": "QuestionnaireResponse"})
    assert refused(fhir.parse_bundle, bundle).field == "Bundle.entry[1].resource"


def test_bundle_observation_is_validated_on_its_own() -> None:
    score = score_response(PHQ9, phq9_answers(), "p1")
    bundle = fhir.collection_bundle(
        [
            qr_for(PHQ9, phq9_answers(), "p1"),
            *fhir.score_observations(PHQ9, score, response_id="p1", effective=AUTHORED),
        ]
    )
    bundle["entry"][1]["resource"]["valueQuantity"]["value"] = "thirteen"
    err = refused(fhir.parse_bundle, bundle)
    assert err.field == "Bundle.entry[1].resource.valueQuantity.value"
