"""`spacebetween fhir` run the way a researcher runs it: the installed command, files on disk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire

from spacebetween.core import fhir
from spacebetween.core import instruments as catalogue

COMMAND = Path(sys.executable).parent / "spacebetween"  # .venv/bin/spacebetween
HEADER = "id," + ",".join(f"item{i}" for i in range(1, 10))
SCORES_HEADER = "id,total_score,total_band,total_caseness,total_n_missing,total_prorated,risk_phq9_9"
AUTHORED = "2024-05-01T09:30:00Z"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def write(tmp_path: Path, *lines: str, name: str = "answers.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def export(tmp_path: Path, *rows: str, instrument: str = "phq9", header: str = HEADER) -> dict[str, Any]:
    write(tmp_path, header, *rows)
    proc = run("fhir", "responses", instrument, "answers.csv", "--authored", AUTHORED, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def save(tmp_path: Path, doc: dict[str, Any], name: str = "bundle.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


# -------------------------------------------------------------------------------------------- questionnaire


def test_it_exports_a_questionnaire(tmp_path: Path) -> None:
    proc = run("fhir", "questionnaire", "phq9", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    Questionnaire.model_validate(doc)
    assert doc == fhir.questionnaire_resource(catalogue.get("phq9"))
    assert doc["url"] == "urn:spacebetween:questionnaire:phq9" and doc["version"] == "1.0.0"


def test_it_writes_the_questionnaire_to_a_file(tmp_path: Path) -> None:
    proc = run("fhir", "questionnaire", "gad7", "--output", "gad7.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert json.loads((tmp_path / "gad7.json").read_text(encoding="utf-8"))["id"] == "gad7"


def test_it_needs_include_licensed_for_a_licensed_questionnaire(tmp_path: Path) -> None:
    proc = run("fhir", "questionnaire", "pss10", cwd=tmp_path)
    assert proc.returncode == 2
    assert "licensed pack" in proc.stderr and proc.stdout == ""
    assert run("fhir", "questionnaire", "pss10", "--include-licensed", cwd=tmp_path).returncode == 0


def test_it_refuses_an_unknown_instrument(tmp_path: Path) -> None:
    proc = run("fhir", "questionnaire", "nope", cwd=tmp_path)
    assert proc.returncode == 2
    assert "no instrument 'nope'" in proc.stderr


# -------------------------------------------------------------------------------------------- responses


def test_it_exports_a_bundle_with_a_response_and_observations_per_row(tmp_path: Path) -> None:
    bundle = export(tmp_path, "a,1,2,3,0,1,2,3,0,1", "b,0,0,0,0,0,0,0,0,0")
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["QuestionnaireResponse", "Observation", "Observation"] * 2
    first = bundle["entry"][0]["resource"]
    assert first["identifier"]["value"] == "a"
    assert first["authored"] == "2024-05-01T09:30:00+00:00"
    # Kroenke et al. 2001: 13 is moderate; item 9 = 1 raises the risk flag.
    assert bundle["entry"][1]["resource"]["valueQuantity"]["value"] == 13
    assert bundle["entry"][2]["resource"]["valueBoolean"] is True
    assert bundle["entry"][5]["resource"]["valueBoolean"] is False


def test_export_then_import_gives_the_table_of_score(tmp_path: Path) -> None:
    rows = ("a,1,2,3,0,1,2,3,0,1", "b,0,0,0,0,0,0,0,0,0", "c_3,3,3,3,3,3,3,2,0,0")
    save(tmp_path, export(tmp_path, *rows))
    imported = run("fhir", "import", "bundle.json", cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    scored = run("score", "phq9", "answers.csv", cwd=tmp_path)
    assert imported.stdout == scored.stdout
    assert imported.stdout.splitlines()[0] == SCORES_HEADER
    assert "1 row(s) with a risk flag" in imported.stderr


def test_round_trip_of_a_licensed_instrument_with_subscales(tmp_path: Path) -> None:
    licensed = [i for i in catalogue.registry(include_licensed=True).values() if i.pack == "licensed"]
    instrument = max(licensed, key=lambda i: (len(i.scales), i.id))  # the one with the most subscales
    header = "id," + ",".join(instrument.item_ids)
    row = "w1," + ",".join(str(item.values[k % len(item.values)]) for k, item in enumerate(instrument.items))
    write(tmp_path, header, row)
    proc = run(
        "fhir",
        "responses",
        instrument.id,
        "answers.csv",
        "--authored",
        AUTHORED,
        "--include-licensed",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    save(tmp_path, json.loads(proc.stdout))
    imported = run("fhir", "import", "bundle.json", "--format", "json", "--include-licensed", cwd=tmp_path)
    scored = run(
        "score", instrument.id, "answers.csv", "--format", "json", "--include-licensed", cwd=tmp_path
    )
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout) == json.loads(scored.stdout)


def test_it_imports_a_single_questionnaire_response(tmp_path: Path) -> None:
    bundle = export(tmp_path, "a,1,1,1,1,1,1,1,1,0")
    save(tmp_path, bundle["entry"][0]["resource"], "response.json")
    proc = run("fhir", "import", "response.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [SCORES_HEADER, "a,8,mild,False,0,False,False"]


def test_incomplete_rows_need_allow_incomplete_both_ways(tmp_path: Path) -> None:
    write(tmp_path, HEADER, "a,1,1,1,1,,1,1,1,0")
    proc = run("fhir", "responses", "phq9", "answers.csv", "--authored", AUTHORED, cwd=tmp_path)
    assert proc.returncode == 2
    assert "row 2, column item5" in proc.stderr and "--allow-incomplete" in proc.stderr
    proc = run(
        "fhir", "responses", "phq9", "answers.csv", "--authored", AUTHORED, "--allow-incomplete", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    bundle = json.loads(proc.stdout)
    assert bundle["entry"][1]["resource"]["dataAbsentReason"]["coding"][0]["code"] == "not-performed"
    save(tmp_path, bundle)
    refused = run("fhir", "import", "bundle.json", cwd=tmp_path)
    assert refused.returncode == 2
    assert "Bundle.entry[0].resource" in refused.stderr and "--allow-incomplete" in refused.stderr
    allowed = run("fhir", "import", "bundle.json", "--allow-incomplete", cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.splitlines()[1] == "a,,,,1,False,False"


def test_it_refuses_a_value_that_is_not_an_answer_option(tmp_path: Path) -> None:
    write(tmp_path, HEADER, "a,1,1,1,1,1,1,1,1,0", "b,1,1,4,1,1,1,1,1,0")
    proc = run(
        "fhir",
        "responses",
        "phq9",
        "answers.csv",
        "--authored",
        AUTHORED,
        "--output",
        "out.json",
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "answers.csv: row 3, column item3" in proc.stderr
    assert not (tmp_path / "out.json").exists()


def test_it_refuses_authored_without_a_time_zone(tmp_path: Path) -> None:
    write(tmp_path, HEADER, "a,1,1,1,1,1,1,1,1,0")
    proc = run("fhir", "responses", "phq9", "answers.csv", "--authored", "2024-05-01T09:30:00", cwd=tmp_path)
    assert proc.returncode == 2
    assert "--authored" in proc.stderr and proc.stdout == ""


def test_it_refuses_an_unknown_column(tmp_path: Path) -> None:
    write(tmp_path, HEADER + ",mood", "a,1,1,1,1,1,1,1,1,0,5")
    proc = run("fhir", "responses", "phq9", "answers.csv", "--authored", AUTHORED, cwd=tmp_path)
    assert proc.returncode == 2
    assert "unknown column(s) mood" in proc.stderr


# ------------------------------------------------------------------------------------------------ import


def test_import_refuses_an_unknown_link_id_naming_the_entry(tmp_path: Path) -> None:
    bundle = export(tmp_path, "a,1,1,1,1,1,1,1,1,0", "b,1,1,1,1,1,1,1,1,0")
    bundle["entry"][3]["resource"]["item"][4]["linkId"] = "phq9_55"
    save(tmp_path, bundle)
    proc = run("fhir", "import", "bundle.json", "--output", "scores.csv", cwd=tmp_path)
    assert proc.returncode == 2
    assert (
        "bundle.json: Bundle.entry[3].resource.item[4].linkId: linkId 'phq9_55' is not an item of phq9"
        in proc.stderr
    )
    assert not (tmp_path / "scores.csv").exists()


def test_import_refuses_a_response_that_is_not_completed(tmp_path: Path) -> None:
    bundle = export(tmp_path, "a,1,1,1,1,1,1,1,1,0")
    bundle["entry"][0]["resource"]["status"] = "in-progress"
    save(tmp_path, bundle)
    proc = run("fhir", "import", "bundle.json", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Bundle.entry[0].resource.status: status 'in-progress'" in proc.stderr
    assert proc.stdout == ""


def test_import_refuses_a_code_outside_the_options(tmp_path: Path) -> None:
    bundle = export(tmp_path, "a,1,1,1,1,1,1,1,1,0")
    bundle["entry"][0]["resource"]["item"][0]["answer"][0]["valueCoding"]["code"] = "LA0000-0"
    save(tmp_path, bundle)
    proc = run("fhir", "import", "bundle.json", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Bundle.entry[0].resource.item[0].answer[0].valueCoding.code" in proc.stderr


def test_import_refuses_observations_that_disagree_with_the_answers(tmp_path: Path) -> None:
    bundle = export(tmp_path, "a,1,1,1,1,1,1,1,1,0")
    bundle["entry"][1]["resource"]["valueQuantity"]["value"] = 7
    save(tmp_path, bundle)
    proc = run("fhir", "import", "bundle.json", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Bundle.entry[1].resource.valueQuantity.value: 7, but the answers give 8" in proc.stderr


def test_import_refuses_two_instruments_in_one_bundle(tmp_path: Path) -> None:
    phq = export(tmp_path, "a,1,1,1,1,1,1,1,1,0")
    gad = export(
        tmp_path,
        "g,1,1,1,1,1,1,1",
        header="id," + ",".join(f"item{i}" for i in range(1, 8)),
        instrument="gad7",
    )
    phq["entry"] += gad["entry"]
    save(tmp_path, phq)
    proc = run("fhir", "import", "bundle.json", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Bundle.entry[3].resource.questionnaire" in proc.stderr and "import one at a time" in proc.stderr


def test_import_refuses_what_is_not_fhir_json(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    proc = run("fhir", "import", "bad.json", cwd=tmp_path)
    assert proc.returncode == 2
    assert "bad.json: Bundle: not valid JSON" in proc.stderr
    save(tmp_path, {"resourceType": "Patient"}, "patient.json")
    proc = run("fhir", "import", "patient.json", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Bundle.resourceType: expected Bundle or QuestionnaireResponse, not 'Patient'" in proc.stderr
    assert run("fhir", "import", "missing.json", cwd=tmp_path).returncode == 2


def test_import_refuses_a_bundle_without_responses(tmp_path: Path) -> None:
    bundle = export(tmp_path, "a,1,1,1,1,1,1,1,1,0")
    bundle["entry"] = [
        {"fullUrl": "urn:uuid:0f0c4c5e-1111-4111-8111-111111111111", "resource": {"resourceType": "Patient"}}
    ]
    save(tmp_path, bundle)
    proc = run("fhir", "import", "bundle.json", cwd=tmp_path)
    assert proc.returncode == 2
    assert "no QuestionnaireResponse to import" in proc.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("fhir", cwd=tmp_path).returncode == 2
    assert run("fhir", "import", "x.json", "--format", "xml", cwd=tmp_path).returncode == 2
