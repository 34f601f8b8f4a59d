"""`spacebetween transcripts code | lsm | train | evaluate | score`: in-process, through the console
entry."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from spacebetween import cli
from spacebetween.core.transcripts.lsm import lsm as lsm_of
from spacebetween.core.transcripts.table import CLIENT_LABELS, THERAPIST_LABELS

ANNOMI = Path(__file__).resolve().parent.parent / "data" / "published" / "annomi" / "AnnoMI-full.csv"

SESSION = [
    ("s1", "0", "therapist", "Hi, thanks for coming in. What brings you here today?"),
    (
        "s1",
        "1",
        "client",
        "My doctor said I should cut down on drinking, but honestly I don't think I have a problem.",
    ),
    ("s1", "2", "therapist", "You sound frustrated that everyone keeps bringing up the drinking."),
    ("s1", "3", "client", "Right. I mean, everybody drinks."),
    ("s2", "0", "therapist", "How have things been since last week?"),
    ("s2", "1", "client", "Better. I really want to stop smoking for my kids."),
]


def write(path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] | None = None) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header or ("transcript_id", "utterance_id", "interlocutor", "utterance_text"))
        w.writerows(rows)
    return path


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_code_adds_the_codes_to_the_same_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path / "in.csv", SESSION)
    out = tmp_path / "coded.csv"
    assert cli.main(["transcripts", "code", str(src), "--out", str(out), "--rules"]) == 0
    coded = read(out)
    assert [(r["transcript_id"], r["utterance_id"], r["utterance_text"]) for r in coded] == [
        (t, u, text) for t, u, _, text in SESSION
    ]
    for r in coded:
        if r["interlocutor"] == "therapist":
            assert r["therapist_behaviour"] in THERAPIST_LABELS and r["client_talk_type"] == ""
        else:
            assert r["client_talk_type"] in CLIENT_LABELS and r["therapist_behaviour"] == ""
        # the subtype only where its behaviour was coded, blank elsewhere
        assert (r["question_type"] in ("open", "closed")) == (r["therapist_behaviour"] == "question")
        assert (r["reflection_type"] in ("simple", "complex")) == (r["therapist_behaviour"] == "reflection")
    assert coded[0]["question_type"] == "open"  # "What brings you here today?"
    # plain cases the shipped model must get right
    assert coded[0]["therapist_behaviour"] == "question"
    assert coded[4]["therapist_behaviour"] == "question"
    assert coded[5]["client_talk_type"] == "change"
    assert (coded[2]["names_feeling"], coded[2]["emotion_words"]) == ("you sound frustrated", "frustrated")
    assert coded[3]["names_feeling"] == ""
    assert "coded 6 utterance(s) of 2 transcript(s)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("transcript_id,utterance_id,interlocutor,utterance_text\n", "no utterances"),
        ("transcript_id,utterance_id,interlocutor\nt,0,client\n", "missing column(s) utterance_text"),
        (
            "transcript_id,utterance_id,interlocutor,utterance_text\nt,0,client,Hi\nt,1,counsellor,Hello\n",
            "row 3, column interlocutor: 'counsellor'",
        ),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    src = tmp_path / "in.csv"
    src.write_text(content, encoding="utf-8")
    out = tmp_path / "coded.csv"
    assert cli.main(["transcripts", "code", str(src), "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [src]  # no output, no temporary file left behind
    assert cli.main(["transcripts", "lsm", str(src)]) == 2


def test_lsm_per_transcript(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    same = [("m", "0", "therapist", "I was there with them."), ("m", "1", "client", "I was there with them.")]
    src = write(tmp_path / "in.csv", SESSION + same)
    assert cli.main(["transcripts", "lsm", str(src), "--format", "json"]) == 0
    rows = {r["transcript_id"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert list(rows) == ["s1", "s2", "m"]
    assert rows["m"]["lsm"] == 1.0
    s1 = lsm_of(
        [t for _, _, w, t in SESSION[:4] if w == "therapist"],
        [t for _, _, w, t in SESSION[:4] if w == "client"],
    )
    assert rows["s1"]["lsm"] == pytest.approx(s1.score, abs=1e-4)
    assert rows["s1"]["function_words"] == "sb-fw-1"
    assert 0.0 < rows["s2"]["lsm"] < 1.0


def test_train_and_evaluate_on_a_slice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with ANNOMI.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        tid = header.index("transcript_id")
        rows = [r for r in reader if int(r[tid]) < 12]
    data = write(tmp_path / "slice.csv", rows, tuple(header))
    model = tmp_path / "m.npz"
    assert cli.main(["transcripts", "train", "--data", str(data), "--out", str(model), "--steps", "40"]) == 0
    src = write(tmp_path / "in.csv", SESSION)
    assert (
        cli.main(["transcripts", "code", str(src), "--out", str(tmp_path / "o.csv"), "--model", str(model)])
        == 0
    )
    assert len(read(tmp_path / "o.csv")) == len(SESSION)
    capsys.readouterr()
    assert cli.main(["transcripts", "evaluate", "--data", str(data), "--folds", "3", "--steps", "40"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["cross_validation"] == "3-fold, grouped by transcript_id"
    assert doc["settings"]["steps"] == "40" and doc["data"] == data.name  # what it ran with, for the card
    assert (
        sum(map(sum, doc["therapist"]["confusion"])) + sum(map(sum, doc["client"]["confusion"]))
        == doc["utterances"]
    )
    questions = sum(doc["therapist"]["confusion"][THERAPIST_LABELS.index("question")])
    assert sum(map(sum, doc["question_subtype"]["confusion"])) == questions  # each has its subtype
    assert doc["question_subtype"]["labels"] == ["open", "closed"]
    assert doc["session_shares"]["reflection"]["share_of"] == "simple among reflections, percent"
    # transcript 7's 66 ten-annotator utterances give the annotators' own agreement
    assert set(doc["annotators"]) == {
        "main_therapist_behaviour",
        "client_talk_type",
        "question_subtype",
        "reflection_subtype",
    }
    assert all(sum(map(sum, a["confusion"])) > 20 for a in doc["annotators"].values())


def _annomi_rows(keep: Callable[[int], bool]) -> tuple[list[str], list[list[str]]]:
    with ANNOMI.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        tid = header.index("transcript_id")
        return header, [r for r in reader if keep(int(r[tid]))]


def test_score_refuses_the_shipped_models_own_training_transcripts_as_held_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header, rows = _annomi_rows(lambda t: t in (3, 5))
    data = write(tmp_path / "seen.csv", rows, tuple(header))
    out = tmp_path / "figures.json"
    assert cli.main(["transcripts", "score", "--data", str(data), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "2 transcript(s) were in the shipped model's training data (transcript_id 3, 5)" in err
    assert not out.exists()


def test_score_gives_a_trained_models_figures_in_evaluates_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header, rows = _annomi_rows(lambda t: t < 12)
    model = tmp_path / "m.npz"
    train = write(tmp_path / "train.csv", rows, tuple(header))
    assert cli.main(["transcripts", "train", "--data", str(train), "--out", str(model), "--steps", "40"]) == 0
    header, rows = _annomi_rows(lambda t: 12 <= t < 20)
    held = write(tmp_path / "held.csv", rows, tuple(header))
    capsys.readouterr()
    assert cli.main(["transcripts", "score", "--data", str(held), "--model", str(model)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["model"] == "m.npz" and doc["held_out"].startswith("not checked")
    assert doc["transcripts"] == len({r[header.index("transcript_id")] for r in rows})
    assert (
        sum(map(sum, doc["therapist"]["confusion"])) + sum(map(sum, doc["client"]["confusion"]))
        == doc["utterances"]
    )
    assert doc["therapist"]["labels"] == list(THERAPIST_LABELS)
    assert doc["question_subtype"]["labels"] == ["open", "closed"]
    assert set(doc["session_shares"]) == {"question", "reflection"}
    # the shipped model on transcripts its card does not list (these are renamed copies, so the
    # figures mean nothing here; the check and the form are what is tested)
    tid = header.index("transcript_id")
    renamed = write(
        tmp_path / "renamed.csv", [[*r[:tid], f"new-{r[tid]}", *r[tid + 1 :]] for r in rows], tuple(header)
    )
    assert cli.main(["transcripts", "score", "--data", str(renamed)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["model"] == "shipped" and doc["held_out"].startswith("checked")
