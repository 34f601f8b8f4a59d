"""One room per job: no module outside the science core and the migrations grows past 700 lines
(issue #20: a module that long is doing more than one job; split it along the jobs, as
measures/services.py was split into the catalogue, answering, safety and plans)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MOST_LINES = 700


def _oversized(root: Path, folders: list[str]) -> list[str]:
    found = []
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            parts = path.relative_to(root).parts
            if "migrations" in parts or parts[:2] == ("spacebetween", "core"):
                continue
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MOST_LINES:
                found.append(f"{path.relative_to(root).as_posix()}: {lines} lines")
    return found


def test_no_module_outside_the_core_is_over_700_lines() -> None:
    checked = list((ROOT / "spacebetween").rglob("*.py"))
    assert len(checked) > 100  # the package was found: the check below read something
    assert _oversized(ROOT, ["spacebetween", "bench"]) == []


def test_the_check_finds_a_long_module(tmp_path: Path) -> None:
    (tmp_path / "spacebetween" / "core").mkdir(parents=True)
    (tmp_path / "spacebetween" / "web" / "migrations").mkdir(parents=True)
    long = "x = 1\n" * (MOST_LINES + 1)
    (tmp_path / "spacebetween" / "web" / "views.py").write_text(long)
    (tmp_path / "spacebetween" / "web" / "migrations" / "0001_initial.py").write_text(long)
    (tmp_path / "spacebetween" / "core" / "science.py").write_text(long)
    (tmp_path / "spacebetween" / "web" / "short.py").write_text("x = 1\n" * MOST_LINES)
    assert _oversized(tmp_path, ["spacebetween"]) == [f"spacebetween/web/views.py: {MOST_LINES + 1} lines"]
