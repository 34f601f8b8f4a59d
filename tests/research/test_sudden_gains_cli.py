"""`spacebetween sudden-gains` run as a user runs it: a subprocess on CSV files.

The series are the hand-worked ones of tests/core/test_sudden_gains.py.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from spacebetween.core import change
from spacebetween.core import instruments as catalogue

HEADER = "id,s0,s1,s2,s3,s4,s5,s6\n"


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spacebetween.cli", "sudden-gains", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def series(tmp_path: Path) -> Path:
    return write(
        tmp_path / "series.csv",
        HEADER
        + "a,40,20,21,20,10,9,15\n"  # gain 3 -> 4 (20 -> 10), reversed by 15 at session 6
        + "b,30,20,21,20,10,9,10\n"  # the same gain, not reversed
        + "c,9,9,9,9,9,9,9\n",  # nothing
    )


def test_one_row_per_gain(series: Path) -> None:
    proc = run(series, "--cutoff", "7", cwd=series.parent)
    assert proc.returncode == 0, proc.stderr
    assert rows(proc.stdout) == [
        {"id": "a", "pregain_session": "3", "pregain_score": "20", "postgain_score": "10", "magnitude": "10",
         "reversal_value": "15", "reversed": "1"},
        {"id": "b", "pregain_session": "3", "pregain_score": "20", "postgain_score": "10", "magnitude": "10",
         "reversal_value": "15", "reversed": "0"},
    ]  # fmt: skip
    assert "2 sudden gains in 2 of 3 people" in proc.stderr


def test_baseline_s0_is_not_a_session(tmp_path: Path) -> None:
    # With s0 = 40 counted as session 1, the drop 40 -> 20 would change the windows; it must be ignored,
    # so the only testable step with a big drop is s3 -> s4.
    f = write(tmp_path / "s.csv", HEADER + "a,60,30,30,30,20,20,20\n")
    proc = run(f, "--cutoff", "7", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [(r["pregain_session"], r["pregain_score"]) for r in rows(proc.stdout)] == [("3", "30")]


def test_sessions_named_in_order(tmp_path: Path) -> None:
    f = write(tmp_path / "s.csv", "id,bdi_s1,bdi_s2,bdi_s3,bdi_s4,bdi_s5,bdi_s6\na,20,21,20,10,9,10\n")
    proc = run(f, "--cutoff", "7", "--sessions", "bdi_s1,bdi_s2,bdi_s3,bdi_s4,bdi_s5,bdi_s6", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [r["pregain_session"] for r in rows(proc.stdout)] == ["3"]


def test_json_output_with_summary(series: Path) -> None:
    proc = run(series, "--cutoff", "7", "--format", "json", cwd=series.parent)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [r["reversed"] for r in doc["rows"]] == [True, False]
    summary = doc["summary"]
    assert summary["events"] == 2
    assert summary["people"] == 3
    assert summary["people_with_events"] == 2
    assert summary["reversed"] == 1
    assert summary["sessions"] == ["s1", "s2", "s3", "s4", "s5", "s6"]
    assert summary["criterion1_cutoff"] == 7


def test_higher_is_better(tmp_path: Path) -> None:
    f = write(tmp_path / "s.csv", HEADER + "a,0,10,10,10,18,18,18\n")
    assert rows(run(f, "--cutoff", "7", cwd=tmp_path).stdout) == []
    proc = run(f, "--cutoff", "7", "--higher-is-better", cwd=tmp_path)
    assert [(r["pregain_session"], r["magnitude"]) for r in rows(proc.stdout)] == [("3", "8")]


def test_sudden_losses(tmp_path: Path) -> None:
    f = write(tmp_path / "s.csv", HEADER + "a,0,10,10,10,18,18,14\n")
    proc = run(f, "--cutoff", "7", "--losses", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [(r["pregain_session"], r["magnitude"], r["reversed"]) for r in rows(proc.stdout)] == [
        ("3", "8", "1")
    ]
    assert "sudden losses" in proc.stderr


def test_instrument_gives_criterion_1(series: Path) -> None:
    # Criterion 1 from the PHQ-9 definition equals the same number given as --cutoff.
    params = change.parameters_from_scale(catalogue.get("phq9").scale("total"))
    if params.rci_points is not None:
        cutoff = params.rci_points
    else:
        assert params.sd is not None and params.reliability is not None
        cutoff = change.reliable_change_points(sd=params.sd, reliability=params.reliability)
    by_definition = run(series, "--instrument", "phq9", "--format", "json", cwd=series.parent)
    by_flag = run(series, "--cutoff", repr(cutoff), "--format", "json", cwd=series.parent)
    assert by_definition.returncode == 0, by_definition.stderr
    assert json.loads(by_definition.stdout) == json.loads(by_flag.stdout)


def test_empty_result_is_a_header_only(series: Path) -> None:
    proc = run(series, "--cutoff", "50", cwd=series.parent)
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == [
        "id,pregain_session,pregain_score,postgain_score,magnitude,reversal_value,reversed"
    ]


# --- errors: exit status 2, a message, and no output file ----------------------------------------------


def assert_usage_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert proc.returncode == 2
    assert proc.stdout == ""
    for fragment in fragments:
        assert fragment in proc.stderr


def test_bad_value_names_row_and_column_and_writes_nothing(tmp_path: Path) -> None:
    f = write(tmp_path / "s.csv", HEADER + "a,1,20,21,20,10,9,10\nb,1,20,21,x7,10,9,10\n")
    out = tmp_path / "gains.csv"
    proc = run(f, "--cutoff", "7", "--output", out, cwd=tmp_path)
    assert_usage_error(proc, "row 3", "column s3", "'x7'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"]


def test_needs_cutoff_or_instrument(series: Path) -> None:
    proc = run(series, cwd=series.parent)
    assert proc.returncode == 2
    assert "--cutoff" in proc.stderr


def test_cutoff_and_instrument_exclude_each_other(series: Path) -> None:
    assert run(series, "--cutoff", "7", "--instrument", "phq9", cwd=series.parent).returncode == 2


def test_non_positive_cutoff(series: Path) -> None:
    assert_usage_error(run(series, "--cutoff", "0", cwd=series.parent), "criterion 1")


def test_gap_in_session_columns(tmp_path: Path) -> None:
    f = write(tmp_path / "s.csv", "id,s1,s2,s4\na,1,2,3\n")
    assert_usage_error(run(f, "--cutoff", "7", cwd=tmp_path), "s3 missing")


def test_no_session_columns(tmp_path: Path) -> None:
    f = write(tmp_path / "s.csv", "id,bdi_s1,bdi_s2\na,1,2\n")
    assert_usage_error(run(f, "--cutoff", "7", cwd=tmp_path), "--sessions")


def test_unknown_session_column(series: Path) -> None:
    assert_usage_error(run(series, "--cutoff", "7", "--sessions", "s1,s2,s9", cwd=series.parent), "s9")


def test_duplicate_id(tmp_path: Path) -> None:
    f = write(tmp_path / "s.csv", "id,s1,s2\na,1,2\na,3,4\n")
    assert_usage_error(run(f, "--cutoff", "7", cwd=tmp_path), "row 3", "already appears")


def test_unknown_instrument(series: Path) -> None:
    assert_usage_error(run(series, "--instrument", "no-such-thing", cwd=series.parent), "no-such-thing")
