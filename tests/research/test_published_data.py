"""Published results on published data (tests/data/published), through the command line as a user runs it.

* suddengains_test_bdi_18.csv: exactly 14 sudden gains, compared field by field with
  suddengains_test_bdi_18_expected_gains.csv (suddengains' test-create_bysg.R).
* clinicalsignificance_claus_2020.csv: HAMD, time 1 -> 4, r = .80, Jacobson–Truax:
  29 improved / 10 unchanged / 1 deteriorated of n = 40 (clinicalsignificance's cs_distribution
  snapshot).

Further cross-checks against the published packages' own tests are marked as such below; they come
from the same snapshots. The data, their licences and provenance: tests/data/published/README.md.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spacebetween.core import change

DATA = Path(__file__).parents[1] / "data" / "published"
BDI_SESSIONS = ",".join(f"bdi_s{k}" for k in range(1, 13))


@pytest.fixture(scope="module")
def data() -> Path:
    return DATA


def spacebetween(*args: str | Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "spacebetween.cli", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def read_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# --- suddengains: 14 sudden gains ----------------------------------------------------------------------


def test_suddengains_bdi_18_gives_the_14_expected_gains(data: Path) -> None:
    proc = spacebetween(
        "sudden-gains", data / "suddengains_test_bdi_18.csv", "--cutoff", "7", "--sessions", BDI_SESSIONS
    )
    got = read_rows(proc.stdout)
    with (data / "suddengains_test_bdi_18_expected_gains.csv").open(encoding="utf-8", newline="") as fh:
        expected = list(csv.DictReader(fh))
    assert len(expected) == 14
    assert len(got) == 14
    for ours, theirs in zip(got, expected, strict=True):
        assert ours["id"] == theirs["id"]
        assert ours["pregain_session"] == theirs["pregain_session"]
        assert float(ours["pregain_score"]) == float(theirs["bdi_n"])
        assert float(ours["postgain_score"]) == float(theirs["bdi_n1"])
        assert float(ours["magnitude"]) == float(theirs["magnitude"])
        assert f"{ours['id']}_sg_{ours['pregain_session']}" == theirs["id_sg"]


def test_suddengains_bdi_18_reversals_follow_convention_6(data: Path) -> None:
    # Worked by hand from the table (convention 6 of docs/change-statistics.md: a later score, from N+2
    # on, at or above x_{N+1} + (x_N − x_{N+1})/2):
    # id 1, 34 -> 23: reversal value 28.5; session 7 scores 29 -> reversed.
    # id 4, 32 -> 22: 27; session 10 scores 33 -> reversed.
    # id 12, 31 -> 23: 27; session 9 scores 30 -> reversed.
    # id 1, 29 -> 17 (session 7): 23; the later scores 11, 11, 10, 7 stay below -> not reversed.
    proc = spacebetween(
        "sudden-gains", data / "suddengains_test_bdi_18.csv", "--cutoff", "7", "--sessions", BDI_SESSIONS
    )
    reversed_ = {(r["id"], r["pregain_session"]) for r in read_rows(proc.stdout) if r["reversed"] == "1"}
    assert reversed_ == {("1", "3"), ("4", "3"), ("12", "3")}


# --- Claus et al. 2020, HAMD 29 / 10 / 1 ---------------------------------------------------------------


def claus(data: Path, *extra: str) -> dict[str, object]:
    proc = spacebetween(
        "change", data / "clinicalsignificance_claus_2020.csv",
        "--long", "hamd", "--pre-time", "1", "--post-time", "4", "--reliability", "0.80",
        "--format", "json", *extra,
    )  # fmt: skip
    doc: dict[str, object] = json.loads(proc.stdout)
    return doc


def test_claus_2020_hamd_jacobson_truax_counts(data: Path) -> None:
    summary = claus(data)["summary"]
    assert isinstance(summary, dict)
    assert summary["complete_pairs"] == 40
    assert summary["sd"] == pytest.approx(3.3401, abs=5e-5)  # SD_pre of the 40 pre scores
    assert summary["counts"] == {"improved": 29, "unchanged": 10, "deteriorated": 1, "incomplete": 3}


def test_claus_2020_incomplete_are_the_three_without_a_time_4_hamd(data: Path) -> None:
    rows = claus(data)["rows"]
    assert isinstance(rows, list)
    assert sorted(int(r["id"]) for r in rows if r["class"] == "") == [4, 17, 27]


def test_claus_2020_criterion_c_matches_clinicalsignificance_cs_combined(data: Path) -> None:
    # Cross-check: clinicalsignificance tests/testthat/_snaps/cs_combined.md,
    # cs_combined(claus_2020, id, time, hamd, pre = 1, post = 4, reliability = 0.8, m_functional = 8,
    # sd_functional = 8, cutoff_type = "c", rci_method = "JT") -> 26 / 3 / 10 / 1 / 0. The package takes
    # the clinical population from the pre scores; criterion c does not involve the b-convention difference.
    summary = claus(
        data, "--criterion", "c", "--clinical-from-sample", "--functional-mean", "8", "--functional-sd", "8"
    )["summary"]
    assert isinstance(summary, dict)
    counts = dict(summary["counts"])
    counts.pop("incomplete")
    assert counts == {"recovered": 26, "improved": 3, "unchanged": 10, "deteriorated": 1, "harmed": 0}


def test_claus_2020_bdi_mid_7_matches_clinicalsignificance_anchor_method(data: Path) -> None:
    # Cross-check (clinicalsignificance's anchor method, cs_anchor; docs/change-statistics.md): BDI
    # time 1 -> 4 with a MID of 7 points gives 25 improved / 11 unchanged / 4 deteriorated; five people
    # change by exactly 7, so this also pins the MID as inclusive.
    with (data / "clinicalsignificance_claus_2020.csv").open(encoding="utf-8", newline="") as fh:
        long = list(csv.DictReader(fh))
    bdi = {(r["id"], r["time"]): float(r["bdi"]) if r["bdi"] else np.nan for r in long}
    ids = sorted({r["id"] for r in long}, key=int)
    pre = [bdi.get((i, "1"), np.nan) for i in ids]
    post = [bdi.get((i, "4"), np.nan) for i in ids]
    counts = change.count_classes(change.mid_change(pre, post, mid=7), with_cutoff=False)
    assert (counts["improved"], counts["unchanged"], counts["deteriorated"]) == (25, 11, 4)


# --- suddengains' own describe_sg test on the bundled sgdata ---------------------------------------------


def test_sgdata_matches_suddengains_describe_sg(data: Path) -> None:
    # Cross-check: suddengains tests/testthat/test-describe_sg.R on
    # sgdata (cut-off 7, bdi_s1..bdi_s12): 24 gains, 4 reversed, magnitude M 11, SD 3.43; per person
    # (first gain): 15 of 43 people, 8 with more than one gain, 3 first gains reversed, M 11.4, SD 3.98.
    proc = spacebetween(
        "sudden-gains", data / "suddengains_sgdata.csv", "--cutoff", "7", "--sessions", BDI_SESSIONS
    )
    gains = read_rows(proc.stdout)
    magnitudes = [float(g["magnitude"]) for g in gains]
    assert len(gains) == 24
    assert sum(g["reversed"] == "1" for g in gains) == 4
    assert round(statistics.mean(magnitudes), 2) == 11
    assert round(statistics.stdev(magnitudes), 2) == 3.43
    first: dict[str, dict[str, str]] = {}
    for g in gains:
        first.setdefault(g["id"], g)
    assert len(first) == 15
    assert sum(1 for i in first if sum(g["id"] == i for g in gains) > 1) == 8
    assert sum(g["reversed"] == "1" for g in first.values()) == 3
    first_magnitudes = [float(g["magnitude"]) for g in first.values()]
    assert round(statistics.mean(first_magnitudes), 2) == 11.4
    assert round(statistics.stdev(first_magnitudes), 2) == 3.98


# --- Jacobson & Truax 1991 Table 2 (higher is better): no published counts, a smoke test -----------------


def test_jacobson_truax_das_runs_higher_is_better_and_mirrors(data: Path, tmp_path: Path) -> None:
    # The DAS scores of Jacobson & Truax (1991), Table 2, as the `das` column of clinicalsignificance's
    # jacobson_1989 (long: subject, time pre/post). Mirroring the scores and the direction must leave
    # every class unchanged (criterion a from the sample's pre scores).
    source = data / "clinicalsignificance_jacobson_1989.csv"
    args = ["--id-column", "subject", "--reliability", "0.84", "--criterion", "a", "--clinical-from-sample"]
    long = ["--long", "das", "--pre-time", "pre", "--post-time", "post"]
    higher = json.loads(
        spacebetween("change", source, *args, *long, "--higher-is-better", "--format", "json").stdout
    )
    with source.open(encoding="utf-8", newline="") as fh:
        das = {(r["subject"], r["time"]): -float(r["das"]) for r in csv.DictReader(fh)}
    subjects = sorted({s for s, _ in das}, key=int)
    mirrored_rows = [f"{s},{das[(s, 'pre')]},{das[(s, 'post')]}" for s in subjects]
    mirrored = tmp_path / "mirrored.csv"
    mirrored.write_text("subject,pre,post\n" + "\n".join(mirrored_rows) + "\n", encoding="utf-8")
    lower = json.loads(
        spacebetween("change", mirrored, *args, "--lower-is-better", "--format", "json").stdout
    )
    assert higher["summary"]["complete_pairs"] == 30
    assert sum(higher["summary"]["counts"].values()) == 30
    assert [r["class"] for r in higher["rows"]] == [r["class"] for r in lower["rows"]]
    assert higher["summary"]["counts"]["recovered"] > 0
