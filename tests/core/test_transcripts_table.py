"""Reading transcripts: checks that name the row and column, grouping, and AnnoMI's majority labels."""

from __future__ import annotations

import pytest

from spacebetween.core.transcripts.evaluate import (
    annotator_agreement,
    group_folds,
    score,
    session_shares,
)
from spacebetween.core.transcripts.table import (
    TranscriptError,
    Utterance,
    annomi_utterances,
    refined,
    split_code,
    utterances_from_rows,
)

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


def test_annomi_subtype_is_the_majority_of_the_annotators_who_gave_the_label() -> None:
    extra = ["main_therapist_behaviour", "client_talk_type", "question_subtype", "reflection_subtype"]

    def annotation(uid: str, main: str, question: str = "n/a", reflection: str = "n/a") -> dict[str, str]:
        return row(
            "7",
            uid,
            "therapist",
            main_therapist_behaviour=main,
            client_talk_type="n/a",
            question_subtype=question,
            reflection_subtype=reflection,
        )

    rows = [
        # majority reflection; of its two annotators one says complex, one simple (a tie: the first
        # met); the question annotator's subtype is no vote on a reflection
        annotation("0", "reflection", reflection="complex"),
        annotation("0", "reflection", reflection="simple"),
        annotation("0", "question", question="closed"),
        # a question (two to two: the first met); its two question annotators split open / closed,
        # and the two who called it a reflection but ticked "closed" too do not vote: open
        annotation("1", "question", question="open"),
        annotation("1", "reflection", question="closed", reflection="simple"),
        annotation("1", "question", question="closed"),
        annotation("1", "reflection", question="closed", reflection="simple"),
        annotation("2", "other"),
        annotation("3", "question"),  # a question without its subtype: blank, not guessed
    ]
    got = annomi_utterances(rows, HEADER + extra)
    assert [(u.label, u.subtype) for u in got] == [
        ("reflection", "complex"),
        ("question", "open"),
        ("other", ""),
        ("question", ""),
    ]
    # AnnoMI-simple has no subtype columns: every subtype blank
    assert {u.subtype for u in annomi_utterances(rows, HEADER + extra[:2])} == {""}


def test_refined_codes_round_trip() -> None:
    assert refined("question", "open") == "open_question" and refined("other", "") == "other"
    assert split_code("complex_reflection") == ("reflection", "complex")
    assert split_code("question") == ("question", "") and split_code("sustain") == ("sustain", "")


def test_session_shares_by_hand() -> None:
    subtype = {"o": "open", "c": "closed"}
    utterances: list[Utterance] = []
    codes: list[str] = []
    # open questions by the annotators and by the coder: a 80 % and 40 % (-40 points), b 20 % and
    # 40 % (+20), c 0 % and 0 %; d has three questions, too few to compare
    for tid, truth, coded in (
        ("a", "ooooc", "ooccc"),
        ("b", "occcc", "ooccc"),
        ("c", "ccccc", "ccccc"),
        ("d", "ooo", "ooo"),
    ):
        for i, (t, c) in enumerate(zip(truth, coded, strict=True)):
            utterances.append(Utterance(tid, str(i), "therapist", "?", i, "question", subtype[t]))
            codes.append(refined("question", subtype[c]))
    shares = session_shares(utterances, codes, "question")
    assert shares["transcripts"] == 3
    assert shares["mean_absolute_difference"] == 20.0  # (40 + 20 + 0) / 3
    assert shares["mean_difference"] == -6.7  # (-40 + 20 + 0) / 3
    # Pearson's r of (80, 20, 0) and (40, 40, 0): 1333.3 / sqrt(3466.7 * 1066.7)
    assert shares["pearson_r"] == pytest.approx(0.693, abs=1e-3)
    # one transcript: differences, but no correlation to give (None, not NaN, so the JSON stays JSON)
    one = session_shares(utterances[:5], codes[:5], "question")
    assert (one["transcripts"], one["mean_difference"], one["pearson_r"]) == (1, -40.0, None)


def test_annotator_agreement_by_hand() -> None:
    rows = [
        row("7", "0", "therapist", question_subtype="open"),
        row("7", "0", "therapist", question_subtype="open"),
        row("7", "0", "therapist", question_subtype="closed"),
        row("7", "1", "therapist", question_subtype="closed"),  # one annotator: no pair
        row("7", "2", "therapist", question_subtype="n/a"),
    ]
    s = annotator_agreement(rows, "question_subtype")
    # pairs (majority of the others, this one): (open, open), (open, open), (open, closed)
    assert s.labels == ("closed", "open")
    assert s.confusion.tolist() == [[0, 0], [1, 2]]


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
