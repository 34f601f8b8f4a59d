"""The backup file: a compressed stream, encrypted and authenticated in chunks.

Layout: MAGIC, a two-byte length and a JSON header (format, salt, key fingerprint) in the clear, then
frames of [final flag: 1 byte][length: 4 bytes][AES-256-GCM ciphertext of up to CHUNK bytes]. The
plaintext is zlib-compressed. Each frame's nonce is its index and final flag, and the header is the
associated data of every frame, so a changed, reordered, dropped or appended frame or a changed
header fails authentication, and a file cut short lacks its final frame (the STREAM construction of
Hoang, Reyhanitabar, Rogaway & Vizár 2015, as in `age`).

The archive key is derived with HKDF-SHA256 from the newest field-encryption key and a random salt
per file, with a context of its own, so it is never a key used for anything else; the header names
the field key only by a fingerprint (another HKDF output), never the key itself.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"SPACEBETWEEN-BACKUP\n"
FORMAT = 1
CHUNK = 64 * 1024
_TAG = 16
_FRAME = struct.Struct(">BI")
_ARCHIVE_INFO = b"spacebetween backup archive key v1"
_FINGERPRINT_INFO = b"spacebetween backup key fingerprint v1"


class ArchiveError(Exception):
    """The file is not a backup, or it was altered, damaged or cut short."""


class WrongKeyError(ArchiveError):
    """The backup was made with a field-encryption key this installation does not have."""


def _raw(field_key: str) -> bytes:
    return base64.urlsafe_b64decode(field_key.encode())


def _hkdf(field_key: str, *, info: bytes, salt: bytes | None, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(_raw(field_key))


def key_fingerprint(field_key: str) -> str:
    """Names a field-encryption key in a backup header and in messages; reveals nothing of the key."""
    return _hkdf(field_key, info=_FINGERPRINT_INFO, salt=None, length=8).hex()


def _nonce(index: int, final: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


class ArchiveWriter:
    """Write with `write(bytes)`, then `close()` once: the final frame marks the end."""

    def __init__(self, out: BinaryIO, field_key: str) -> None:
        salt = secrets.token_bytes(16)
        header = json.dumps(
            {
                "format": FORMAT,
                "cipher": "AES-256-GCM",
                "kdf": "HKDF-SHA256",
                "compression": "zlib",
                "salt": salt.hex(),
                "key_fingerprint": key_fingerprint(field_key),
            },
            sort_keys=True,
        ).encode()
        self._header = MAGIC + struct.pack(">H", len(header)) + header
        self._aead = AESGCM(_hkdf(field_key, info=_ARCHIVE_INFO, salt=salt, length=32))
        self._out = out
        self._zip = zlib.compressobj(6)
        self._pending = bytearray()
        self._index = 0
        out.write(self._header)

    def write(self, data: bytes) -> None:
        self._pending += self._zip.compress(data)
        while len(self._pending) > CHUNK:
            self._frame(bytes(self._pending[:CHUNK]), final=False)
            del self._pending[:CHUNK]

    def close(self) -> None:
        self._pending += self._zip.flush()
        while len(self._pending) > CHUNK:
            self._frame(bytes(self._pending[:CHUNK]), final=False)
            del self._pending[:CHUNK]
        self._frame(bytes(self._pending), final=True)
        self._pending.clear()

    def _frame(self, plaintext: bytes, *, final: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._index, final), plaintext, self._header)
        self._out.write(_FRAME.pack(int(final), len(sealed)) + sealed)
        self._index += 1


def read_header(raw: BinaryIO) -> tuple[bytes, dict[str, object]]:
    if raw.read(len(MAGIC)) != MAGIC:
        raise ArchiveError("this is not a Space Between backup file")
    size = raw.read(2)
    if len(size) != 2:
        raise ArchiveError("the backup file is cut short (in its header)")
    body = raw.read(struct.unpack(">H", size)[0])
    try:
        header = json.loads(body)
    except ValueError as exc:
        raise ArchiveError("the backup file's header is damaged") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        found = header.get("format") if isinstance(header, dict) else None
        raise ArchiveError(f"unknown backup format {found!r}; this version reads format {FORMAT}")
    return MAGIC + size + body, header


def _key_for(header: dict[str, object], field_keys: list[str]) -> str:
    wanted = header.get("key_fingerprint")
    for key in field_keys:
        if key_fingerprint(key) == wanted:
            return key
    ours = ", ".join(key_fingerprint(key) for key in field_keys)
    raise WrongKeyError(
        f"this backup was made with a different field-encryption key (fingerprint {wanted}); "
        f"FIELD_ENCRYPTION_KEY here has fingerprint(s) {ours}. Set FIELD_ENCRYPTION_KEY to the key "
        "the practice used when the backup was made (it may be listed after the current key)."
    )


def read_plaintext(raw: BinaryIO, field_keys: list[str]) -> Iterator[bytes]:
    """The decompressed content, piece by piece; raises ArchiveError on any damage, WrongKeyError
    (before yielding anything) when no key of `field_keys` made the file."""
    header_bytes, header = read_header(raw)
    salt = bytes.fromhex(str(header.get("salt", "")))
    aead = AESGCM(_hkdf(_key_for(header, field_keys), info=_ARCHIVE_INFO, salt=salt, length=32))
    unzip = zlib.decompressobj()
    index = 0
    while True:
        head = raw.read(_FRAME.size)
        if len(head) < _FRAME.size:
            raise ArchiveError("the backup file is cut short: its final part is missing")
        flag, size = _FRAME.unpack(head)
        if flag not in (0, 1) or size > CHUNK + _TAG:
            raise ArchiveError(f"the backup file is damaged at part {index}")
        sealed = raw.read(size)
        if len(sealed) < size:
            raise ArchiveError("the backup file is cut short: its final part is missing")
        try:
            plaintext = aead.decrypt(_nonce(index, bool(flag)), sealed, header_bytes)
        except InvalidTag as exc:
            raise ArchiveError(
                f"the backup file was altered or damaged: part {index} fails authentication"
            ) from exc
        try:
            yield unzip.decompress(plaintext)
        except zlib.error as exc:  # authenticated yet not zlib: not written by ArchiveWriter
            raise ArchiveError("the backup file's content is damaged") from exc
        index += 1
        if flag:
            break
    if raw.read(1):
        raise ArchiveError("the backup file has data after its final part")
    tail = unzip.flush()
    if not unzip.eof:
        raise ArchiveError("the backup file's content is damaged (its compressed stream is incomplete)")
    yield tail


def atomic_private_file(path: Path) -> tuple[BinaryIO, Path]:
    """A new file next to `path`, readable by its owner only (0600 from the start, whatever the
    umask); call `publish` to move it into place."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb"), temp


def publish(out: BinaryIO, temp: Path, path: Path) -> None:
    """fsync the file, rename it over `path` and fsync the directory: after a crash there is either
    the old file or the complete new one, never a partial backup under the real name."""
    out.flush()
    os.fsync(out.fileno())
    out.close()
    os.replace(temp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
