"""The coding model: multinomial logistic regressions on the hashed features (numpy only).

- therapist head: question / reflection / therapist_input / other (AnnoMI main_therapist_behaviour);
- client head: change / neutral / sustain (AnnoMI client_talk_type);
- two subtype heads, applied to what the therapist head coded: a question open / closed, a reflection
  simple / complex (AnnoMI-full's question_subtype and reflection_subtype), each trained on the
  utterances its annotators gave that behaviour. Separate heads rather than one head over the refined
  codes: a refined therapist head lowered the main behaviour's cross-validated figure (docs/transcripts.md).

Training is full-batch Adam on the class-weighted (balanced) cross-entropy with an L2 penalty, from
zero weights, for a fixed number of steps: no randomness, so the same data and settings give the same
weights. The therapist and subtype heads are NBSVM-style (Wang & Manning, ACL 2012, "Baselines and
bigrams"): each feature is scaled, per class, by its naive-Bayes log-count ratio before the logistic
regression, and the scaling is folded into the saved weights, so coding costs the same
(docs/transcripts.md: it lifted the therapist head's cross-validated macro-F1 and lowered the client
head's, so the client head does not use it). The weights are saved as the rows of the hashed feature
space that training touched (float16), which keeps the shipped file small.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from spacebetween.core.transcripts.features import DEFAULT_BITS, FEATURE_VERSION, Sparse, featurise
from spacebetween.core.transcripts.table import CLIENT_LABELS, SUBTYPES, THERAPIST_LABELS, Utterance, refined

MODEL_PATH = Path(__file__).resolve().parent / "model.npz"
# The model's cross-validated figures: `spacebetween transcripts evaluate --output` on the data and
# settings the shipped model was trained with. The pages quote their error rates from it and
# docs/transcripts.md reports it; tests/core/test_transcripts_card.py checks that the three agree.
CARD_PATH = Path(__file__).resolve().parent / "card.json"
HEADS = {"therapist": THERAPIST_LABELS, "client": CLIENT_LABELS}


@dataclass(frozen=True)
class TrainSettings:
    steps: int = 150
    learning_rate: float = 0.08
    l2: float = 1e-4
    bits: int = DEFAULT_BITS
    # heads trained on log-count-ratio-scaled features (the subtype heads are named by their behaviour)
    nb_heads: tuple[str, ...] = ("therapist", "question", "reflection")
    nb_alpha: float = 1.0  # add-alpha smoothing of the log-count ratios


def settings_record(settings: TrainSettings) -> dict[str, str]:
    """The training settings as a model file's meta and the model's card record them (the feature
    version and the width are stored beside them)."""
    return {
        "steps": str(settings.steps),
        "learning_rate": str(settings.learning_rate),
        "l2": str(settings.l2),
        "nb_heads": ",".join(settings.nb_heads),
        "nb_alpha": str(settings.nb_alpha),
    }


def model_card(path: str | Path = CARD_PATH) -> dict[str, Any]:
    """The shipped model's cross-validated figures (`CARD_PATH`)."""
    card: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return card


@dataclass
class Head:
    labels: tuple[str, ...]
    weights: npt.NDArray[np.float64]  # (width, k)
    bias: npt.NDArray[np.float64]  # (k,)

    def scores(self, x: Sparse) -> npt.NDArray[np.float64]:
        return x.dot(self.weights) + self.bias

    def proba(self, x: Sparse) -> npt.NDArray[np.float64]:
        return _softmax(self.scores(x))

    def predict(self, x: Sparse) -> list[str]:
        return [self.labels[k] for k in np.argmax(self.scores(x), axis=1)]


