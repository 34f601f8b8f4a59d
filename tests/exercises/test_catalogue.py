"""The exercises and pages are data files: each loads, and each has what the pages promise."""

from __future__ import annotations

import json

import pytest

from spacebetween.exercises import catalogue


def test_the_seven_exercises_each_with_a_reason_and_steps() -> None:
    found = catalogue.exercises()
    assert set(found) == {
        "thought-record",
        "emotion-check-in",
        "mindful-breathing",
        "self-compassion-break",
        "self-compassionate-letter",
        "other-minds",
        "relationship-diary",
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


def test_the_relationship_diary_mirrors_the_ccrt_and_cites_its_source() -> None:
    """Wish, expected response of the other, their actual response, response of self, and the feeling
    afterwards (Luborsky & Crits-Christoph 1998; the formulation's CCRT, docs/formulation.md)."""
    diary = catalogue.exercises()["relationship-diary"]
    assert [f.name for f in diary.fields] == [
        "situation",
        "wanted",
        "expected",
        "they_did",
        "i_did",
        "feeling_after",
        "after_note",
    ]
    assert diary.fields[5].kind == "feeling"
    assert any("Luborsky" in s and "1998" in s for s in diary.sources)


def test_the_kind_letter_asks_for_the_letter_and_cites_its_sources() -> None:
    """The self-compassionate letter (issue #18: "a self-compassion break and self-compassionate
    letter"): written from a kind friend's point of view (Neff 2011; Gilbert 2010; Leary et al. 2007)."""
    letter = catalogue.exercises()["self-compassionate-letter"]
    assert [(f.name, f.required) for f in letter.fields] == [
        ("about", True),
        ("letter", True),
        ("reading_back", False),
    ]
    assert {s.split(",")[0] for s in letter.sources} == {"Neff", "Gilbert", "Leary"}


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


@pytest.mark.parametrize(
    ("page_id", "cited"),
    [
        ("stress-body", ("McEwen", "Sapolsky")),
        ("sleep-mood", ("Walker", "Harvey", "Baglioni")),
        ("old-patterns", ("Ecker", "Hayes", "Safran")),
    ],
)
def test_the_three_further_pages_end_with_their_sources(page_id: str, cited: tuple[str, ...]) -> None:
    page = catalogue.pages()[page_id]
    assert page.title and page.summary and len(page.paragraphs) >= 4
    for author in cited:
        assert any(s.startswith(author) for s in page.sources), author


def test_every_page_is_written_in_short_sentences() -> None:
    """A reading age of about twelve: on average no more than 16 words a sentence, none over 30 (a
    rough stand-in for a readability formula; the texts are reviewed by hand too)."""
    for page in catalogue.pages().values():
        text = " ".join(page.paragraphs).replace("?", ".").replace("!", ".").replace(":", ".")
        sentences = [s.split() for s in text.split(".") if s.strip()]
        assert sum(map(len, sentences)) / len(sentences) <= 16, page.id
        assert max(map(len, sentences)) <= 30, page.id
