"""The packages under spacebetween/ depend on each other one way: each imports only from the layers
below its own, never from its own layer's other packages or from above. And the science in
spacebetween/core knows no web framework.

A package is a top-level folder of spacebetween/ (or a top-level module: `settings`, `urls`, ...).
Every import counts, at the top of a module or inside a function, except those under
`if TYPE_CHECKING:`, which never run (audit names the `User` type of the actor it records).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "spacebetween"

# From the ground up. A package may import from the layers below its own, and from itself.
LAYERS: list[set[str]] = [
    # the science (no Django), the one clock, the encryption and the keys kept on this machine, the
    # hand-written statements, the database backend
    {"core", "clock", "crypto", "localkeys", "statements", "backends"},
    # the page kit every package's pages share; the audit log; the researcher command line
    {"ui", "audit", "research"},
    # the practice; the e-mail outbox
    {"practice", "notifications"},
    # users, roles, sign-in, and which role may open a page (accounts.decorators)
    {"accounts"},
    # clients, episodes, sessions, and access to them
    {"clients"},
    # the instrument catalogue and the measurement models; measures.events.answers_stored; the
    # client's consent (which the e-mail senders above ask)
    {"measures", "consent"},
    # risk flags, escalation, safety plans, crisis resources
    {"safety"},
    # asking for answers and taking them (risk answers through safety.risk first)
    {"answering"},
    # measurement plans; one-time links and the answering pages; the therapist's session reflection;
    # session notes (progress and process notes); exercises and psychoeducation between sessions;
    # session transcripts, coded (below rights and backup, which erase and back them up)
    {"plans", "delivery", "relationship", "notes", "exercises", "transcripts"},
    # what the answers mean (listens to answers_stored); the JSON API
    {"insights", "api"},
    # the clinical pages (caseload, client record, portal, practice); backups;
    # the therapist's workspace: case formulation and goal-based outcomes (reads insights' charts)
    {"web", "backup", "formulation"},
    # the demo practice: writes its clients' formulations, goals, notes and exercises through their
    # services (demo.workspace), so it sits above formulation; nothing below imports it
    {"demo"},
    # data rights (export, erasure, retention): above every package whose records it exports or
    # erases (the formulation's among them); only the owner's pages and the URL map read it
    {"rights"},
    # the practice owner's pages: the audit log, the outbox, the settings gathered from each package;
    # the client's own view of their progress (reads formulation's goals, exercises, safety plans);
    # the therapist's search of their own caseload (reads notes' and formulation's selectors)
    {"owner", "progress", "search"},
    # what starts it all: the settings, the URL map, the WSGI entry, the worker's jobs, the command
    {"settings", "urls", "wsgi", "jobs", "cli"},
]

# Imports that still run up a layer, each with the reason it is not turned round yet. The test fails
# when one of them is gone, so that this list only shrinks.
KNOWN_UPWARD: dict[tuple[str, str], str] = {}

# What spacebetween/core may import besides the standard library and itself: numpy, and the
# validators behind the instrument definitions (JSON Schema) and FHIR (fhir.resources on pydantic).
CORE_MAY_IMPORT = {"numpy", "jsonschema", "fhir", "fhir_core", "pydantic"}


class Import(NamedTuple):
    path: str  # relative to spacebetween/
    line: int
    module: str  # absolute, dotted


def layer_of(package: str) -> int:
    for index, layer in enumerate(LAYERS):
        if package in layer:
            return index
    raise LookupError(f"spacebetween.{package} is in no layer of tests/test_layers.py: add it")


def package_of(path: str) -> str:
    """The package a file belongs to: its top folder under spacebetween/, or a top-level module's name."""
    first = path.split("/")[0]
    return first.removesuffix(".py")


def _module_name(path: str) -> list[str]:
    parts = ["spacebetween", *path.removesuffix(".py").split("/")]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, leaving out the bodies of `if TYPE_CHECKING:` (their `else` still runs)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _type_checking_only(node):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))


def imports(path: str, source: str) -> list[Import]:
    """The modules a file imports (absolute; `from a import b` gives `a`), relative imports resolved,
    in the order of their lines."""
    return sorted(_imports(path, source), key=lambda imp: imp.line)


