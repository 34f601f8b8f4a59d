"""Transcript-grouped cross-validation, and a trained coder scored on held-out transcripts, the same
way: macro-F1, per-class F1 and confusion matrices; how far the coded share of open questions and
complex reflections falls from the annotators' per session; and how well AnnoMI's own annotators agree
with each other, the ceiling any coder is read against.

Folds split whole transcripts (never utterances of one transcript across folds), assigned like
scikit-learn's GroupKFold: largest transcript first, each to the fold with the fewest utterances so far.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from spacebetween.core.transcripts.features import featurise
from spacebetween.core.transcripts.model import HEADS, Coder, Head, TrainSettings, subtype_rows, train_head
from spacebetween.core.transcripts.table import SUBTYPES, Utterance, refined, split_code

MIN_SESSION_TURNS = 5  # a session's share is compared only where both sides have this many turns


@dataclass(frozen=True)
class Scores:
    labels: tuple[str, ...]
    confusion: npt.NDArray[np.int64]  # rows: true, columns: predicted

    @property
    def per_class_f1(self) -> dict[str, float]:
        c = self.confusion
        tp = np.diag(c).astype(np.float64)
        denom = c.sum(axis=0) + c.sum(axis=1)
        f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
        return {label: float(v) for label, v in zip(self.labels, f1, strict=True)}

    @property
    def macro_f1(self) -> float:
        return float(np.mean(list(self.per_class_f1.values())))

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / max(self.confusion.sum(), 1))

    def as_dict(self) -> dict[str, Any]:
        return {
            "macro_f1": round(self.macro_f1, 4),
            "accuracy": round(self.accuracy, 4),
            "per_class_f1": {k: round(v, 4) for k, v in self.per_class_f1.items()},
            "labels": list(self.labels),
            "confusion": self.confusion.tolist(),
        }


def score(true: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> Scores:
    index = {label: i for i, label in enumerate(labels)}
    confusion = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(true, predicted, strict=True):
        confusion[index[t], index[p]] += 1
    return Scores(tuple(labels), confusion)


def group_folds(groups: Sequence[str], k: int) -> npt.NDArray[np.int64]:
    """The fold (0..k-1) of each item, whole groups per fold, balanced by size (deterministic)."""
    sizes: dict[str, int] = {}
    for g in groups:
        sizes[g] = sizes.get(g, 0) + 1
    if len(sizes) < k:
        raise ValueError(f"{k} folds need at least {k} transcripts, not {len(sizes)}")
    load = np.zeros(k, dtype=np.int64)
    fold_of: dict[str, int] = {}
    for g in sorted(sizes, key=lambda g: (-sizes[g], g)):
        f = int(np.argmin(load))
        fold_of[g] = f
        load[f] += sizes[g]
    return np.asarray([fold_of[g] for g in groups], dtype=np.int64)


@dataclass(frozen=True)
class Evaluation:
    scores: dict[str, Scores]  # "therapist", "client", and "<behaviour>_subtype" per table.SUBTYPES
    predicted: list[str]  # every utterance's code (out of fold, or by the held-out coder), refined


def cross_validate(
    utterances: Sequence[Utterance], *, folds: int = 5, settings: TrainSettings | None = None
) -> Evaluation:
    """Out-of-fold predictions of every head, scored against the labels, fold by transcript.

    A subtype head is scored on the utterances the annotators gave its behaviour (as if the main code
    were right); `predicted` refines the out-of-fold main codes as the shipped coder does, for
    `session_shares`."""
    settings = settings or TrainSettings()
    x = featurise(utterances, settings.bits)
    fold = group_folds([u.transcript_id for u in utterances], folds)
    predicted = [""] * len(utterances)

    def out_of_fold(
        rows: npt.NDArray[np.int64], y: Sequence[str], labels: Sequence[str], name: str
    ) -> tuple[list[str], list[Head]]:
        """Each fold's head, trained on the other folds' `rows`, and its codes for the rows in its fold."""
        guess = [""] * len(rows)
        heads = []
        for f in range(folds):
            train_mask = fold[rows] != f
            head = train_head(
                x.take(rows[train_mask]),
                [y[int(j)] for j in np.flatnonzero(train_mask)],
                labels,
                settings,
                nb=name in settings.nb_heads,
            )
            held_out = np.flatnonzero(~train_mask)
            for j, label in zip(held_out, head.predict(x.take(rows[held_out])), strict=True):
                guess[j] = label
            heads.append(head)
        return guess, heads

    out: dict[str, Scores] = {}
    for speaker, labels in HEADS.items():
        rows = np.asarray([i for i, u in enumerate(utterances) if u.speaker == speaker], dtype=np.int64)
        y = [utterances[i].label for i in rows]
        guess, _ = out_of_fold(rows, y, labels, speaker)
        out[speaker] = score(y, guess, labels)
        for i, code in zip(rows, guess, strict=True):
            predicted[i] = code
    for behaviour, subtypes in SUBTYPES.items():
        rows = subtype_rows(utterances, behaviour)
        if not len(rows):
            continue
        y = [utterances[i].subtype for i in rows]
        guess, heads = out_of_fold(rows, y, subtypes, behaviour)
        out[f"{behaviour}_subtype"] = score(y, guess, subtypes)
        # refine what each fold's main head coded as this behaviour with the same fold's subtype head
        for f, head in enumerate(heads):
            coded = np.asarray(
                [i for i in np.flatnonzero(fold == f) if predicted[i] == behaviour], dtype=np.int64
            )
            if len(coded):
                for i, sub in zip(coded, head.predict(x.take(coded)), strict=True):
                    predicted[i] = refined(behaviour, sub)
    return Evaluation(out, predicted)


def held_out(coder: Coder, utterances: Sequence[Utterance]) -> Evaluation:
    """A trained coder's figures on labelled transcripts it was not trained on (issue #19's 20
    held-out AnnoMI transcripts), scored as `cross_validate` scores its folds, so that the two read
    side by side: each subtype head on the turns the annotators gave its behaviour."""
    predicted = coder.code(utterances, refine=True)
    out: dict[str, Scores] = {}
    for speaker, labels in HEADS.items():
        spoken = [
            (u.label, split_code(code)[0])
            for u, code in zip(utterances, predicted, strict=True)
            if u.speaker == speaker
        ]
        out[speaker] = score([t for t, _ in spoken], [p for _, p in spoken], labels)
    x = featurise(utterances, coder.bits)
    for behaviour, head in coder.subtypes.items():
        rows = subtype_rows(utterances, behaviour)
        if len(rows):
            y = [utterances[i].subtype for i in rows]
            out[f"{behaviour}_subtype"] = score(y, head.predict(x.take(rows)), SUBTYPES[behaviour])
    return Evaluation(out, predicted)


def session_shares(
    utterances: Sequence[Utterance], predicted: Sequence[str], behaviour: str
) -> dict[str, Any]:
    """Per transcript, the share of `behaviour` (question, reflection) of its first subtype ("open",
    "simple") by the annotators and by the coder, where each counts MIN_SESSION_TURNS turns of it or
    more: the mean absolute difference in percentage points, the mean signed one (coder minus
    annotators) and Pearson's r. This is the figure the session view shows, so its error is what a
    therapist reading "% open questions" needs."""
    first = SUBTYPES[behaviour][0]
    true: dict[str, list[bool]] = {}
    coded: dict[str, list[bool]] = {}
    for u, code in zip(utterances, predicted, strict=True):
        if u.label == behaviour and u.subtype:
            true.setdefault(u.transcript_id, []).append(u.subtype == first)
        main, sub = split_code(code)
        if u.speaker == "therapist" and main == behaviour and sub:
            coded.setdefault(u.transcript_id, []).append(sub == first)
    ids = [t for t in true if min(len(true[t]), len(coded.get(t, ()))) >= MIN_SESSION_TURNS]
    a = np.asarray([100 * np.mean(true[t]) for t in ids])
    b = np.asarray([100 * np.mean(coded[t]) for t in ids])
    defined = len(ids) > 2 and a.std() > 0 and b.std() > 0  # else r is not defined: None, never NaN
    return {
        "share_of": f"{first} among {behaviour}s, percent",
        "transcripts": len(ids),
        "mean_absolute_difference": round(float(np.mean(np.abs(b - a))), 1) if ids else None,
        "mean_difference": round(float(np.mean(b - a)), 1) if ids else None,
        "pearson_r": round(float(np.corrcoef(a, b)[0, 1]), 3) if defined else None,
    }


def annotator_agreement(rows: Sequence[Mapping[str, str]], column: str) -> Scores:
    """Each annotator against the majority of the other annotators of the same utterance (AnnoMI-full
    has several for 428 utterances), over every such pair where the others gave a value in `column`
    ("n/a" and blank are no value): how well people agree, which bounds what a coder can reach."""
    by_utterance: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        value = (row.get(column) or "").strip()
        if value and value != "n/a":
            by_utterance.setdefault((row["transcript_id"], row["utterance_id"]), []).append(value)
    true: list[str] = []
    given: list[str] = []
    for values in by_utterance.values():
        for i, value in enumerate(values):
            others = Counter(values[:i] + values[i + 1 :])
            if others:
                true.append(others.most_common(1)[0][0])
                given.append(value)
    return score(true, given, sorted(set(true) | set(given)))
