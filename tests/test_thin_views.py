"""Thin views (issue #20): every public view function in `spacebetween/**/views*.py` is at most 25 lines,
from its `def` line to its last line, docstring included (decorators not counted). The work goes where
the project puts it: reads in selectors or the package's access helpers, writes and their audit rows in
services, page context in presenters (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "spacebetween"
MAX_LINES = 25


def long_views(root: Path, limit: int = MAX_LINES) -> list[str]:
    """`path:name (n lines)` for each top-level public function over `limit` lines in a views module
    under `root`; private helpers (a leading underscore) and nested functions are not views."""
    found = []
    for path in sorted(root.rglob("views*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name.startswith("_"):
                continue
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > limit:
                found.append(f"{path.relative_to(root).as_posix()}:{node.name} ({lines} lines)")
    return found


def test_every_view_is_at_most_25_lines() -> None:
    assert list(PACKAGE.rglob("views*.py")), "no views modules found: the check would pass vacuously"
    assert long_views(PACKAGE) == [], "views over 25 lines: move reads, writes and context out of them"


def _function(name: str, body_lines: int, *, decorators: int = 0, is_async: bool = False) -> str:
    """A function whose `def` line to last line spans 1 + `body_lines` lines."""
    head = "".join("@decorator\n" for _ in range(decorators))
    body = "".join(f"    x{i} = {i}\n" for i in range(body_lines))
    return f"{head}{'async ' if is_async else ''}def {name}(request):\n{body}\n\n"


def test_the_check_finds_a_long_view_in_a_synthetic_package(tmp_path: Path) -> None:
    package = tmp_path / "app"
    package.mkdir()
    (package / "views.py").write_text(
        "import functools\n\n"
        + _function("long_view", MAX_LINES, decorators=3)  # 26 lines: one too many
        + _function("exactly_at_the_limit", MAX_LINES - 1, decorators=3)  # 25 lines: allowed
        + _function("_long_private_helper", MAX_LINES + 10)
        + "class Page:\n"
        + "".join("    " + line + "\n" for line in _function("long_method", MAX_LINES + 5).splitlines())
    )
    (package / "views_more.py").write_text(_function("long_async_view", MAX_LINES + 2, is_async=True))
    (package / "selectors.py").write_text(_function("long_selector", MAX_LINES + 5))

    assert long_views(tmp_path) == [
        f"app/views.py:long_view ({MAX_LINES + 1} lines)",
        f"app/views_more.py:long_async_view ({MAX_LINES + 3} lines)",
    ]
    assert long_views(tmp_path, limit=MAX_LINES + 5) == []
