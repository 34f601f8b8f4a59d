"""The backup file format: whatever is changed, cut or added after writing is refused, and a file
made with one key cannot be read with another."""

from __future__ import annotations

import base64
import io
import random
import stat
from pathlib import Path

import pytest

from spacebetween.backup.archive import (
    CHUNK,
    MAGIC,
    ArchiveError,
    ArchiveWriter,
    WrongKeyError,
    atomic_private_file,
    key_fingerprint,
    publish,
    read_plaintext,
)
from tests.backup.conftest import KEY, OTHER_KEY

# About four frames of compressed data: random bytes do not compress.
CONTENT = random.Random(7).randbytes(3 * CHUNK + 1234) + b"a readable tail\n" * 5000


def _write(content: bytes = CONTENT, key: str = KEY) -> bytes:
    out = io.BytesIO()
    writer = ArchiveWriter(out, key)
    for start in range(0, len(content), 10_000):
        writer.write(content[start : start + 10_000])
    writer.close()
    return out.getvalue()


def _read(data: bytes, keys: list[str] | None = None) -> bytes:
    return b"".join(read_plaintext(io.BytesIO(data), keys or [KEY]))


def _frames(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each frame after the header."""
    position = len(MAGIC) + 2 + int.from_bytes(data[len(MAGIC) : len(MAGIC) + 2], "big")
    spans = []
    while position < len(data):
        size = int.from_bytes(data[position + 1 : position + 5], "big")
        spans.append((position, position + 5 + size))
        position += 5 + size
    return spans


def test_what_is_written_reads_back() -> None:
    data = _write()
    assert len(_frames(data)) >= 4
    assert _read(data) == CONTENT
    assert _read(_write(b"")) == b""


def test_the_content_is_not_readable_in_the_file() -> None:
    assert b"a readable tail" not in _write()


def test_each_file_is_encrypted_under_a_key_of_its_own() -> None:
    first, second = _write(), _write()
    assert first != second
    assert _read(first) == _read(second) == CONTENT


def test_another_key_is_refused_before_anything_is_read() -> None:
    with pytest.raises(WrongKeyError) as refused:
        next(read_plaintext(io.BytesIO(_write()), [OTHER_KEY]))
    assert "this backup was made with a different field-encryption key" in str(refused.value)
    assert key_fingerprint(KEY) in str(refused.value)
    assert key_fingerprint(OTHER_KEY) in str(refused.value)


def test_an_older_key_in_the_list_still_reads() -> None:
    assert _read(_write(), [OTHER_KEY, KEY]) == CONTENT


def test_the_fingerprint_names_a_key_without_revealing_it() -> None:
    fingerprint = key_fingerprint(KEY)
    assert fingerprint == key_fingerprint(KEY) != key_fingerprint(OTHER_KEY)
    assert len(fingerprint) == 16
    assert fingerprint not in base64.urlsafe_b64decode(KEY).hex()


def test_a_changed_byte_anywhere_is_refused() -> None:
    data = _write()
    rng = random.Random(11)
    for position in [0, 25, 40, *rng.sample(range(len(data)), 40), len(data) - 1]:
        changed = bytearray(data)
        changed[position] ^= 1 << rng.randrange(8)
        with pytest.raises(ArchiveError):
            _read(bytes(changed))


def test_a_file_cut_short_is_refused_at_every_frame_boundary() -> None:
    data = _write()
    for start, end in _frames(data):
        for cut in (start, start + 3, end - 1):
            with pytest.raises(ArchiveError, match="cut short"):
                _read(data[:cut])


def test_reordered_or_dropped_frames_are_refused() -> None:
    data = _write()
    (a0, a1), (b0, b1), *_ = _frames(data)
    swapped = data[:a0] + data[b0:b1] + data[a0:a1] + data[b1:]
    dropped = data[:a0] + data[b0:]
    for damaged in (swapped, dropped):
        with pytest.raises(ArchiveError, match="altered or damaged"):
            _read(damaged)


def test_data_after_the_final_frame_is_refused() -> None:
    data = _write()
    last_start, _ = _frames(data)[-1]
    with pytest.raises(ArchiveError, match="data after its final part"):
        _read(data + data[last_start:])


def test_a_file_is_private_from_its_first_byte_and_appears_whole(tmp_path: Path) -> None:
    path = tmp_path / "practice.sbbackup"
    out, temp = atomic_private_file(path)
    assert stat.S_IMODE(temp.stat().st_mode) == 0o600
    out.write(_write())
    assert not path.exists(), "nothing under the real name before it is complete"
    publish(out, temp, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["practice.sbbackup"]
    assert _read(path.read_bytes()) == CONTENT