def _imports(path: str, source: str) -> Iterator[Import]:
    package_parts = _module_name(path)
    if not path.endswith("__init__.py"):
        package_parts = package_parts[:-1]
    for node in _nodes(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module == "spacebetween":  # `from spacebetween import crypto`: the names are modules
                for alias in node.names:
                    yield Import(path, node.lineno, f"spacebetween.{alias.name}")
            else:
                yield Import(path, node.lineno, module)


def upward_imports(sources: Mapping[str, str]) -> list[tuple[Import, str]]:
    """Each import of a package in the importer's own layer or above it, with what is wrong."""
    found = []
    for path, source in sorted(sources.items()):
        importer = package_of(path)
        for imp in imports(path, source):
            parts = imp.module.split(".")
            if parts[0] != "spacebetween" or len(parts) < 2:
                continue
            imported = parts[1]
            if imported == importer:
                continue
            below, above = layer_of(importer), layer_of(imported)
            if above > below:
                found.append((imp, f"spacebetween.{importer} (layer {below}) imports a higher layer"))
            elif above == below:
                found.append((imp, f"spacebetween.{importer} imports {imported}, in its own layer {below}"))
    return found


def package_sources() -> dict[str, str]:
    """Every module under spacebetween/ but its own (empty) __init__.py, which belongs to no layer."""
    return {
        path.relative_to(PACKAGE).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != PACKAGE / "__init__.py"
    }


def test_the_package_itself_imports_nothing() -> None:
    """spacebetween/__init__.py runs before any of its modules: it must not pull a layer in."""
    assert not list(imports("__init__.py", (PACKAGE / "__init__.py").read_text(encoding="utf-8")))


def test_every_package_is_in_a_layer() -> None:
    packages = {package_of(path) for path in package_sources()}
    placed = set().union(*LAYERS)
    assert not packages - placed, f"add these to LAYERS: {sorted(packages - placed)}"
    assert len(placed) == sum(len(layer) for layer in LAYERS), "a package is in two layers"


def test_no_import_runs_back_up() -> None:
    found = upward_imports(package_sources())
    unknown = [
        f"spacebetween/{imp.path}:{imp.line} imports {imp.module}: {why}"
        for imp, why in found
        if (imp.path, imp.module) not in KNOWN_UPWARD
    ]
    assert not unknown, "\n".join(unknown)
    still = {(imp.path, imp.module) for imp, _ in found}
    turned = sorted(set(KNOWN_UPWARD) - still)
    assert not turned, f"these no longer run up a layer; strike them from KNOWN_UPWARD: {turned}"


def test_the_checker_finds_an_import_that_runs_back_up() -> None:
    sources = {
        "core/bad.py": "import numpy\nfrom spacebetween.clients.models import Client\n",
        "ui/forms.py": "def f():\n    from spacebetween.web import views\n",  # inside a function too
        "clients/fine.py": "from spacebetween.accounts.models import User\nfrom . import models\n",
        "audit/typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from spacebetween.accounts.models import User\n",
        "safety/relative.py": "from ..delivery import views\n",
        "delivery/same.py": "from spacebetween.relationship import services\n",
        "practice/pkg.py": "from spacebetween import urls\n",
    }
    found = {(imp.path, imp.module) for imp, _ in upward_imports(sources)}
    assert found == {
        ("core/bad.py", "spacebetween.clients.models"),
        ("ui/forms.py", "spacebetween.web"),
        ("safety/relative.py", "spacebetween.delivery"),
        ("delivery/same.py", "spacebetween.relationship"),
        ("practice/pkg.py", "spacebetween.urls"),
    }
    with pytest.raises(LookupError):
        upward_imports({"newthing/x.py": "from spacebetween.core import change\n"})


def core_imports_outside(sources: Mapping[str, str]) -> list[str]:
    """Imports in spacebetween/core of anything but the standard library, CORE_MAY_IMPORT and core."""
    found = []
    for path, source in sorted(sources.items()):
        if package_of(path) != "core":
            continue
        for imp in imports(path, source):
            top = imp.module.split(".")[0]
            if top == "spacebetween" and imp.module.split(".")[:2] == ["spacebetween", "core"]:
                continue
            if top in sys.stdlib_module_names or top in CORE_MAY_IMPORT:
                continue
            found.append(f"spacebetween/{imp.path}:{imp.line} imports {imp.module}")
    return found


def test_the_core_imports_no_django_and_nothing_else_outside_itself() -> None:
    outside = core_imports_outside(package_sources())
    assert not [line for line in outside if " imports django" in line], "the core must not need Django"
    assert not outside, "\n".join(outside)


def test_the_core_check_finds_django() -> None:
    sources = {
        "core/a.py": "import numpy as np\nimport math\nfrom spacebetween.core import scoring\n",
        "core/b.py": "def f():\n    from django.conf import settings\n",
        "core/c.py": "from spacebetween.clients import models\nimport pandas\n",
    }
    assert core_imports_outside(sources) == [
        "spacebetween/core/b.py:2 imports django.conf",
        "spacebetween/core/c.py:1 imports spacebetween.clients",
        "spacebetween/core/c.py:2 imports pandas",
    ]
