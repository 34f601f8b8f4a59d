"""Reading transcripts: checks that name the row and column, grouping, and AnnoMI's majority labels."""

from __future__ import annotations

import pytest

from spacebetween.core.transcripts.evaluate import group_folds, score
from spacebetween.core.transcripts.table import TranscriptError, annomi_utterances, utterances_from_rows

HEADER = ["transcript_id", "utterance_id", "interlocutor", "utterance_text"]


def row(t: str, u: str, who: str, text: str = "hello", **more: str) -> dict[str, str]:
    return {"transcript_id": t, "utterance_id": u, "interlocutor": who, "utterance_text": text, **more}


def test_rows_grouped_by_transcript_in_input_order() -> None:
    rows = [row("a", "0", "therapist"), row("b", "0", "client"), row("a", "1", "Client")]
    got = utterances_from_rows(rows, HEADER)
    assert [(u.transcript_id, u.utterance_id, u.speaker, u.row) for u in got] == [
        ("a", "0", "therapist", 2),
        ("a", "1", "client", 4),
        ("b", "0", "client", 3),
    ]


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        ([row("a", "0", "therapist")], HEADER[:3], "missing column(s) utterance_text"),
        ([], HEADER, "no utterances"),
        ([row("a", "0", "therapist"), row("a", "1", "coach")], HEADER, "row 3, column interlocutor: 'coach'"),
        ([row("a", "0", "therapist"), row("", "1", "client")], HEADER, "row 3, column transcript_id"),
        (
            [row("a", "0", "therapist"), row("a", "0", "client")],
            HEADER,
            "row 3, column utterance_id: '0' already",
        ),
    ],
)
def test_bad_input_names_row_and_column(rows: list[dict[str, str]], header: list[str], message: str) -> None:
    with pytest.raises(TranscriptError, match="^in.csv: ") as info:
        utterances_from_rows(rows, header, source="in.csv")
    assert message in str(info.value)


def test_annomi_majority_label_for_repeated_annotations() -> None:
    extra = ["main_therapist_behaviour", "client_talk_type"]
    rows = [
        row("7", "0", "therapist", main_therapist_behaviour="question", client_talk_type="n/a"),
        row("7", "0", "therapist", main_therapist_behaviour="reflection", client_talk_type="n/a"),
        row("7", "0", "therapist", main_therapist_behaviour="reflection", client_talk_type="n/a"),
        row("7", "1", "client", main_therapist_behaviour="n/a", client_talk_type="sustain"),
    ]
    got = annomi_utterances(rows, HEADER + extra)
    assert [(u.utterance_id, u.label) for u in got] == [("0", "reflection"), ("1", "sustain")]
    rows[3]["client_talk_type"] = "maybe"
    with pytest.raises(TranscriptError, match="row 5, column client_talk_type"):
        annomi_utterances(rows, HEADER + extra)


def test_group_folds_keep_transcripts_whole() -> None:
    groups = [g for g, n in zip("abcdefg", [9, 7, 5, 5, 3, 2, 1], strict=True) for _ in range(n)]
    folds = group_folds(groups, 3)
    for g in set(groups):
        assert len({int(f) for f, h in zip(folds, groups, strict=True) if h == g}) == 1
    sizes = sorted(int((folds == f).sum()) for f in range(3))
    assert sizes == [10, 11, 11]
    with pytest.raises(ValueError):
        group_folds(["a", "b"], 3)


def test_scores_by_hand() -> None:
    s = score(["q", "q", "r", "r"], ["q", "r", "r", "r"], ["q", "r"])
    assert s.confusion.tolist() == [[1, 1], [0, 2]]
    # q: precision 1, recall 1/2 -> F1 2/3; r: precision 2/3, recall 1 -> F1 4/5
    assert s.per_class_f1 == pytest.approx({"q": 2 / 3, "r": 0.8})
    assert s.macro_f1 == pytest.approx((2 / 3 + 0.8) / 2)
    assert s.accuracy == pytest.approx(0.75)
