"""`spacebetween change` run as a user runs it: a subprocess on CSV files.

Expected values are worked by hand in the comments (S_diff = sqrt(2)·SD·sqrt(1 − r)).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from spacebetween.core import instruments as catalogue


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spacebetween.cli", "change", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def pairs(tmp_path: Path) -> Path:
    # SD 2.5 and r .5 give S_diff 2.5: a change of more than 4.9 points is reliable.
    return write(
        tmp_path / "pairs.csv",
        "id,pre,post\n"
        "a,20,10\n"  # −10: RC −4, improved; with cut-off 15: recovered
        "b,20,18\n"  # −2: RC −0.8, unchanged
        "c,10,20\n"  # +10: RC 4, deteriorated; with cut-off 15: harmed
        "d,12,\n",  # incomplete
    )


def test_rows_and_summary_as_json(pairs: Path) -> None:
    proc = run(pairs, "--reliability", "0.5", "--sd", "2.5", "--format", "json", cwd=pairs.parent)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    rows = {r["id"]: r for r in doc["rows"]}
    assert rows["a"]["rc"] == pytest.approx(-4)
    assert rows["a"]["reliable_change"] == "improvement"
    assert [rows[k]["class"] for k in "abcd"] == ["improved", "unchanged", "deteriorated", ""]
    assert rows["d"]["rc"] is None and rows["d"]["post"] is None
    summary = doc["summary"]
    assert summary["counts"] == {"improved": 1, "unchanged": 1, "deteriorated": 1, "incomplete": 1}
    assert summary["s_diff"] == pytest.approx(2.5)
    assert summary["reliable_change_points"] == pytest.approx(4.9)
    assert summary["sd_source"] == "given"
    assert summary["cutoff"] is None


def test_csv_rows_on_stdout_and_summary_on_stderr(pairs: Path) -> None:
    proc = run(pairs, "--reliability", "0.5", "--sd", "2.5", cwd=pairs.parent)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "id,pre,post,change,rc,reliable_change,class"
    first = lines[1].split(",")
    assert first[:4] == ["a", "20", "10", "-10"]
    assert float(first[4]) == pytest.approx(-4)
    assert first[5:] == ["improvement", "improved"]
    assert lines[4] == "d,12,,,,,"
    assert "improved=1 unchanged=1 deteriorated=1 incomplete=1" in proc.stderr


def test_summary_file_and_output_file(pairs: Path) -> None:
    out, summary = pairs.parent / "out.csv", pairs.parent / "summary.json"
    proc = run(
        pairs, "--reliability", "0.5", "--sd", "2.5", "--output", out, "--summary", summary, cwd=pairs.parent
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert out.read_text(encoding="utf-8").startswith("id,pre,post,")
    assert json.loads(summary.read_text(encoding="utf-8"))["counts"]["improved"] == 1


def test_criterion_c_classes(pairs: Path) -> None:
    # c = (SD_clin·M_fun + SD_fun·M_clin)/(SD_clin + SD_fun) = (5·10 + 5·20)/10 = 15.
    proc = run(
        pairs,
        *("--reliability", "0.5", "--sd", "2.5", "--criterion", "c"),
        *("--clinical-mean", "20", "--clinical-sd", "5", "--functional-mean", "10", "--functional-sd", "5"),
        *("--format", "json"),
        cwd=pairs.parent,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["summary"]["cutoff"]["value"] == pytest.approx(15)
    assert [r["class"] for r in doc["rows"]] == ["recovered", "unchanged", "harmed", ""]


def test_criterion_b_uses_the_functional_sd(pairs: Path) -> None:
    # b = M_fun + 2·SD_fun = 5 + 2·2 = 9 (with the clinical SD 10 it would be 25).
    proc = run(
        pairs,
        *("--reliability", "0.5", "--sd", "2.5", "--criterion", "b"),
        *("--functional-mean", "5", "--functional-sd", "2", "--clinical-sd", "10", "--clinical-mean", "30"),
        *("--format", "json"),
        cwd=pairs.parent,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["summary"]["cutoff"]["value"] == pytest.approx(9)


def test_sd_from_the_pre_scores_of_complete_pairs(tmp_path: Path) -> None:
    # Complete pairs' pre scores 10 and 30 (the 20 has no post): SD sqrt(200) = 14.142.
    f = write(tmp_path / "p.csv", "id,pre,post\n1,10,5\n2,20,\n3,30,25\n")
    proc = run(f, "--reliability", "0.5", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)["summary"]
    assert summary["sd"] == pytest.approx(14.1421356)
    assert summary["sd_source"].startswith("pre scores")


def test_higher_is_better(tmp_path: Path) -> None:
    f = write(tmp_path / "p.csv", "id,pre,post\n1,10,20\n2,20,10\n")
    proc = run(
        f, "--reliability", "0.5", "--sd", "2.5", "--higher-is-better", "--format", "json", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert [r["class"] for r in json.loads(proc.stdout)["rows"]] == ["improved", "deteriorated"]


def test_reliable_change_in_points(tmp_path: Path) -> None:
    f = write(tmp_path / "p.csv", "id,pre,post\n1,15,9\n2,15,10\n")
    proc = run(f, "--rci", "6", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [r["class"] for r in doc["rows"]] == ["improved", "unchanged"]
    assert doc["summary"]["method"] == "points"


def test_long_file_pivot(tmp_path: Path) -> None:
    f = write(
        tmp_path / "long.csv",
        "id,time,score,other\n1,1,20,x\n1,2,15,x\n1,3,10,x\n2,1,20,x\n2,3,19,x\n3,1,12,x\n",
    )
    proc = run(
        f, "--long", "score", "--pre-time", "1", "--post-time", "3", "--reliability", "0.5", "--sd", "2.5",
        "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["rows"]
    assert [(r["id"], r["pre"], r["post"], r["class"]) for r in rows] == [
        ("1", 20, 10, "improved"),
        ("2", 20, 19, "unchanged"),
        ("3", 12, None, ""),
    ]


def test_instrument_parameters_equal_the_same_flags(pairs: Path) -> None:
    # The PHQ-9 definition's functional norms and reliable change, given once through --instrument and
    # once as flags, must give the same output.
    scale = catalogue.get("phq9").scale("total")
    assert scale.clinical_significance is not None and scale.reliable_change is not None
    norms = scale.clinical_significance
    by_definition = run(
        pairs, "--instrument", "phq9", "--criterion", "b", "--format", "json", cwd=pairs.parent
    )
    flags = ["--criterion", "b", "--functional-mean", str(norms.functional_mean)]
    flags += ["--functional-sd", str(norms.functional_sd), "--format", "json"]
    if scale.reliable_change.reliability is not None:
        flags += ["--reliability", str(scale.reliable_change.reliability)]
        if scale.reliable_change.sd is not None:
            flags += ["--sd", str(scale.reliable_change.sd)]
    else:
        flags += ["--rci", str(scale.reliable_change.rci)]
    by_flags = run(pairs, *flags, cwd=pairs.parent)
    assert by_definition.returncode == 0, by_definition.stderr
    assert json.loads(by_definition.stdout) == json.loads(by_flags.stdout)


def test_flags_override_the_instrument(pairs: Path) -> None:
    proc = run(
        pairs,
        "--instrument",
        "phq9",
        "--reliability",
        "0.5",
        "--sd",
        "2.5",
        "--format",
        "json",
        cwd=pairs.parent,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)["summary"]
    assert summary["method"] == "jacobson_truax"
    assert summary["s_diff"] == pytest.approx(2.5)


# --- errors: exit status 2, a message, and no output file ----------------------------------------------


def assert_usage_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert proc.returncode == 2
    assert proc.stdout == ""
    for fragment in fragments:
        assert fragment in proc.stderr


def test_missing_reliability(pairs: Path) -> None:
    out = pairs.parent / "out.csv"
    proc = run(pairs, "--output", out, cwd=pairs.parent)
    assert_usage_error(proc, "no reliability", "--reliability")
    assert not out.exists()


def test_missing_norm_for_the_criterion(pairs: Path) -> None:
    proc = run(pairs, "--reliability", "0.8", "--criterion", "c", "--functional-mean", "5", cwd=pairs.parent)
    assert_usage_error(proc, "criterion c", "--clinical-mean")


def test_norms_without_a_criterion(pairs: Path) -> None:
    proc = run(pairs, "--reliability", "0.8", "--functional-mean", "5", cwd=pairs.parent)
    assert_usage_error(proc, "without --criterion")


def test_bad_number_names_row_and_column(tmp_path: Path) -> None:
    f = write(tmp_path / "bad.csv", "id,pre,post\n1,10,5\n2,twelve,4\n")
    out = tmp_path / "out.csv"
    proc = run(f, "--reliability", "0.8", "--output", out, cwd=tmp_path)
    assert_usage_error(proc, "row 3", "column pre", "'twelve'")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [f]


def test_missing_column(tmp_path: Path) -> None:
    f = write(tmp_path / "bad.csv", "id,before,post\n1,10,5\n")
    assert_usage_error(run(f, "--reliability", "0.8", cwd=tmp_path), "missing column(s) pre")


def test_duplicate_id(tmp_path: Path) -> None:
    f = write(tmp_path / "bad.csv", "id,pre,post\n1,10,5\n1,12,4\n")
    assert_usage_error(run(f, "--reliability", "0.8", cwd=tmp_path), "row 3", "already appears in row 2")


def test_duplicate_time_point_in_a_long_file(tmp_path: Path) -> None:
    f = write(tmp_path / "long.csv", "id,time,score\n1,1,20\n1,1,21\n1,2,5\n")
    proc = run(
        f, "--long", "score", "--pre-time", "1", "--post-time", "2", "--reliability", "0.8", cwd=tmp_path
    )
    assert_usage_error(proc, "row 3", "a second row")


def test_long_needs_both_times(pairs: Path) -> None:
    assert_usage_error(run(pairs, "--long", "pre", "--reliability", "0.8", cwd=pairs.parent), "--pre-time")


def test_unknown_instrument(pairs: Path) -> None:
    assert_usage_error(run(pairs, "--instrument", "no-such-thing", cwd=pairs.parent), "no-such-thing")


def test_reliability_of_one_is_refused(pairs: Path) -> None:
    assert_usage_error(run(pairs, "--reliability", "1", "--sd", "3", cwd=pairs.parent), "reliability")


def test_missing_file(tmp_path: Path) -> None:
    assert_usage_error(run(tmp_path / "nope.csv", "--reliability", "0.8", cwd=tmp_path), "no such file")


def test_bad_flag_value_is_a_usage_error(pairs: Path) -> None:
    proc = run(pairs, "--reliability", "high", cwd=pairs.parent)
    assert proc.returncode == 2
    assert "--reliability" in proc.stderr


def test_clinical_from_sample_needs_two_complete_pairs(tmp_path: Path) -> None:
    f = write(tmp_path / "p.csv", "id,pre,post\n1,10,5\n2,12,\n")
    proc = run(
        f, "--sd", "3", "--reliability", "0.8", "--criterion", "a", "--clinical-from-sample", cwd=tmp_path
    )
    assert_usage_error(proc, "--clinical-from-sample", "at least 2 complete")
