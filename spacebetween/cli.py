"""The one console command, `spacebetween`.

Research commands (instruments, score, change, sudden-gains, fhir) run on the framework-free core and
never start Django. Everything else is a Django management command of the practice platform
(`spacebetween demo`, `spacebetween audit verify`, `spacebetween migrate`, ...).
"""

from __future__ import annotations

import importlib
import os
import sys

# command -> "module:function"; each function takes the remaining argv and returns an exit status.
RESEARCH_COMMANDS = {
    "instruments": "spacebetween.research.instruments:main",
    "score": "spacebetween.research.score:main",
    "change": "spacebetween.research.change:main",
    "sudden-gains": "spacebetween.research.sudden_gains:main",
    "fhir": "spacebetween.research.fhir:main",
}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in RESEARCH_COMMANDS:
        module_name, func_name = RESEARCH_COMMANDS[args[0]].split(":")
        func = getattr(importlib.import_module(module_name), func_name)
        return int(func(args[1:]) or 0)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spacebetween.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["spacebetween", *args])
    return 0


if __name__ == "__main__":
    sys.exit(main())
