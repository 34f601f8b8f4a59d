"""The transcript coder: features, training on a slice, held-out transcripts, the shipped weights."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from spacebetween.core.transcripts.evaluate import held_out, score
from spacebetween.core.transcripts.features import BLOCKS, Sparse, _chars, _own, featurise, tokens
from spacebetween.core.transcripts.model import (
    MODEL_PATH,
    Coder,
    TrainSettings,
    log_count_ratios,
    subtype_rows,
    train,
    train_head,
)
from spacebetween.core.transcripts.table import (
    CLIENT_LABELS,
    SUBTYPES,
    THERAPIST_LABELS,
    Utterance,
    annomi_utterances,
    split_code,
    transcript_spans,
)
from spacebetween.research.tabular import read_csv

ANNOMI = Path(__file__).resolve().parent.parent / "data" / "published" / "annomi" / "AnnoMI-full.csv"


@pytest.fixture(scope="module")
def annomi() -> list[Utterance]:
    header, rows = read_csv(ANNOMI)
    return annomi_utterances(rows, header)


def transcripts(utterances: list[Utterance], ids: set[str]) -> list[Utterance]:
    return [u for u in utterances if u.transcript_id in ids]


def test_annomi_copy_is_whole(annomi: list[Utterance]) -> None:
    assert len({u.transcript_id for u in annomi}) == 113
    assert len(annomi) == 8370  # one per (transcript, utterance): the 428 ten-annotator ones once


def test_annomi_questions_and_reflections_carry_their_subtypes(annomi: list[Utterance]) -> None:
    for behaviour, subtypes in SUBTYPES.items():
        labelled = [u for u in annomi if u.label == behaviour]
        assert labelled and all(u.subtype in subtypes for u in labelled)  # every one has a subtype
        assert {u.subtype for u in labelled} == set(subtypes)
    assert {u.subtype for u in annomi if u.label not in SUBTYPES} == {""}


def test_each_block_holds_the_crc32_of_its_grams_once_with_its_weight() -> None:
    # the recipe of docs/transcripts.md, computed here without the featuriser's memo: a word that
    # repeats ("you know ... you know") is one column per block, and the two blocks, hashed with
    # different seeds, do not share columns
    text = "You know, I know you know it."
    row = featurise([Utterance("t", "0", "client", text, 2)], bits=20)
    values = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
    words = tokens(text)
    for block, grams in (("word", _own(words)), ("char", _chars(words))):
        seed, weight = BLOCKS[block]
        columns = {zlib.crc32(g.encode(), seed) & ((1 << 20) - 1) for g in grams}
        assert len(columns) < len(grams)  # repeats collapse
        for column in columns:
            assert values[column] == pytest.approx(weight / np.sqrt(len(columns)))
    assert len(values) == len(row.indices)  # no column twice in a row
    # the same grams as the next turn's "previous turn" block: another seed (3 · 7919 + 0, another
    # speaker), so other columns
    pair = featurise(
        [Utterance("t", "0", "therapist", text, 2), Utterance("t", "1", "client", "Right.", 3)], bits=20
    )
    second = set(pair.indices[pair.indptr[1] : pair.indptr[2]].tolist())
    prev = {zlib.crc32(g.encode(), 3 * 7919) & ((1 << 20) - 1) for g in _own(words)}
    own = {zlib.crc32(g.encode(), BLOCKS["word"][0]) & ((1 << 20) - 1) for g in _own(words)}
    assert prev <= second and not own & second


def test_neighbours_never_cross_transcripts(annomi: list[Utterance]) -> None:
    two = transcripts(annomi, {"0", "1"})
    alone = featurise(transcripts(annomi, {"1"}), bits=12)
    together = featurise(two, bits=12)
    start, stop = transcript_spans(two)[1]
    for i in range(stop - start):
        a = alone.take(np.asarray([i]))
        b = together.take(np.asarray([start + i]))
        assert a.indices.tolist() == b.indices.tolist()
        assert np.allclose(a.data, b.data)


def test_training_is_deterministic_and_survives_saving(annomi: list[Utterance], tmp_path: Path) -> None:
    few = transcripts(annomi, {"0", "1", "2", "3"})
    settings = TrainSettings(steps=20, bits=14)
    one, two = train(few, settings), train(few, settings)
    for head in ("therapist", "client"):
        assert np.array_equal(one.heads[head].weights, two.heads[head].weights)
    assert set(one.subtypes) == set(SUBTYPES)
    for behaviour in SUBTYPES:
        assert np.array_equal(one.subtypes[behaviour].weights, two.subtypes[behaviour].weights)
    one.save(tmp_path / "m.npz")
    loaded = Coder.load(tmp_path / "m.npz")
    # float16 storage does not change the codes here
    assert loaded.code(few, refine=True) == one.code(few, refine=True)
    assert loaded.meta["transcripts"] == "4"


def test_refined_codes_add_a_subtype_to_questions_and_reflections_only(annomi: list[Utterance]) -> None:
    few = transcripts(annomi, {"0", "1", "2", "3"})
    coder = train(few, TrainSettings(steps=20, bits=14))
    main, fine = coder.code(few), coder.code(few, refine=True)
    assert [split_code(c)[0] for c in fine] == main
    for m, f in zip(main, fine, strict=True):
        assert (split_code(f)[1] in SUBTYPES[m]) if m in SUBTYPES else f == m
    assert any(f != m for m, f in zip(main, fine, strict=True))


def test_a_model_file_without_subtype_heads_codes_the_main_behaviours(
    annomi: list[Utterance], tmp_path: Path
) -> None:
    # as from AnnoMI-simple, or a model file built before the subtype heads
    few = [
        Utterance(u.transcript_id, u.utterance_id, u.speaker, u.text, u.row, u.label)
        for u in transcripts(annomi, {"0", "1", "2"})
    ]
    coder = train(few, TrainSettings(steps=20, bits=14))
    assert coder.subtypes == {}
    coder.save(tmp_path / "old.npz")
    loaded = Coder.load(tmp_path / "old.npz")
    assert loaded.subtypes == {} and loaded.code(few, refine=True) == loaded.code(few)


def test_log_count_ratios_by_hand() -> None:
    # rows: {0, 1} and {0} of class a, {2} of class b; add-one counts for a: p = (3, 2, 1) / 6,
    # for the rest: q = (1, 1, 2) / 4 (Wang & Manning 2012's ratio, one class against the rest)
    x = Sparse(np.array([0, 2, 3, 4]), np.array([0, 1, 0, 2]), np.array([0.5, 0.5, 1.0, 1.0]), 3)
    r = log_count_ratios(x, ["a", "a", "b"], ("a", "b"), 1.0)
    assert np.allclose(r[:, 0], np.log([2.0, 4 / 3, 1 / 3]))
    assert np.allclose(r[:, 1], -r[:, 0])


def test_scaled_head_folds_the_ratios_into_its_weights(annomi: list[Utterance]) -> None:
    few = [u for u in transcripts(annomi, {"0", "1", "2"}) if u.speaker == "therapist"]
    x = featurise(few, 14)
    labels = [u.label for u in few]
    settings = TrainSettings(steps=20, bits=14)
    plain = train_head(x, labels, THERAPIST_LABELS, settings)
    scaled = train_head(x, labels, THERAPIST_LABELS, settings, nb=True)
    assert not np.allclose(plain.weights, scaled.weights)
    assert np.array_equal(scaled.weights, train_head(x, labels, THERAPIST_LABELS, settings, nb=True).weights)
    # used like any head: its codes on its own training rows mostly match the labels
    assert np.mean([a == b for a, b in zip(scaled.predict(x), labels, strict=True)]) > 0.8


def test_held_out_transcripts_beat_the_majority_class(annomi: list[Utterance]) -> None:
    ids = sorted({u.transcript_id for u in annomi}, key=int)
    train_ids, test_ids = set(ids[:35]), set(ids[35:50])
    coder = train(transcripts(annomi, train_ids), TrainSettings(steps=60, bits=16))
    test = transcripts(annomi, test_ids)
    codes = coder.code(test)
    for speaker, labels, floor in (("therapist", THERAPIST_LABELS, 0.6), ("client", CLIENT_LABELS, 0.4)):
        pairs = [(u.label, c) for u, c in zip(test, codes, strict=True) if u.speaker == speaker]
        s = score([t for t, _ in pairs], [p for _, p in pairs], labels)
        # always answering the commonest class would give macro-F1 below 1/len(labels)
        assert s.macro_f1 > floor, (speaker, s.as_dict())


def test_a_trained_coder_is_scored_on_held_out_transcripts_as_the_folds_are(
    annomi: list[Utterance],
) -> None:
    ids = sorted({u.transcript_id for u in annomi}, key=int)
    coder = train(transcripts(annomi, set(ids[:35])), TrainSettings(steps=60, bits=16))
    test = transcripts(annomi, set(ids[35:50]))
    result = held_out(coder, test)
    assert result.predicted == coder.code(test, refine=True)
    for speaker in ("therapist", "client"):
        assert result.scores[speaker].confusion.sum() == sum(u.speaker == speaker for u in test)
    for behaviour, subtypes in SUBTYPES.items():
        rows = subtype_rows(test, behaviour)
        scored = result.scores[f"{behaviour}_subtype"]
        assert scored.labels == subtypes and scored.confusion.sum() == len(
            rows
        )  # as if the main code were right
        # where the main code was right, the refined code carries the same head's subtype: those turns
        # are a part of the subtype's confusion matrix, cell by cell
        right = [split_code(result.predicted[i]) for i in rows]
        part = score(
            [test[i].subtype for i, (main, _) in zip(rows, right, strict=True) if main == behaviour],
            [sub for main, sub in right if main == behaviour],
            subtypes,
        )
        assert part.confusion.sum() > 10 and (part.confusion <= scored.confusion).all()


def test_shipped_model(annomi: list[Utterance]) -> None:
    assert MODEL_PATH.stat().st_size < 4_000_000
    coder = Coder.load()
    assert coder.meta["transcripts"] == "113"
    assert set(coder.heads) == {"therapist", "client"} and set(coder.subtypes) == set(SUBTYPES)
    sample = transcripts(annomi, {str(i) for i in range(0, 113, 10)})
    codes = [split_code(c) for c in coder.code(sample, refine=True)]
    # the shipped model was trained on these utterances: a check that the file is the trained model,
    # not an evaluation (docs/transcripts.md reports the cross-validated figures)
    agree = np.mean([u.label == c for u, (c, _) in zip(sample, codes, strict=True)])
    assert agree > 0.85
    both = [(u.subtype, s) for u, (c, s) in zip(sample, codes, strict=True) if u.subtype and c == u.label]
    assert len(both) > 100 and np.mean([a == b for a, b in both]) > 0.85
