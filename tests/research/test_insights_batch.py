"""`spacebetween insights batch`, end to end on small Parquet files whose answers are worked out by hand,
its refusals of bad input, and two published results reproduced through it (the suddengains BDI table
and Claus et al. 2020; data, licences and provenance in tests/data/published/README.md)."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from spacebetween import cli
from spacebetween.core import instruments as catalogue
from spacebetween.core import trajectories
from spacebetween.research import insights

DATA = Path(__file__).parents[1] / "data" / "published"
DAY = dt.date(2026, 2, 15)


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def batch(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """`spacebetween insights batch ARGS` through the console entry point, in this process."""

    def run(*args: str | Path) -> Run:
        capsys.readouterr()
        code = cli.main(["insights", "batch", *map(str, args)])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def score(
    client: str, episode: int, instrument: str, session: int, value: float, date: dt.date = DAY
) -> dict[str, Any]:
    return {
        "client_id": client,
        "episode_id": episode,
        "instrument": instrument,
        "session_number": session,
        "date": date,
        "score": value,
    }


def write(tmp_path: Path, rows: list[dict[str, Any]], name: str = "scores.parquet") -> Path:
    path = tmp_path / name
    pl.DataFrame(rows).write_parquet(path)
    return path


def run_ok(batch: Callable[..., Run], *args: str | Path) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    proc = batch(*args)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    out = pl.read_parquet(summary["output"])
    assert tuple(out.columns) == insights.OUTPUT_COLUMNS
    return out.rows(), summary


def definition(tmp_path: Path, instrument_id: str, *, top: int, reliable_change: dict[str, Any]) -> Path:
    """A test instrument made from the shipped PHQ-9 file, rescaled to 0..top.

    The batch reads scores, never items, so only the id, range, direction and reliable change matter.
    """
    doc = json.loads((catalogue.CORE_DIR / "phq9.json").read_text(encoding="utf-8"))
    doc = copy.deepcopy(doc)
    doc.update(id=instrument_id, title=f"{instrument_id} (test)")
    doc["scoring"]["risk_items"] = []
    scale = doc["scoring"]["scales"][0]
    scale.update(
        range=[0, top],
        transform={"multiply": top / 27},
        bands=[],
        caseness=None,
        clinical_significance=None,
        loinc=None,
        reliable_change={"rci": None, "reliability": None, "sd": None, "source": "test", **reliable_change},
    )
    del scale["bands_source"]
    path = tmp_path / f"{instrument_id}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


# --- Known answers ----------------------------------------------------------------------------------


def hand_built(tmp_path: Path) -> Path:
    late = DAY - dt.timedelta(days=1)  # 15 days before --today 2026-03-01; DAY itself is 14
    return write(
        tmp_path,
        [
            # PHQ-9 (reliable change 6 or more): 10 -> 16 is a reliable deterioration at session 3.
            score("c1", 1, "phq9", 1, 10),
            score("c1", 1, "phq9", 2, 12),
            score("c1", 1, "phq9", 3, 16),
            # GAD-7 (4 or more): 10 -> 14 in the same episode.
            score("c1", 1, "gad7", 1, 10),
            score("c1", 1, "gad7", 2, 14),
            # A sudden gain 20 -> 10 from session 3 to 4; the last score is a reliable improvement.
            *[score("c2", 1, "phq9", s, v) for s, v in enumerate([20, 21, 20, 10, 9, 10], start=1)],
            # WHO-5 has no reliable change in its definition: no change signals, whatever the scores.
            score("c2", 1, "who5", 1, 20),
            score("c2", 1, "who5", 2, 2),
            # 15 -> 10 by session 6: no reliable improvement; last answered 15 days ago: overdue.
            score("c3", 7, "phq9", 1, 15, late),
            score("c3", 7, "phq9", 6, 10, late),
        ],
    )


def test_signals_of_a_hand_built_table(batch: Callable[..., Run], tmp_path: Path) -> None:
    out = tmp_path / "signals.parquet"
    rows, summary = run_ok(batch, hand_built(tmp_path), "--out", out, "--today", "2026-03-01")
    assert rows == [
        ("c1", 1, "gad7", "reliable_deterioration", 2, 14.0, 14.0),
        ("c1", 1, "phq9", "reliable_deterioration", 3, 16.0, 16.0),
        ("c2", 1, "phq9", "sudden_gain", 3, 10.0, 6.0),
        ("c3", 7, "phq9", "no_reliable_improvement", 6, 10.0, 9.0),
        ("c3", 7, "phq9", "overdue", 6, 15.0, 14.0),
    ]
    assert summary["output"] == str(out)
    assert (summary["rows_read"], summary["clients"], summary["episodes"]) == (15, 3, 3)
    assert summary["today"] == "2026-03-01"
    assert summary["signals"] == {
        "not_on_track": 0,
        "reliable_deterioration": 2,
        "no_reliable_improvement": 1,
        "not_a_case_at_intake": 0,
        "sudden_gain": 1,
        "overdue": 1,
    }
    phq9 = summary["instruments"]["phq9"]
    assert (phq9["episodes"], phq9["scores"], phq9["reliable_change_points"]) == (3, 11, 6.0)
    assert phq9["model"] is None
    assert phq9["model_note"].startswith("no band: 3 episodes with an intake and a later score")
    assert "no reliable-change or sudden-gain signals" in summary["instruments"]["who5"]["change_note"]


def test_options_move_the_rules_and_today_defaults_to_the_latest_date(
    batch: Callable[..., Run], tmp_path: Path
) -> None:
    rows, summary = run_ok(
        batch, hand_built(tmp_path), "--no-improvement-by", "7", "--overdue-after-days", "30"
    )
    assert [r[3] for r in rows] == ["reliable_deterioration", "reliable_deterioration", "sudden_gain"]
    assert (summary["today"], summary["today_source"]) == ("2026-02-15", "the latest date in the table")
    assert summary["output"] == str(tmp_path / "scores.signals.parquet")


def test_the_band_is_fitted_on_the_tables_own_episodes(batch: Callable[..., Run], tmp_path: Path) -> None:
    # 20 pairs of episodes share an intake and a session; one lies k/2 points above the curve and the
    # other k/2 below (k = 1..20), so OLS finds the generating curve exactly and the residuals are
    # ±0.5 .. ±10. Their pooled 10th/90th percentiles (numpy's linear rule: position 0.1 · 39 = 3.9
    # between −8.5 and −8.0) are ∓8.05. The band's width follows the session (its residual variance is
    # fitted in ln(session), core.trajectories): the signals are exactly the scores above the band of the
    # model that the summary reports, and that band is not one width at every session.
    b0, b1, b2, b3 = 4.0, 0.9, -1.5, -0.1
    rows, above_curve = [], []
    for k in range(1, 21):
        intake, session = float(10 + k % 7), 2 + k % 5
        log_s = math.log(session)
        expected = b0 + b1 * intake + b2 * log_s + b3 * intake * log_s
        for sign, client in ((1, "up"), (-1, "down")):
            rows += [
                score(client, k, "phq9", 1, intake),
                score(client, k, "phq9", session, expected + sign * k / 2),
            ]
        above_curve.append((k, intake, session, expected, expected + k / 2))
    out, summary = run_ok(batch, write(tmp_path, rows))
    model = summary["instruments"]["phq9"]["model"]
    assert model["coefficients"] == pytest.approx([b0, b1, b2, b3])
    assert model["residual_quantiles"] == pytest.approx([-8.05, 8.05])
    assert (model["n_episodes"], model["n_scores"], model["max_session"]) == (40, 40, 6)
    assert "network's archive" in summary["instruments"]["phq9"]["model_note"]
    fitted = trajectories.ExpectedRecovery.from_json(model)
    widths, above = set(), []
    for k, intake, session, expected, value in above_curve:
        edge = float(fitted.band(intake, session)[1][()])
        widths.add(round(edge - expected, 6))
        if value > edge:
            above.append(("up", k, "phq9", "not_on_track", session, value, edge))
    assert len(widths) == 5  # one width per session 2..6
    assert above
    not_on_track = [r for r in out if r[3] == "not_on_track"]
    assert [r[:5] for r in not_on_track] == [a[:5] for a in above]
    for got, want in zip(not_on_track, above, strict=True):
        assert got[5:] == pytest.approx(want[5:])


def test_alliance_instruments_go_to_rupture_detection_not_to_the_trajectory_rules(
    batch: Callable[..., Run], tmp_path: Path
) -> None:
    rows = [score("c1", 1, "wai-sr", s, v) for s, v in enumerate([50, 52, 51, 30, 52], start=1)]
    path = write(tmp_path, rows)
    out, summary = run_ok(batch, path, "--alliance-drop-points", "5")
    info = summary["instruments"]["wai-sr"]
    assert info["role"] == "alliance"
    # Baseline 51 (mean of 50, 52, 51); 30 is below 51 - 5 = 46: a rupture by the drop rule, repaired
    # when the score is back at 51 or above.
    assert (info["drop_points"], info["drop_source"]) == (5.0, "--alliance-drop-points")
    assert [r[3:] for r in out] == [("rupture_drop", 4, 30.0, 46.0), ("repair", 5, 52.0, 51.0)]
    # The WAI-SR publishes no reliable change: the default drop is 10% of its 12-60 range.
    _, summary = run_ok(batch, path)
    assert summary["instruments"]["wai-sr"]["drop_points"] == pytest.approx(4.8)
    assert summary["instruments"]["wai-sr"]["drop_source"].startswith("10% of the scale range")


# --- Bad input: exit 2, a message naming what is wrong, no output file --------------------------------


def good_rows() -> list[dict[str, Any]]:
    return [score("c1", 1, "phq9", 1, 12), score("c1", 1, "phq9", 2, 9)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda rows: [{k: v for k, v in r.items() if k != "date"} for r in rows], "missing column(s) date"),
        (
            lambda rows: [rows[0], {**rows[1], "instrument": "phq10"}],
            "row 2 (counting from 1), column instrument: unknown instrument 'phq10'",
        ),
        (
            lambda rows: [rows[0], {**rows[1], "session_number": 2.5}],
            "row 2 (counting from 1), column session_number: 2.5 is not an integer",
        ),
        (
            lambda rows: [rows[0], {**rows[1], "session_number": 0}],
            "column session_number: 0 is not a session number from 1",
        ),
        (
            lambda rows: [rows[0], {**rows[1], "session_number": "2"}],
            "column session_number must hold integers",
        ),
        (
            lambda rows: [*rows, {**rows[1], "score": 3}],
            "rows 2 and 3 (counting from 1) are both client 'c1', episode 1, phq9 session 2",
        ),
        (
            lambda rows: [rows[0], {**rows[1], "score": 28}],
            "row 2 (counting from 1), column score: 28 is outside the phq9 range 0–27",
        ),
        (
            lambda rows: [rows[0], {**rows[1], "score": None}],
            "row 2 (counting from 1), column score: value is missing",
        ),
        (
            lambda rows: [{**r, "date": "2026-02-30"} for r in rows],
            "row 1 (counting from 1), column date: '2026-02-30' is not a date",
        ),
        (
            lambda rows: [rows[0], {**rows[1], "client_id": None}],
            "row 2 (counting from 1), column client_id: value is missing",
        ),
    ],
)
def test_bad_table_is_refused_and_nothing_is_written(
    batch: Callable[..., Run], tmp_path: Path, change: Any, message: str
) -> None:
    path = write(tmp_path, change(good_rows()))
    out = tmp_path / "signals.parquet"
    proc = batch(path, "--out", out)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert proc.stdout == ""
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--today", "1 March"], "--today '1 March' is not a date YYYY-MM-DD"),
        (["--no-improvement-by", "1"], "--no-improvement-by must be 2 or later"),
        (["--min-episodes", "4"], "--min-episodes must be more than 4"),
        (["--alliance-drop-points", "0"], "--alliance-drop-points must be a positive number"),
    ],
)
def test_bad_options_are_refused(
    batch: Callable[..., Run], tmp_path: Path, args: list[str], message: str
) -> None:
    path = write(tmp_path, good_rows())
    proc = batch(path, *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_file_that_is_not_parquet_or_not_there(batch: Callable[..., Run], tmp_path: Path) -> None:
    text = tmp_path / "scores.parquet"
    text.write_text("client_id,episode_id\n", encoding="utf-8")
    proc = batch(text)
    assert proc.returncode == 2
    assert "not a readable Parquet file" in proc.stderr
    proc = batch(tmp_path / "absent.parquet")
    assert proc.returncode == 2
    assert "no such file" in proc.stderr


def test_a_session_number_too_high_for_memory_is_refused(
    batch: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(insights, "MAX_PANEL_BYTES", 8 * 100)
    path = write(tmp_path, [good_rows()[0], score("c1", 1, "phq9", 101, 9)])
    proc = batch(path)
    assert proc.returncode == 2
    assert "row 2 (counting from 1), column session_number: 101 sessions for the phq9 episodes" in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_an_empty_table_is_refused(batch: Callable[..., Run], tmp_path: Path) -> None:
    path = tmp_path / "scores.parquet"
    pl.DataFrame(good_rows()).clear().write_parquet(path)
    proc = batch(path)
    assert proc.returncode == 2
    assert "the table has no rows" in proc.stderr


def test_the_output_never_overwrites_the_input(batch: Callable[..., Run], tmp_path: Path) -> None:
    path = write(tmp_path, good_rows())
    proc = batch(path, "--out", path)
    assert proc.returncode == 2
    assert "would overwrite the input" in proc.stderr


# --- Published results through the batch ------------------------------------------------------------


@pytest.fixture(scope="module")
def data() -> Path:
    return DATA


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_14_sudden_gains_of_the_suddengains_bdi_table(
    batch: Callable[..., Run], data: Path, tmp_path: Path
) -> None:
    # suddengains' test-create_bysg.R: bdi_s1..bdi_s12 are sessions 1-12 (bdi_s0 is not part of the
    # series), criterion 1 = 7.
    bdi = definition(tmp_path, "bdi-test", top=63, reliable_change={"rci": 7})
    rows = [
        score(f"p{r['id']}", int(r["id"]), "bdi-test", s, float(r[f"bdi_s{s}"]))
        for r in read_csv(data / "suddengains_test_bdi_18.csv")
        for s in range(1, 13)
        if r[f"bdi_s{s}"] != ""
    ]
    out, _ = run_ok(batch, write(tmp_path, rows), "--definition", bdi)
    gains = [(r[1], r[4]) for r in out if r[3] == "sudden_gain"]
    published = [(1, 3), (1, 7), (3, 8), (4, 3), (5, 3), (5, 8), (9, 3), (10, 2), (10, 4), (12, 3), (13, 3)]
    published += [(13, 8), (14, 2), (18, 3)]
    assert sorted(gains) == published


def test_claus_2020_reliable_change_counts_through_the_batch(
    batch: Callable[..., Run], data: Path, tmp_path: Path
) -> None:
    # clinicalsignificance's cs_distribution snapshot: HAMD, time 1 -> 4, r = .80, the SD of the 40
    # complete pairs' pre scores (3.3401): 29 improved / 10 unchanged / 1 deteriorated. Time 1 is
    # session 1 and time 4 session 4, and "no reliable improvement by session 4" counts everyone who
    # did not reliably improve.
    table = read_csv(data / "clinicalsignificance_claus_2020.csv")
    hamd = {(r["id"], r["time"]): float(r["hamd"]) for r in table if r["hamd"] != "" and r["time"] in "14"}
    complete = [i for (i, t) in hamd if t == "4" and (i, "1") in hamd]
    pre = [hamd[(i, "1")] for i in complete]
    mean = sum(pre) / len(pre)
    sd = math.sqrt(sum((x - mean) ** 2 for x in pre) / (len(pre) - 1))
    assert (len(complete), round(sd, 4)) == (40, 3.3401)
    instrument = definition(tmp_path, "hamd-test", top=52, reliable_change={"sd": sd, "reliability": 0.80})
    rows = [score(f"p{i}", int(i), "hamd-test", int(t), v) for (i, t), v in hamd.items()]
    out, summary = run_ok(
        batch, write(tmp_path, rows), "--definition", instrument, "--no-improvement-by", "4"
    )
    deteriorated = sum(1 for r in out if r[3] == "reliable_deterioration")
    not_improved = sum(1 for r in out if r[3] == "no_reliable_improvement")
    assert summary["episodes"] == 43
    assert (40 - not_improved, not_improved - deteriorated, deteriorated) == (29, 10, 1)
