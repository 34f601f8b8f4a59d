from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    """Environment for running `spacebetween` in a subprocess on its own embedded SQLite in tmp_path,
    whatever database the test run itself uses."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SPACEBETWEEN_PRODUCTION", "DEBUG"}
    }
    env["SPACEBETWEEN_DATA_DIR"] = str(tmp_path / "data")
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Cli:
    """The console command as `spacebetween ...` runs it, in a subprocess with `demo_env`."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "spacebetween.cli", *args]

    def __call__(self, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@pytest.fixture
def cli(demo_env: dict[str, str]) -> Cli:
    return Cli(demo_env)
