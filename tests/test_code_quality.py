"""The linters are part of the suite: ruff (style, imports, common bugs, Django and security rules)
over the package, the tests and the benchmarks, and mypy with the Django plugin over the same three."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_ruff_finds_nothing() -> None:
    result = _run(str(BIN / "ruff"), "check", "--no-cache", "spacebetween", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing() -> None:
    # One run over all three: checking the tests or the benchmarks analyses the package they import
    # anyway, so separate runs would type-check it three times. Each error names its file.
    result = _run(str(BIN / "mypy"), "--no-incremental", "spacebetween", "bench", "tests")
    assert result.returncode == 0, result.stdout + result.stderr
