"""`spacebetween score` run the way a researcher runs it: a separate process, files on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADER_POSITIONAL = "id," + ",".join(f"item{i}" for i in range(1, 10))
HEADER_IDS = "id," + ",".join(f"phq9_{i}" for i in range(1, 11))
OUT_HEADER = "id,total_score,total_band,total_caseness,total_n_missing,total_prorated,risk_phq9_9"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "spacebetween.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write(tmp_path: Path, *lines: str, name: str = "answers.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_it_scores_positional_columns(tmp_path: Path) -> None:
    # Kroenke et al. 2001 bands; row a: 1+2+3+0+1+2+3+0+1 = 13 moderate; row b: 0 minimal.
    write(tmp_path, HEADER_POSITIONAL, "a,1,2,3,0,1,2,3,0,1", "b,0,0,0,0,0,0,0,0,0")
    proc = run("score", "phq9", "answers.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        OUT_HEADER,
        "a,13,moderate,True,0,False,True",
        "b,0,minimal,False,0,False,False",
    ]
    assert "1 row(s) with a risk flag" in proc.stderr


def test_it_scores_item_id_columns_as_json(tmp_path: Path) -> None:
    write(tmp_path, HEADER_IDS, "c1,3,3,3,3,3,3,2,0,0,2")
    proc = run("score", "phq9", "answers.csv", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["rows"] == [
        {
            "id": "c1",
            "total_score": 20.0,
            "total_band": "severe",
            "total_caseness": True,
            "total_n_missing": 0,
            "total_prorated": False,
            "risk_phq9_9": False,
        }
    ]
    assert doc["summary"]["rows"] == 1 and doc["summary"]["rows_with_risk_flag"] == 0


def test_it_writes_the_output_file(tmp_path: Path) -> None:
    write(tmp_path, HEADER_POSITIONAL, "a,1,1,1,1,1,1,1,1,1")
    proc = run("score", "phq9", "answers.csv", "--output", "scores.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert (tmp_path / "scores.csv").read_text(encoding="utf-8").splitlines() == [
        OUT_HEADER,
        "a,9,mild,False,0,False,True",
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            ["a,1,1,1,1,1,1,1,1,1", "b,1,1,4,1,1,1,1,1,1"],
            "row 3, column item3: respondent 'b': item phq9_3: value 4",
        ),
        (["a,1,1,1,1,1,x,1,1,1"], "row 2, column item6: 'x' is not a number"),
        (["a,1,1,1,1,1,1,1,1,0.5"], "row 2, column item9: respondent 'a': item phq9_9: value 0.5"),
        ([",1,1,1,1,1,1,1,1,1"], "row 2, column id: value is missing"),
    ],
)
def test_it_rejects_bad_cells_with_row_and_column(tmp_path: Path, rows: list[str], message: str) -> None:
    write(tmp_path, HEADER_POSITIONAL, *rows)
    proc = run("score", "phq9", "answers.csv", "--output", "scores.csv", cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert proc.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.csv"]


def test_too_many_missing_is_an_error_that_names_the_risk_flag(tmp_path: Path) -> None:
    write(tmp_path, HEADER_POSITIONAL, "a,1,,1,1,1,1,1,1,3")
    proc = run("score", "phq9", "answers.csv", "--output", "scores.csv", cwd=tmp_path)
    assert proc.returncode == 2
    assert "row 2, column item2: respondent 'a': scale total: 1 item(s) missing (phq9_2)" in proc.stderr
    assert "RISK FLAG RAISED: thoughts of death or self-harm" in proc.stderr
    assert not (tmp_path / "scores.csv").exists()


def test_allow_incomplete_leaves_the_score_blank_and_keeps_the_risk_flag(tmp_path: Path) -> None:
    write(tmp_path, HEADER_POSITIONAL, "a,1,,1,1,1,1,1,1,3")
    proc = run("score", "phq9", "answers.csv", "--allow-incomplete", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [OUT_HEADER, "a,,,,1,False,True"]


def test_it_keeps_an_existing_output_file_on_bad_input(tmp_path: Path) -> None:
    write(tmp_path, HEADER_POSITIONAL, "a,9,1,1,1,1,1,1,1,1")
    (tmp_path / "scores.csv").write_text("previous run\n", encoding="utf-8")
    proc = run("score", "phq9", "answers.csv", "--output", "scores.csv", cwd=tmp_path)
    assert proc.returncode == 2
    assert (tmp_path / "scores.csv").read_text(encoding="utf-8") == "previous run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.csv", "scores.csv"]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (HEADER_POSITIONAL + ",date", "unknown column(s) date"),
        ("id," + ",".join(f"item{i}" for i in range(1, 9)), "missing item column(s) item9"),
        ("id,item1,phq9_2", "mix item ids"),
        (",".join(f"item{i}" for i in range(1, 10)), "missing column id"),
        (HEADER_POSITIONAL + ",item11", "column item11: phq9 has only 10 items"),
    ],
)
def test_it_rejects_bad_headers(tmp_path: Path, header: str, message: str) -> None:
    write(tmp_path, header)
    proc = run("score", "phq9", "answers.csv", cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr


def test_unknown_instrument(tmp_path: Path) -> None:
    write(tmp_path, HEADER_POSITIONAL)
    proc = run("score", "phq10", "answers.csv", cwd=tmp_path)
    assert proc.returncode == 2
    assert "no instrument 'phq10'" in proc.stderr


def test_missing_file(tmp_path: Path) -> None:
    proc = run("score", "phq9", "nope.csv", cwd=tmp_path)
    assert proc.returncode == 2
    assert "nope.csv: no such file" in proc.stderr


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    proc = run("score", "phq9", cwd=tmp_path)
    assert proc.returncode == 2
    assert "usage:" in proc.stderr
