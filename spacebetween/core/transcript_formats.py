"""Reading a session transcript file into speaker turns: WebVTT, SRT, plain text, CSV.

Framework-free. What video platforms and transcription tools export:

- **WebVTT** (W3C WebVTT, https://www.w3.org/TR/webvtt1/): a ``WEBVTT`` header, then cues (an optional
  identifier, a timing line ``00:01.000 --> 00:04.000``, text). The speaker is a voice tag
  ``<v Name>text</v>`` (Microsoft Teams) or a ``Name: text`` prefix (Zoom);
- **SRT** (SubRip): numbered cues, timing ``00:00:01,000 --> 00:00:04,000``, text ``Name: text``;
- **plain text**: one turn a line, ``Name: text`` (an optional ``[00:01:02]`` time first);
- **CSV**: the columns of ``spacebetween transcripts code`` (docs/transcripts.md): ``interlocutor``
  (here a speaker's name or role) and ``utterance_text``, one transcript per file.

Captions split a long turn over several cues: consecutive cues (or lines) of the same speaker are
joined into one turn, the unit the coder was trained on (AnnoMI's utterances are turns). A cue or
line without a speaker continues the previous speaker's turn; before any speaker it is an error.
Every error names the line (the file's first line is line 1).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

MAX_BYTES = 2 * 1024 * 1024  # a 50-minute session is about 50 KB of text; 2 MB is far beyond any session
MAX_TURNS = 5000
MAX_SPEAKERS = 12
MAX_NAME = 60
FORMATS = ("vtt", "srt", "text", "csv")
FORMAT_NAMES = {"vtt": "WebVTT", "srt": "SRT", "text": "plain text", "csv": "CSV"}

_VTT_TIME = r"(?:\d{1,3}:)?\d{2}:\d{2}\.\d{3}"
_VTT_TIMING = re.compile(rf"^({_VTT_TIME})\s+-->\s+({_VTT_TIME})(?:\s+.*)?$")
_SRT_TIMING = re.compile(r"^(\d{1,3}:\d{2}:\d{2}[,.]\d{3})\s+-->\s+(\d{1,3}:\d{2}:\d{2}[,.]\d{3})(?:\s+.*)?$")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>(.*?)(?:</v>|$)", re.DOTALL)
_TAG = re.compile(r"</?[^>]*>")
_PREFIX = re.compile(r"^(?P<name>[^\W\d_][\w .'’()-]{0,59}?)\s*:\s+(?P<text>\S.*)$")
_PREFIX_EMPTY = re.compile(r"^(?P<name>[^\W\d_][\w .'’()-]{0,59}?)\s*:\s*$")
_TEXT_TIME = re.compile(r"^\[?\(?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\)?\]?\s*(?:-\s*)?")
_TEXT_COLUMN = "utterance_text"
_SPEAKER_COLUMN = "interlocutor"


class TranscriptFormatError(ValueError):
    """A file that cannot be read as a transcript; the message names the line."""


@dataclass(frozen=True)
class Turn:
    speaker: str  # the name as written in the file
    text: str
    line: int  # where the turn starts in the file
    start_ms: int | None = None  # from the cue timing, when the format has one


@dataclass(frozen=True)
class ParsedTranscript:
    format: str  # one of FORMATS
    turns: tuple[Turn, ...]

    @property
    def speakers(self) -> list[str]:
        """Each speaker's name once, in order of first appearance."""
        return list(dict.fromkeys(t.speaker for t in self.turns))


