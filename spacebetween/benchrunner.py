"""`spacebetween bench`: the benchmark suite. It lives in bench/ of the source checkout, not in the
installed package, so this finds it next to the package and runs bench/run.py (docs/performance.md)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
NOT_A_CHECKOUT = (
    "spacebetween bench runs from a source checkout (an editable install: pip install -e .); "
    "there is no bench/run.py next to the package at {path}."
)


def main(argv: list[str]) -> int:
    if not (CHECKOUT / "bench" / "run.py").is_file():
        print(NOT_A_CHECKOUT.format(path=CHECKOUT), file=sys.stderr)
        return 2
    if str(CHECKOUT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT))
    runner = importlib.import_module("bench.run")
    return int(runner.main(argv))
