"""`spacebetween bench` outside a source checkout says so instead of failing on an import."""

from __future__ import annotations

from pathlib import Path

import pytest

from spacebetween import cli


def test_bench_outside_a_checkout_names_the_missing_suite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "CHECKOUT", tmp_path)
    assert cli.main(["bench", "--quick"]) == 2
    err = capsys.readouterr().err
    assert "source checkout" in err and str(tmp_path) in err


def test_bench_refuses_an_unknown_workload(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bench", "--only", "submit,nonsense"])
    assert exit_info.value.code == 2
    assert "unknown workload nonsense" in capsys.readouterr().err
