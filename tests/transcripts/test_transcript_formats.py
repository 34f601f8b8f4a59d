"""core.transcript_formats: WebVTT (voice tags and "Name:" cues), SRT, plain text and CSV read into
turns; consecutive pieces of one speaker joined; every bad file refused with the line at fault."""

from __future__ import annotations

import pytest

from spacebetween.core.transcript_formats import MAX_BYTES, MAX_SPEAKERS, TranscriptFormatError, parse
from tests.transcripts.conftest import VTT


def _turns(data: str, name: str) -> list[tuple[str, str]]:
    return [(t.speaker, t.text) for t in parse(data.encode(), name).turns]


def test_webvtt_voice_tags_give_speakers_times_and_lines() -> None:
    parsed = parse(VTT, "session.vtt")
    assert parsed.format == "vtt"
    assert parsed.speakers == ["Dr Ames", "Carol", "Interpreter"]
    # Carol's two cues in a row are one turn.
    assert [t.speaker for t in parsed.turns] == [
        "Dr Ames",
        "Carol",
        "Dr Ames",
        "Interpreter",
        "Carol",
        "Dr Ames",
    ]
    second = parsed.turns[1]
    assert second.text.startswith("Honestly I have been") and second.text.endswith("cut down this month.")
    assert (second.line, second.start_ms) == (9, 4500)


def test_webvtt_with_name_prefixes_notes_and_continuation() -> None:
    data = (
        "\ufeffWEBVTT - Zoom\n\nNOTE exported\n\n00:01.000 --> 00:03.000\nAmes: How are you?\n\n"
        "00:03.000 --> 00:05.000 align:start\nCarol: Tired.\n\n00:05.000 --> 00:06.000\nAnd low.\n"
    )
    assert _turns(data, "x.vtt") == [("Ames", "How are you?"), ("Carol", "Tired. And low.")]


def test_srt_with_speaker_prefixes() -> None:
    data = (
        "1\n00:00:01,000 --> 00:00:03,000\nAmes: What brings you?\n\n"
        "2\n00:00:03,000 --> 00:00:06,000\nCarol: My sleep.\n"
    )
    parsed = parse(data.encode(), "x.srt")
    assert parsed.format == "srt"
    assert [(t.speaker, t.text, t.start_ms) for t in parsed.turns] == [
        ("Ames", "What brings you?", 1000),
        ("Carol", "My sleep.", 3000),
    ]


def test_plain_text_with_prefixes_times_and_wrapped_lines() -> None:
    data = (
        "[00:00:05] Ames: Where shall we start?\nCarol: With my mother.\nShe phoned again.\n\nAmes: Go on.\n"
    )
    assert _turns(data, "notes.txt") == [
        ("Ames", "Where shall we start?"),
        ("Carol", "With my mother. She phoned again."),
        ("Ames", "Go on."),
    ]


def test_csv_in_the_command_line_columns() -> None:
    data = (
        "transcript_id,utterance_id,interlocutor,utterance_text\n"
        '1,1,therapist,"So, how are you?"\n1,2,client,Fine\n1,3,client,"really, fine"\n'
    )
    assert _turns(data, "s.csv") == [("therapist", "So, how are you?"), ("client", "Fine really, fine")]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        ("00:01.000 --> 00:02.000\n<v A>x</v>\n", "a.vtt", "Line 1: a WebVTT file starts"),
        ("WEBVTT\n\n00:01 --> 00:02\n<v A>x</v>\n", "a.vtt", "Line 3: expected a cue timing"),
        ("WEBVTT\n\n00:01.000 --> 00:02.000\nno speaker here\n", "a.vtt", "Line 4: no speaker name"),
        (
            "1\n00:00:01,000 --> 00:00:02,000\nA: x\n\nthree\n00:00:02,000 --> 00:00:03,000\nB: y\n",
            "a.srt",
            "Line 5: expected a cue number",
        ),
        ("1\nsoon\nA: x\n", "a.srt", "Line 2: expected a cue timing"),
        ("\n\njust words\nA: x\n", "a.txt", "Line 3: no speaker name"),
        ("transcript_id,text\n1,hello\n", "a.csv", "Line 1: missing column(s) interlocutor, utterance_text"),
        ("interlocutor,utterance_text\nA,hi\n,hello\n", "a.csv", "Line 3, column interlocutor"),
        ("interlocutor,utterance_text\nA,hi\nB,x,extra\n", "a.csv", "Line 3: 3 values"),
        (
            "transcript_id,interlocutor,utterance_text\n1,A,hi\n2,B,x\n",
            "a.csv",
            "Line 3, column transcript_id",
        ),
        ("A: fine\n", "a.docx", "upload WebVTT"),
        ("WEBVTT\n", "a.vtt", "no speech"),
    ],
)
def test_bad_files_are_refused_naming_the_line(data: str, name: str, message: str) -> None:
    with pytest.raises(TranscriptFormatError) as caught:
        parse(data.encode(), name)
    assert message in str(caught.value)


def test_not_utf8_binary_too_big_and_too_many_speakers() -> None:
    with pytest.raises(TranscriptFormatError, match=r"Line 2: the file is not UTF-8"):
        parse(b"A: hi\nB: \xff\xfe\n", "a.txt")
    with pytest.raises(TranscriptFormatError, match=r"Line 1: the file holds binary data"):
        parse(b"A: \x00\x01", "a.txt")
    with pytest.raises(TranscriptFormatError, match=r"at most 2 MB"):
        parse(b"A: x\n" * (MAX_BYTES // 5 + 1), "a.txt")
    many = "".join(f"Person{chr(65 + i)}: hello\n" for i in range(MAX_SPEAKERS + 1))
    with pytest.raises(TranscriptFormatError, match=rf"line {MAX_SPEAKERS + 1} names the"):
        parse(many.encode(), "a.txt")