@dataclass
class Coder:
    bits: int
    heads: dict[str, Head] = field(default_factory=dict)  # by speaker
    subtypes: dict[str, Head] = field(default_factory=dict)  # by therapist behaviour (table.SUBTYPES)
    meta: dict[str, str] = field(default_factory=dict)

    def code(self, utterances: Sequence[Utterance], *, refine: bool = False) -> list[str]:
        """The predicted code of every utterance (therapist behaviour or client talk type), in order.

        With ``refine`` a question or reflection comes with its subtype ("open_question",
        "complex_reflection", `table.refined`) where the model has that subtype head."""
        x = featurise(utterances, self.bits)
        out = [""] * len(utterances)
        for speaker, head in self.heads.items():
            _fill(out, x, [i for i, u in enumerate(utterances) if u.speaker == speaker], head.predict)
        if refine:
            main = list(out)
            for behaviour, head in self.subtypes.items():
                rows = [i for i, code in enumerate(main) if code == behaviour]  # only therapist codes
                _fill(out, x, rows, head.predict)  # the subtype, then as a refined code
                for i in rows:
                    out[i] = refined(behaviour, out[i])
        return out

    def save(self, path: str | Path) -> None:
        arrays: dict[str, npt.NDArray[np.generic]] = {
            "bits": np.asarray(self.bits),
            "feature_version": np.asarray(FEATURE_VERSION),
            "meta": np.asarray(sorted(f"{k}={v}" for k, v in self.meta.items())),
        }
        for name, head in [*self.heads.items(), *((f"sub_{k}", h) for k, h in self.subtypes.items())]:
            used = np.flatnonzero(np.any(head.weights != 0, axis=1)).astype(np.int32)
            arrays[f"{name}_rows"] = used
            arrays[f"{name}_weights"] = head.weights[used].astype(np.float16)
            arrays[f"{name}_bias"] = head.bias.astype(np.float32)
            arrays[f"{name}_labels"] = np.asarray(head.labels)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
        target = Path(path)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(buffer.getvalue())
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a model file is not
            os.replace(tmp, target)  # complete or not at all
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | Path = MODEL_PATH) -> Coder:
        with np.load(path, allow_pickle=False) as f:
            if int(f["feature_version"]) != FEATURE_VERSION:
                raise ValueError(
                    f"{path}: built for feature version {int(f['feature_version'])}, not {FEATURE_VERSION}"
                )
            bits = int(f["bits"])
            coder = cls(bits, meta=dict(str(m).split("=", 1) for m in f["meta"]))

            def head(name: str) -> Head:
                weights = np.zeros((1 << bits, len(f[f"{name}_labels"])))
                weights[f[f"{name}_rows"]] = f[f"{name}_weights"].astype(np.float64)
                labels = tuple(str(x) for x in f[f"{name}_labels"])
                return Head(labels, weights, f[f"{name}_bias"].astype(np.float64))

            coder.heads = {name: head(name) for name in HEADS}
            # a file built before the subtype heads has none: its codes are the main behaviours only
            coder.subtypes = {b: head(f"sub_{b}") for b in SUBTYPES if f"sub_{b}_labels" in f.files}
        return coder


def _fill(out: list[str], x: Sparse, rows: list[int], predict: Callable[[Sparse], Sequence[str]]) -> None:
    if rows:
        index = np.asarray(rows, dtype=np.int64)
        for i, label in zip(index, predict(x.take(index)), strict=True):
            out[i] = label


