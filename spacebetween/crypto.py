"""Encrypting single values at rest (field encryption), with keys kept apart from SECRET_KEY and the DB.

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) under `settings.FIELD_ENCRYPTION_KEYS`, newest
key first; older keys still decrypt, so keys can be rotated by prepending a new one and re-encrypting.

Every value is bound to a `context` naming where it lives (e.g. "accounts.TotpDevice.secret:42"):
decrypting with another context fails, so a ciphertext copied into another row or field is refused.
Fernet has no associated data, so the context travels inside the authenticated plaintext.

Failure is never silent: a wrong key, a changed byte or a wrong context raises `DecryptionError`.
"""

from __future__ import annotations

import functools
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

_SEPARATOR = "\x00"


class DecryptionError(Exception):
    """The value cannot be decrypted: wrong key, tampered with, or read from the wrong place."""


@functools.lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _keyring() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def _check_context(context: str) -> None:
    if not context or _SEPARATOR in context:
        raise ValueError("context must be a non-empty string without NUL characters")


def encrypt(plaintext: str, *, context: str) -> str:
    """Encrypt `plaintext` for storage at `context`; returns URL-safe ASCII text."""
    _check_context(context)
    return _keyring().encrypt(f"{context}{_SEPARATOR}{plaintext}".encode()).decode("ascii")


def decrypt(token: str, *, context: str) -> str:
    """Decrypt a value made by `encrypt` for the same `context`."""
    _check_context(context)
    try:
        data = _keyring().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("cannot decrypt: wrong key or altered value") from exc
    stored_context, separator, plaintext = data.partition(_SEPARATOR)
    if not separator or stored_context != context:
        raise DecryptionError("cannot decrypt: the value belongs to another record")
    return plaintext


def rotate(token: str) -> str:
    """Re-encrypt under the newest key (for a key-rotation job); the context is kept."""
    try:
        return _keyring().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise DecryptionError("cannot decrypt: wrong key or altered value") from exc


# ------------------------------------------------------------------------------ one-time tokens
# A capability sent by e-mail or printed once (a questionnaire link, a first sign-in link): 256 random
# bits, of which only the SHA-256 is stored, so that the database and its backups cannot open it.


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def one_time_token() -> tuple[str, str]:
    """A new token and the hash to store for it."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)
