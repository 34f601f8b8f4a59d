"""Transcript-grouped cross-validation: macro-F1, per-class F1 and confusion matrices.

Folds split whole transcripts (never utterances of one transcript across folds), assigned like
scikit-learn's GroupKFold: largest transcript first, each to the fold with the fewest utterances so far.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from spacebetween.core.transcripts.features import featurise
from spacebetween.core.transcripts.model import HEADS, TrainSettings, train_head
from spacebetween.core.transcripts.table import Utterance


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


def cross_validate(
    utterances: Sequence[Utterance], *, folds: int = 5, settings: TrainSettings | None = None
) -> dict[str, Scores]:
    """Out-of-fold predictions of both heads, scored against the labels, fold by transcript."""
    settings = settings or TrainSettings()
    x = featurise(utterances, settings.bits)
    fold = group_folds([u.transcript_id for u in utterances], folds)
    out: dict[str, Scores] = {}
    for speaker, labels in HEADS.items():
        rows = np.asarray([i for i, u in enumerate(utterances) if u.speaker == speaker], dtype=np.int64)
        true = [utterances[i].label for i in rows]
        predicted = [""] * len(rows)
        for f in range(folds):
            train_mask = fold[rows] != f
            train_rows, test_rows = rows[train_mask], rows[~train_mask]
            head = train_head(
                x.take(train_rows),
                [utterances[i].label for i in train_rows],
                labels,
                settings,
                nb=speaker in settings.nb_heads,
            )
            for j, label in zip(np.flatnonzero(~train_mask), head.predict(x.take(test_rows)), strict=True):
                predicted[j] = label
        out[speaker] = score(true, predicted, labels)
    return out
