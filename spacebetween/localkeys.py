"""Keys generated once per installation outside production, written on first use, not at import.

Outside production, a missing SECRET_KEY or FIELD_ENCRYPTION_KEY is generated once and kept in the
data directory (`secret_key`, `field_key`, mode 0600), so that every process of one installation
signs and encrypts with the same keys. The file is created the first time a key is needed (a signed
cookie, an encrypted field), so importing the settings, `spacebetween check` or `--help` writes
nothing. No Django import here: settings.py uses it before Django is set up.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import overload


def read_or_create(path: Path, make: Callable[[], str]) -> str:
    """The key in `path`, creating the file (and its folder) with `make()` when there is none.

    Safe for processes racing on a fresh installation: the new key is written to a private temporary
    file and linked into place, which fails if another process got there first; then everyone reads
    the one that won."""
    if not path.exists():
        if not path.parent.exists():  # the data folder, made here: the service user's alone
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(make())
                fh.flush()
                os.fsync(fh.fileno())
            with contextlib.suppress(FileExistsError):  # another process won: use its key
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    elif path.stat().st_mode & 0o077:  # a key file left readable to others (copied in, restored)
        with contextlib.suppress(PermissionError):
            path.chmod(0o600)
    return path.read_text().strip()


def new_secret_key() -> str:
    return secrets.token_urlsafe(64)


def new_field_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


class FileKeys(Sequence[str]):
    """FIELD_ENCRYPTION_KEYS read from (and on first use written to) one key file: a sequence of one
    key, like the list the environment variable gives."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._read: list[str] | None = None

    def _keys(self) -> list[str]:
        if self._read is None:
            self._read = [read_or_create(self.path, new_field_key)]
        return self._read

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._keys()[index]

    def __len__(self) -> int:
        return 1

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __repr__(self) -> str:
        return f"FileKeys({str(self.path)!r})"
