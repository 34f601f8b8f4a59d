"""The exercises and pages are data files: each loads, and each has what the pages promise."""

from __future__ import annotations

import json

import pytest

from spacebetween.exercises import catalogue


def test_the_five_exercises_each_with_a_reason_and_steps() -> None:
    found = catalogue.exercises()
    assert set(found) == {
        "thought-record",
        "emotion-check-in",
        "mindful-breathing",
        "self-compassion-break",
        "other-minds",
    }
    for exercise in found.values():
        assert exercise.why and exercise.steps and any(f.required for f in exercise.fields)
    assert found["mindful-breathing"].minutes == 5


def test_the_thought_record_asks_both_sides_and_the_feeling_afterwards() -> None:
    names = [f.name for f in catalogue.exercises()["thought-record"].fields]
    assert names == [
        "situation",
        "feeling",
        "intensity",
        "thought",
        "evidence_for",
        "evidence_against",
        "balanced_thought",
        "intensity_after",
    ]


def test_at_least_four_pages_each_with_sources() -> None:
    pages = catalogue.pages()
    assert {"emotions", "therapy", "lasting-change", "self-compassion"} <= set(pages)
    for page in pages.values():
        assert len(page.paragraphs) >= 3 and page.sources


def test_a_page_without_sources_is_refused(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = json.loads((catalogue.DATA / "library.json").read_text(encoding="utf-8"))
    doc["pages"][0]["sources"] = []
    (tmp_path / "library.json").write_text(json.dumps(doc), encoding="utf-8")
    monkeypatch.setattr(catalogue, "DATA", tmp_path)
    catalogue.pages.cache_clear()
    try:
        with pytest.raises(ValueError, match="source"):
            catalogue.pages()
    finally:
        monkeypatch.undo()
        catalogue.pages.cache_clear()