def detect_format(filename: str, text: str) -> str:
    """The format from the file's name, or else from its first line."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix == "vtt" or text.lstrip("\ufeff").startswith("WEBVTT"):
        return "vtt"
    if suffix == "srt":
        return "srt"
    if suffix == "csv":
        return "csv"
    if suffix in {"txt", "text", ""}:
        return "text"
    raise TranscriptFormatError(
        f"“{suffix}” files are not read: upload WebVTT (.vtt), SRT (.srt), plain text (.txt) or CSV (.csv)."
    )


def parse(data: bytes, filename: str = "") -> ParsedTranscript:
    """The turns of a transcript file, or `TranscriptFormatError` naming the line at fault."""
    if len(data) > MAX_BYTES:
        raise TranscriptFormatError(
            f"The file is {len(data) / 1024 / 1024:.1f} MB; a transcript may be at most "
            f"{MAX_BYTES // (1024 * 1024)} MB."
        )
    text = _decode(data)
    fmt = detect_format(filename, text)
    turns = {"vtt": _vtt, "srt": _srt, "text": _text, "csv": _csv}[fmt](text)
    if not turns:
        raise TranscriptFormatError("The file holds no speech: no line with a speaker and words.")
    parsed = ParsedTranscript(fmt, tuple(turns))
    if len(parsed.turns) > MAX_TURNS:
        raise TranscriptFormatError(
            f"The file has {len(parsed.turns):,} turns; at most {MAX_TURNS:,} are read."
        )
    if len(parsed.speakers) > MAX_SPEAKERS:
        raise TranscriptFormatError(
            f"The file names {len(parsed.speakers)} speakers; at most {MAX_SPEAKERS} are read "
            f"(line {_first_line_of(parsed, parsed.speakers[MAX_SPEAKERS])} names the "
            f"{MAX_SPEAKERS + 1}th)."
        )
    return parsed


def _first_line_of(parsed: ParsedTranscript, speaker: str) -> int:
    return next(t.line for t in parsed.turns if t.speaker == speaker)


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TranscriptFormatError(
            f"Line {line}: the file is not UTF-8 text (save it as UTF-8 and upload it again)."
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise TranscriptFormatError(f"Line {line}: the file holds binary data, not text.")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", _TAG.sub("", text)).strip()


def _name(raw: str, line: int) -> str:
    name = re.sub(r"\s+", " ", raw).strip()
    if not name or len(name) > MAX_NAME:
        raise TranscriptFormatError(f"Line {line}: a speaker's name must be 1 to {MAX_NAME} characters.")
    return name


class _Joiner:
    """Turns, with consecutive pieces of the same speaker joined into one."""

    def __init__(self) -> None:
        self.turns: list[Turn] = []

    @property
    def last_speaker(self) -> str | None:
        return self.turns[-1].speaker if self.turns else None

    def add(self, speaker: str, text: str, line: int, start_ms: int | None = None) -> None:
        if not text:
            return
        if self.turns and self.turns[-1].speaker == speaker:
            prev = self.turns[-1]
            self.turns[-1] = Turn(speaker, f"{prev.text} {text}", prev.line, prev.start_ms)
        else:
            self.turns.append(Turn(speaker, text, line, start_ms))


def _ms(stamp: str) -> int:
    parts = stamp.replace(",", ".").split(":")
    seconds = float(parts[-1]) + 60 * int(parts[-2]) + (3600 * int(parts[-3]) if len(parts) == 3 else 0)
    return round(seconds * 1000)


def _cue_text(joiner: _Joiner, lines: list[tuple[int, str]], start_ms: int | None, fmt: str) -> None:
    """One cue's text lines: voice tags or "Name: text" prefixes, else the previous speaker."""
    for number, raw in lines:
        voices = _VOICE.findall(raw) if fmt == "vtt" else []
        if voices:
            for name, said in voices:
                joiner.add(_name(name, number), _clean(said), number, start_ms)
            continue
        plain = _clean(raw)
        match = _PREFIX.match(plain)
        if match:
            joiner.add(_name(match["name"], number), match["text"].strip(), number, start_ms)
        elif _PREFIX_EMPTY.match(plain):
            continue  # a speaker's name with nothing said
        elif joiner.last_speaker is not None:
            joiner.add(joiner.last_speaker, plain, number, start_ms)
        elif plain:
            hint = "a voice tag <v Name>…</v> or " if fmt == "vtt" else ""
            raise TranscriptFormatError(
                f"Line {number}: no speaker name; start the text with {hint}“Name: ” so that the "
                "speakers can be told apart."
            )


