"""The coding model's card (spacebetween/core/transcripts/card.json) is one source for its figures:
it was computed with the settings and feature version of the shipped model, docs/transcripts.md
reports exactly its figures (headline, confusion tables, session shares, annotator agreement), and
the pages' error rates are derived from it. Retraining with other settings, or editing the docs'
figures by hand, fails here until `spacebetween transcripts evaluate --output` is rerun and the docs
follow."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pytest

from spacebetween.core.transcripts.features import FEATURE_VERSION
from spacebetween.core.transcripts.model import CARD_PATH, MODEL_PATH, Coder, model_card

DOC = Path(__file__).resolve().parents[2] / "docs" / "transcripts.md"
ANNOMI = Path(__file__).resolve().parents[1] / "data" / "published" / "annomi" / "AnnoMI-full.csv"


@pytest.fixture(scope="module")
def card() -> dict[str, Any]:
    return model_card()


@pytest.fixture(scope="module")
def doc() -> str:
    return re.sub(r"\s+", " ", DOC.read_text(encoding="utf-8"))  # sentences wrap anywhere


def test_the_card_was_computed_for_the_shipped_model(card: dict[str, Any]) -> None:
    shipped = Coder.load()
    assert card["feature_version"] == FEATURE_VERSION and card["bits"] == shipped.bits
    assert card["settings"] == {k: shipped.meta[k] for k in card["settings"]}
    assert set(card["settings"]) >= {"steps", "learning_rate", "l2", "nb_heads", "nb_alpha"}
    assert str(card["utterances"]) == shipped.meta["utterances"]
    assert str(card["transcripts"]) == shipped.meta["transcripts"]
    assert card["data"] == shipped.meta["data"] == "AnnoMI-full.csv"
    # the transcripts `spacebetween transcripts score` refuses as held out: the training file's
    with ANNOMI.open(newline="", encoding="utf-8") as fh:
        trained = {row["transcript_id"] for row in csv.DictReader(fh)}
    assert len(card["transcript_ids"]) == card["transcripts"] and set(card["transcript_ids"]) == trained
    assert CARD_PATH.parent == MODEL_PATH.parent  # shipped in the package, beside the model


def _row(label: str, counts: list[int], index: int, f1: float) -> str:
    cells = [f"**{n:,}**" if i == index else f"{n:,}" for i, n in enumerate(counts)]
    return f"| {label} ({sum(counts):,}) | " + " | ".join(cells) + f" | {f1:.3f} |"


@pytest.mark.parametrize("head", ["therapist", "client", "question_subtype", "reflection_subtype"])
def test_the_docs_report_the_cards_figures_and_confusion_tables(
    card: dict[str, Any], doc: str, head: str
) -> None:
    scores = card[head]
    assert f"**macro-F1 {scores['macro_f1']:.3f}**, accuracy {scores['accuracy']:.3f}" in doc
    for i, (label, counts) in enumerate(zip(scores["labels"], scores["confusion"], strict=True)):
        assert _row(label, counts, i, scores["per_class_f1"][label]) in doc, (head, label)


def test_the_docs_report_the_cards_session_shares_and_annotator_agreement(
    card: dict[str, Any], doc: str
) -> None:
    for behaviour in ("question", "reflection"):
        shares = card["session_shares"][behaviour]
        assert f"{shares['transcripts']} transcripts" in doc
        assert f"{shares['mean_absolute_difference']:.1f} points" in doc
        assert f"r {shares['pearson_r']:.2f}" in doc
    agreement = card["annotators"]
    named = {
        "main_therapist_behaviour": "therapist behaviour",
        "client_talk_type": "client talk type",
        "question_subtype": "open vs closed",
        "reflection_subtype": "simple vs complex",
    }
    assert set(agreement) == set(named)
    for column, name in named.items():
        assert f"{name} **{agreement[column]['macro_f1']:.3f}**" in doc, column
    for head, row in (("therapist", "therapist behaviour"), ("client", "client talk type")):
        assert f"| {row}, macro-F1 | **{card[head]['macro_f1']:.3f}** |" in doc