def _softmax(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


def train_head(
    x: Sparse, y: Sequence[str], labels: Sequence[str], settings: TrainSettings, *, nb: bool = False
) -> Head:
    """Class-weighted multinomial logistic regression by full-batch Adam (deterministic).

    Trained on the columns the rows use (compacted), then spread back to the full hashed width. With
    ``nb`` the features are scaled per class by `log_count_ratios` and the scaling is folded into the
    returned weights (score = x · (w ∘ r)), so the head is used exactly like an unscaled one.
    """
    used, local = np.unique(x.indices, return_inverse=True)
    compact = Sparse(x.indptr, local.astype(np.int64), x.data, len(used))
    scale = log_count_ratios(compact, y, labels, settings.nb_alpha) if nb else None
    head = _train_compact(compact, y, labels, settings, scale)
    weights = np.zeros((x.width, len(labels)))
    weights[used] = head.weights if scale is None else head.weights * scale
    return Head(head.labels, weights, head.bias)


def log_count_ratios(
    x: Sparse, y: Sequence[str], labels: Sequence[str], alpha: float
) -> npt.NDArray[np.float64]:
    """(width, k): per class c, log((p / |p|₁) / (q / |q|₁)) with p (q) the add-alpha counts of rows in
    (not in) c that use each column, binarised: Wang & Manning's NBSVM ratio, one class against the rest."""
    index = {label: i for i, label in enumerate(labels)}
    target = np.asarray([index[v] for v in y], dtype=np.int64)[x.row_ids()]
    out = np.zeros((x.width, len(labels)))
    for k in range(len(labels)):
        inside = target == k
        p = alpha + np.bincount(x.indices[inside], minlength=x.width)
        q = alpha + np.bincount(x.indices[~inside], minlength=x.width)
        out[:, k] = np.log((p / p.sum()) / (q / q.sum()))
    return out


def _train_compact(
    x: Sparse,
    y: Sequence[str],
    labels: Sequence[str],
    settings: TrainSettings,
    scale: npt.NDArray[np.float64] | None = None,
) -> Head:
    k = len(labels)
    index = {label: i for i, label in enumerate(labels)}
    target = np.asarray([index[v] for v in y], dtype=np.int64)
    counts = np.bincount(target, minlength=k).astype(np.float64)
    class_weight = np.where(counts > 0, len(target) / (k * np.maximum(counts, 1)), 0.0)
    sample_weight = class_weight[target] / len(target)
    onehot = np.eye(k)[target]
    w = np.zeros((x.width, k))
    b = np.zeros(k)
    m_w, v_w, m_b, v_b = np.zeros_like(w), np.zeros_like(w), np.zeros(k), np.zeros(k)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, settings.steps + 1):
        p = _softmax(x.dot(w if scale is None else w * scale) + b)
        g = (p - onehot) * sample_weight[:, None]
        grad_w = (x.tdot(g) if scale is None else x.tdot(g) * scale) + settings.l2 * w
        grad_b = g.sum(axis=0)
        m_w = beta1 * m_w + (1 - beta1) * grad_w
        v_w = beta2 * v_w + (1 - beta2) * grad_w**2
        m_b = beta1 * m_b + (1 - beta1) * grad_b
        v_b = beta2 * v_b + (1 - beta2) * grad_b**2
        lr = settings.learning_rate * np.sqrt(1 - beta2**step) / (1 - beta1**step)
        w -= lr * m_w / (np.sqrt(v_w) + eps)
        b -= lr * m_b / (np.sqrt(v_b) + eps)
    return Head(tuple(labels), w, b)


def train(utterances: Sequence[Utterance], settings: TrainSettings | None = None) -> Coder:
    """Every head on labelled utterances (`Utterance.label`, and `Utterance.subtype` for the subtype
    heads: none when the data carry no subtypes)."""
    settings = settings or TrainSettings()
    x = featurise(utterances, settings.bits)
    coder = Coder(settings.bits)

    def fit(name: str, rows: npt.NDArray[np.int64], y: list[str], labels: Sequence[str]) -> Head:
        return train_head(x.take(rows), y, labels, settings, nb=name in settings.nb_heads)

    for speaker, labels in HEADS.items():
        rows = np.asarray([i for i, u in enumerate(utterances) if u.speaker == speaker], dtype=np.int64)
        coder.heads[speaker] = fit(speaker, rows, [utterances[i].label for i in rows], labels)
    for behaviour, subtypes in SUBTYPES.items():
        rows = subtype_rows(utterances, behaviour)
        y = [utterances[i].subtype for i in rows]
        if len(set(y)) == len(subtypes):  # data without subtypes: no head
            coder.subtypes[behaviour] = fit(behaviour, rows, y, subtypes)
    coder.meta = {
        **settings_record(settings),
        "subtypes": ",".join(coder.subtypes),
        "utterances": str(len(utterances)),
        "transcripts": str(len({u.transcript_id for u in utterances})),
    }
    return coder


def subtype_rows(utterances: Sequence[Utterance], behaviour: str) -> npt.NDArray[np.int64]:
    """The therapist utterances labelled `behaviour` whose subtype is known: a subtype head's rows."""
    return np.asarray(
        [
            i
            for i, u in enumerate(utterances)
            if u.speaker == "therapist" and u.label == behaviour and u.subtype in SUBTYPES[behaviour]
        ],
        dtype=np.int64,
    )