def _blocks(text: str) -> list[list[tuple[int, str]]]:
    """Blocks of non-blank lines, each line with its number."""
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            current.append((number, line.strip()))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _vtt(text: str) -> list[Turn]:
    blocks = _blocks(text)
    if not blocks or not re.match(r"^WEBVTT(?:[ \t].*)?$", blocks[0][0][1]):
        raise TranscriptFormatError("Line 1: a WebVTT file starts with the line “WEBVTT”.")
    joiner = _Joiner()
    for block in blocks[1:]:
        first = block[0][1]
        if first.startswith(("NOTE", "STYLE", "REGION")):
            continue
        timing_at = 0 if "-->" in first else 1
        if timing_at >= len(block) or not _VTT_TIMING.match(block[timing_at][1]):
            number, shown = block[timing_at if timing_at < len(block) else 0]
            raise TranscriptFormatError(
                f"Line {number}: expected a cue timing such as “00:01.000 --> 00:04.000”, "
                f"found “{shown[:60]}”."
            )
        start = _VTT_TIMING.match(block[timing_at][1])
        assert start is not None
        _cue_text(joiner, block[timing_at + 1 :], _ms(start.group(1)), "vtt")
    return joiner.turns


def _srt(text: str) -> list[Turn]:
    joiner = _Joiner()
    for block in _blocks(text):
        number, first = block[0]
        if not first.isdigit():
            raise TranscriptFormatError(f"Line {number}: expected a cue number, found “{first[:60]}”.")
        timing = _SRT_TIMING.match(block[1][1]) if len(block) > 1 else None
        if timing is None:
            at, shown = block[1] if len(block) > 1 else block[0]
            raise TranscriptFormatError(
                f"Line {at}: expected a cue timing such as “00:00:01,000 --> 00:00:04,000”, "
                f"found “{shown[:60]}”."
            )
        _cue_text(joiner, block[2:], _ms(timing.group(1)), "srt")
    return joiner.turns


def _text(text: str) -> list[Turn]:
    joiner = _Joiner()
    lines = [(n, _TEXT_TIME.sub("", line.strip())) for n, line in enumerate(text.split("\n"), start=1)]
    _cue_text(joiner, [(n, line) for n, line in lines if line], None, "text")
    return joiner.turns


def _csv(text: str) -> list[Turn]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise TranscriptFormatError("Line 1: the CSV file is empty.") from None
    except csv.Error as exc:
        raise TranscriptFormatError(f"Line 1: not readable as CSV ({exc}).") from None
    missing = [c for c in (_SPEAKER_COLUMN, _TEXT_COLUMN) if c not in header]
    if missing:
        raise TranscriptFormatError(f"Line 1: missing column(s) {', '.join(missing)}.")
    speaker_at, text_at = header.index(_SPEAKER_COLUMN), header.index(_TEXT_COLUMN)
    transcript_at = header.index("transcript_id") if "transcript_id" in header else None
    transcripts: set[str] = set()
    joiner = _Joiner()
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise TranscriptFormatError(f"Line {start}: not readable as CSV ({exc}).") from None
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise TranscriptFormatError(
                f"Line {start}: {len(row)} values where the header has {len(header)} columns."
            )
        if transcript_at is not None:
            transcripts.add(row[transcript_at].strip())
            if len(transcripts) > 1:
                raise TranscriptFormatError(
                    f"Line {start}, column transcript_id: a second transcript; upload one session per file."
                )
        if not row[speaker_at].strip():
            raise TranscriptFormatError(f"Line {start}, column {_SPEAKER_COLUMN}: the speaker is missing.")
        joiner.add(_name(row[speaker_at], start), _clean(row[text_at]), start)
    return joiner.turns
