"""Session transcripts as rows: reading and checking them, and AnnoMI's labels.

A transcript is the ordered list of its utterances (file order within each transcript_id); each
utterance has a speaker, ``therapist`` or ``client``. Bad input raises `TranscriptError` naming the
row (the header is row 1) and the column.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

REQUIRED_COLUMNS = ("transcript_id", "utterance_id", "interlocutor", "utterance_text")
SPEAKERS = ("therapist", "client")
THERAPIST_LABELS = ("question", "reflection", "therapist_input", "other")
CLIENT_LABELS = ("change", "neutral", "sustain")
# Where AnnoMI-full's annotators split a therapist behaviour further (its question_subtype and
# reflection_subtype columns): the main code -> its subtypes. A refined code is "<subtype>_<main>"
# ("open_question", "complex_reflection"), the names the session view and its figures read.
SUBTYPES: dict[str, tuple[str, ...]] = {"question": ("open", "closed"), "reflection": ("simple", "complex")}
_SUBTYPE_COLUMNS = {"question": "question_subtype", "reflection": "reflection_subtype"}


def refined(main: str, subtype: str) -> str:
    return f"{subtype}_{main}" if subtype else main


def split_code(code: str) -> tuple[str, str]:
    """(main code, subtype or "") of a code, refined or not: "open_question" -> ("question", "open")."""
    for main, subtypes in SUBTYPES.items():
        for subtype in subtypes:
            if code == refined(main, subtype):
                return main, subtype
    return code, ""


class TranscriptError(ValueError):
    """Input that cannot be read as transcripts; the message names file, row and column."""


@dataclass(frozen=True, slots=True)
class Utterance:
    transcript_id: str
    utterance_id: str
    speaker: str  # "therapist" | "client"
    text: str
    row: int  # line of the input file (header = 1), for messages
    label: str = ""  # therapist behaviour or client talk type, when known
    subtype: str = ""  # for a question or reflection label: open/closed, simple/complex, when known


def utterances_from_rows(
    rows: Sequence[Mapping[str, str]],
    header: Sequence[str],
    *,
    source: str = "input",
    allow_repeats: bool = False,
) -> list[Utterance]:
    """Check the rows and return them as utterances, grouped by transcript in order of first appearance.

    Row numbers in messages count the header as row 1. With ``allow_repeats`` a repeated
    (transcript_id, utterance_id) is allowed (AnnoMI-full has one row per annotator).
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise TranscriptError(f"{source}: missing column(s) {', '.join(missing)}")
    if not rows:
        raise TranscriptError(f"{source}: no utterances (the file has a header row only)")
    seen: dict[tuple[str, str], int] = {}
    out: list[Utterance] = []
    for index, row in enumerate(rows):
        line = index + 2
        for column in ("transcript_id", "utterance_id", "interlocutor"):
            if not (row.get(column) or "").strip():
                raise TranscriptError(f"{source}: row {line}, column {column}: value is missing")
        speaker = row["interlocutor"].strip().lower()
        if speaker not in SPEAKERS:
            raise TranscriptError(
                f"{source}: row {line}, column interlocutor: {row['interlocutor']!r} is neither "
                "'therapist' nor 'client'"
            )
        key = (row["transcript_id"].strip(), row["utterance_id"].strip())
        if key in seen and not allow_repeats:
            raise TranscriptError(
                f"{source}: row {line}, column utterance_id: {key[1]!r} already appears in transcript "
                f"{key[0]!r} (row {seen[key]})"
            )
        seen.setdefault(key, line)
        out.append(Utterance(key[0], key[1], speaker, row.get("utterance_text") or "", line))
    return group_by_transcript(out)


def group_by_transcript(utterances: Sequence[Utterance]) -> list[Utterance]:
    """Stable: transcripts in order of first appearance, utterances in input order within each."""
    order: dict[str, list[Utterance]] = {}
    for u in utterances:
        order.setdefault(u.transcript_id, []).append(u)
    return [u for group in order.values() for u in group]


def annomi_utterances(
    rows: Sequence[Mapping[str, str]], header: Sequence[str], *, source: str = "AnnoMI"
) -> list[Utterance]:
    """AnnoMI rows (full or simple CSV) as labelled utterances, one per (transcript, utterance).

    AnnoMI-full codes 428 utterances by ten annotators each: the label is the majority vote, ties to
    the label met first. A therapist row's label is main_therapist_behaviour, a client row's
    client_talk_type. Where the file has the subtype columns (AnnoMI-full does, AnnoMI-simple does
    not), a question's or reflection's subtype is the majority among the annotators who gave that
    label; blank when none of them gave one.
    """
    for column in ("main_therapist_behaviour", "client_talk_type"):
        if column not in header:
            raise TranscriptError(f"{source}: missing column {column} (not an AnnoMI file)")
    plain = utterances_from_rows(rows, header, source=source, allow_repeats=True)
    votes: dict[tuple[str, str], Counter[str]] = {}
    subtype_votes: dict[tuple[str, str, str], Counter[str]] = {}
    subtype_columns = {label: column for label, column in _SUBTYPE_COLUMNS.items() if column in header}
    for u, row in zip(plain, _rows_in_order(rows, plain), strict=True):
        column = "main_therapist_behaviour" if u.speaker == "therapist" else "client_talk_type"
        allowed = THERAPIST_LABELS if u.speaker == "therapist" else CLIENT_LABELS
        value = row[column].strip()
        if value not in allowed:
            raise TranscriptError(
                f"{source}: row {u.row}, column {column}: {value!r} is not one of {allowed}"
            )
        votes.setdefault((u.transcript_id, u.utterance_id), Counter())[value] += 1
        subtype = (row.get(subtype_columns.get(value, ""), "") or "").strip()
        if subtype in SUBTYPES.get(value, ()) and u.speaker == "therapist":
            subtype_votes.setdefault((u.transcript_id, u.utterance_id, value), Counter())[subtype] += 1
    out: list[Utterance] = []
    done: set[tuple[str, str]] = set()
    for u in plain:
        key = (u.transcript_id, u.utterance_id)
        if key in done:
            continue
        done.add(key)
        label = votes[key].most_common(1)[0][0]  # Counter keeps insertion order among ties
        subtypes = subtype_votes.get((*key, label))
        subtype = subtypes.most_common(1)[0][0] if subtypes else ""
        out.append(Utterance(u.transcript_id, u.utterance_id, u.speaker, u.text, u.row, label, subtype))
    return out


def _rows_in_order(
    rows: Sequence[Mapping[str, str]], utterances: Sequence[Utterance]
) -> list[Mapping[str, str]]:
    return [rows[u.row - 2] for u in utterances]


def transcript_spans(utterances: Sequence[Utterance]) -> list[tuple[int, int]]:
    """(start, stop) of each transcript's run of utterances (they are grouped)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(utterances) + 1):
        if i == len(utterances) or utterances[i].transcript_id != utterances[start].transcript_id:
            spans.append((start, i))
            start = i
    return spans
