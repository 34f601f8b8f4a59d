"""Production mode, started as an operator would: in a fresh process with only the environment."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

FIELD_KEY = base64.urlsafe_b64encode(b"\x01" * 32).decode()
# Variables the test runner may have set that would change what production mode sees.
_CLEARED = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "FIELD_ENCRYPTION_KEY",
    "DATABASE_URL",
    "DJANGO_SETTINGS_MODULE",
)


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if k not in _CLEARED and not k.startswith("SPACEBETWEEN_")
    }
    environment.update({"SPACEBETWEEN_DATA_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-m", "spacebetween.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _production(**overrides: str) -> dict[str, str]:
    env = {
        "SPACEBETWEEN_PRODUCTION": "1",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "example.org",
        "FIELD_ENCRYPTION_KEY": FIELD_KEY,
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def test_the_deployment_check_finds_no_issues(tmp_path) -> None:
    result = _run(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **_production())
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_check_does_fail_when_something_is_insecure(tmp_path) -> None:
    result = _run(
        tmp_path, "check", "--deploy", "--fail-level", "WARNING", **_production(SECURE_HSTS_SECONDS="0")
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr


@pytest.mark.parametrize(
    "secret_key",
    ["", "too-short-0123456789", "django-insecure-" + "x" * 60, "a" * 60],
    ids=["missing", "short", "django-default", "not-random"],
)
def test_production_refuses_to_start_with_a_weak_secret_key(tmp_path, secret_key) -> None:
    result = _run(tmp_path, "check", **_production(SECRET_KEY=secret_key))
    assert result.returncode != 0
    assert "SECRET_KEY must be set to a random value of at least 50 characters in production" in result.stderr


def test_production_refuses_to_start_with_debug_on(tmp_path) -> None:
    result = _run(tmp_path, "check", **_production(DEBUG="1"))
    assert result.returncode != 0
    assert "DEBUG must be off in production" in result.stderr


def test_production_refuses_to_start_without_a_field_encryption_key(tmp_path) -> None:
    env = _production()
    del env["FIELD_ENCRYPTION_KEY"]
    result = _run(tmp_path, "check", **env)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY must be set in production" in result.stderr
    assert not (tmp_path / "field_key").exists()


def test_it_refuses_a_malformed_field_encryption_key(tmp_path) -> None:
    result = _run(tmp_path, "check", **_production(FIELD_ENCRYPTION_KEY="not-a-key"))
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY must be 32 random bytes" in result.stderr


def test_production_never_allows_demo_accounts(tmp_path) -> None:
    code = "from django.conf import settings; print('demo allowed:', settings.ALLOW_DEMO_ACCOUNTS)"
    result = _run(tmp_path, "shell", "-c", code, **_production(SPACEBETWEEN_ALLOW_DEMO_ACCOUNTS="1"))
    assert result.returncode == 0, result.stderr
    assert "demo allowed: False" in result.stdout


def test_outside_production_the_settings_write_nothing_until_a_key_is_needed(tmp_path) -> None:
    data = tmp_path / "data"
    assert _run(data, "check").returncode == 0
    assert not data.exists()


def test_outside_production_a_field_key_is_generated_once_and_kept_private(tmp_path) -> None:
    encrypt = "from spacebetween import crypto; print(crypto.encrypt('x', context='test'))"
    assert _run(tmp_path, "shell", "-c", encrypt).returncode == 0
    key = (tmp_path / "field_key").read_text()
    assert len(base64.urlsafe_b64decode(key)) == 32
    assert (tmp_path / "field_key").stat().st_mode & 0o077 == 0
    assert _run(tmp_path, "shell", "-c", encrypt).returncode == 0
    assert (tmp_path / "field_key").read_text() == key
