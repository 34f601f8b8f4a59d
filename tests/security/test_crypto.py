"""Field encryption (spacebetween.crypto): round trip, and refusing anything it did not write there."""

from __future__ import annotations

import base64
import os

import pytest
from django.test import override_settings

from spacebetween import crypto


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


OLD, NEW = _key(), _key()


@pytest.fixture(autouse=True)
def keys():  # type: ignore[no-untyped-def]
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        yield


def test_it_decrypts_what_it_encrypted() -> None:
    token = crypto.encrypt("JBSWY3DPEHPK3PXP", context="accounts.TotpDevice.secret:user=1")
    assert crypto.decrypt(token, context="accounts.TotpDevice.secret:user=1") == "JBSWY3DPEHPK3PXP"


def test_the_stored_text_does_not_contain_the_plaintext() -> None:
    assert "JBSWY3DPEHPK3PXP" not in crypto.encrypt("JBSWY3DPEHPK3PXP", context="c")


def test_the_same_value_encrypts_differently_each_time() -> None:
    assert crypto.encrypt("same", context="c") != crypto.encrypt("same", context="c")


def test_it_round_trips_unicode_and_empty_text() -> None:
    for text in ["", "Grüße — 心", "line\nbreak"]:
        assert crypto.decrypt(crypto.encrypt(text, context="c"), context="c") == text


def test_it_refuses_a_value_moved_to_another_record() -> None:
    token = crypto.encrypt("secret", context="accounts.TotpDevice.secret:user=1")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, context="accounts.TotpDevice.secret:user=2")


def test_it_refuses_a_changed_value() -> None:
    token = crypto.encrypt("secret", context="c")
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[40] ^= 1
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(base64.urlsafe_b64encode(bytes(raw)).decode(), context="c")


def test_it_refuses_a_value_under_an_unknown_key() -> None:
    token = crypto.encrypt("secret", context="c")
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]), pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, context="c")


def test_an_old_key_still_decrypts_after_a_new_one_is_added() -> None:
    token = crypto.encrypt("secret", context="c")
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        assert crypto.decrypt(token, context="c") == "secret"


def test_rotation_re_encrypts_under_the_newest_key() -> None:
    token = crypto.encrypt("secret", context="c")
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        rotated = crypto.rotate(token)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):
        assert crypto.decrypt(rotated, context="c") == "secret"


def test_it_refuses_an_empty_context() -> None:
    with pytest.raises(ValueError):
        crypto.encrypt("secret", context="")
