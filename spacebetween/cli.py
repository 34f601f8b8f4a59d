"""The one console command, `spacebetween`.

Research commands (instruments, score, change, sudden-gains, fhir) run on the framework-free core and
never start Django. Everything else is a Django management command of the practice platform
(`spacebetween demo`, `spacebetween audit verify`, `spacebetween migrate`, ...).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

# command -> "module:function"; each function takes the remaining argv and returns an exit status.
RESEARCH_COMMANDS = {
    "instruments": "spacebetween.research.instruments:main",
    "score": "spacebetween.research.score:main",
    "change": "spacebetween.research.change:main",
    "sudden-gains": "spacebetween.research.sudden_gains:main",
    "fhir": "spacebetween.research.fhir:main",
    "bench": "spacebetween.cli:bench",
}
# Subcommands of a platform command that run on the core alone, like the research commands:
# `spacebetween insights batch FILE.parquet` needs no database; `insights refresh` does.
RESEARCH_SUBCOMMANDS = {
    ("insights", "batch"): "spacebetween.research.insights:main",
    ("transcripts", "code"): "spacebetween.research.transcripts:code",
    ("transcripts", "lsm"): "spacebetween.research.transcripts:lsm",
    ("transcripts", "train"): "spacebetween.research.transcripts:train_command",
    ("transcripts", "evaluate"): "spacebetween.research.transcripts:evaluate_command",
    ("transcripts", "score"): "spacebetween.research.transcripts:score_command",
}

# `spacebetween bench` runs the benchmark suite, bench/run.py of the source checkout: it is not part of
# the installed package, so it is found next to the package and imported only when asked for
# (docs/performance.md).
CHECKOUT = Path(__file__).resolve().parent.parent
NOT_A_CHECKOUT = (
    "spacebetween bench runs from a source checkout (an editable install: pip install -e .); "
    "there is no bench/run.py next to the package at {path}."
)


def bench(argv: list[str]) -> int:
    if not (CHECKOUT / "bench" / "run.py").is_file():
        print(NOT_A_CHECKOUT.format(path=CHECKOUT), file=sys.stderr)
        return 2
    if str(CHECKOUT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT))
    runner = importlib.import_module("bench.run")
    return int(runner.main(argv))


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    target, rest = None, args[1:]
    if args and args[0] in RESEARCH_COMMANDS:
        target = RESEARCH_COMMANDS[args[0]]
    elif len(args) > 1 and (args[0], args[1]) in RESEARCH_SUBCOMMANDS:
        target, rest = RESEARCH_SUBCOMMANDS[(args[0], args[1])], args[2:]
    if target is not None:
        module_name, func_name = target.split(":")
        func = getattr(importlib.import_module(module_name), func_name)
        return int(func(rest) or 0)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spacebetween.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["spacebetween", *args])
    return 0


if __name__ == "__main__":
    sys.exit(main())
