"""`spacebetween instruments list|show` run as a separate process."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "spacebetween.cli", "instruments", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_list_as_csv() -> None:
    proc = run("list")
    assert proc.returncode == 0, proc.stderr
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(proc.stdout))}
    assert rows["phq9"] == {
        "id": "phq9",
        "title": "Patient Health Questionnaire-9 (PHQ-9)",
        "version": "1.0.0",
        "language": "en",
        "pack": "core",
        "items": "9",
        "licence": "A",
    }
    assert rows["gad7"]["items"] == "7"
    assert all(r["pack"] == "core" for r in rows.values())


def test_list_as_json() -> None:
    proc = run("list", "--format", "json", "--include-licensed")
    assert proc.returncode == 0, proc.stderr
    ids = [r["id"] for r in json.loads(proc.stdout)["rows"]]
    assert {"phq9", "gad7"} <= set(ids)
    assert ids == sorted(ids)


def test_show_prints_items_bands_and_risk_rule() -> None:
    proc = run("show", "phq9")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert (
        "9. phq9_9 [44260-8]: Thoughts that you would be better off dead or of hurting yourself in some way"
        in out
    )
    assert "bands: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe, 20-27 severe" in out
    assert "caseness: score >= 10" in out
    assert "phq9_9 > 0: thoughts of death or self-harm" in out
    assert "(not scored)" in out


def test_show_as_json_is_the_definition() -> None:
    proc = run("show", "gad7", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["id"] == "gad7" and doc["questionnaire"]["resourceType"] == "Questionnaire"


def test_show_unknown_id_exits_2() -> None:
    proc = run("show", "nope")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "spacebetween: error: no instrument 'nope'" in proc.stderr


def test_missing_subcommand_exits_2() -> None:
    proc = run()
    assert proc.returncode == 2
    assert "usage:" in proc.stderr


def test_console_script() -> None:
    script = Path(sys.executable).parent / "spacebetween"
    if not script.exists():
        script = Path(shutil.which("spacebetween") or "")
    if not script.is_file():
        pytest.skip("the spacebetween console script is not installed in this environment")
    proc = subprocess.run([str(script), "instruments", "list"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "phq9," in proc.stdout
