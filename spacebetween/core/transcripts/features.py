"""Hashed n-gram features of an utterance and of its neighbouring turns (numpy only).

Each utterance becomes a sparse row of ``2**bits`` columns: blocks for its own words (1- and
2-grams, opening and closing words, length), its characters (3- to 5-grams inside words), the
previous and next utterances (1- and 2-grams, keyed by whether the same person speaks), the turns
two before and two after (1-grams), where it falls in the session, and every word its speaker says in
the whole transcript (the session block: the same for all of one speaker's turns). A feature's column is the
CRC-32 of its text, seeded per block, modulo the width: stable across processes and machines
(Python's own `hash` is not). Each block is L2-normalised, then scaled by its weight, so that no
block drowns the others.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from spacebetween.core.transcripts.table import Utterance, transcript_spans

FEATURE_VERSION = 1
DEFAULT_BITS = 18

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|[0-9]+|[?!]")
# block name -> (seed, weight)
BLOCKS: dict[str, tuple[int, float]] = {
    "word": (1, 1.0),
    "char": (2, 0.7),
    "prev": (3, 0.6),
    "next": (4, 0.5),
    "prev2": (5, 0.3),
    "next2": (6, 0.3),
    "meta": (7, 0.4),
    "session": (8, 0.5),  # every word the same speaker says in the transcript
}


@dataclass(frozen=True)
class Sparse:
    """A CSR matrix: row i holds columns ``indices[indptr[i]:indptr[i+1]]`` with values ``data[...]``."""

    indptr: npt.NDArray[np.int64]
    indices: npt.NDArray[np.int64]
    data: npt.NDArray[np.float64]
    width: int

    @property
    def rows(self) -> int:
        return len(self.indptr) - 1

    def take(self, rows: npt.NDArray[np.int64]) -> Sparse:
        lengths = np.diff(self.indptr)[rows]
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        pos = (
            np.concatenate([np.arange(self.indptr[r], self.indptr[r + 1]) for r in rows])
            if len(rows)
            else (np.zeros(0, dtype=np.int64))
        )
        return Sparse(indptr, self.indices[pos], self.data[pos], self.width)

    def row_ids(self) -> npt.NDArray[np.int64]:
        return np.repeat(np.arange(self.rows), np.diff(self.indptr))

    def dot(self, weights: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """self @ weights, weights of shape (width, k)."""
        out = np.zeros((self.rows, weights.shape[1]))
        if len(self.indices) == 0:
            return out
        contrib = weights[self.indices] * self.data[:, None]
        nonempty = np.flatnonzero(np.diff(self.indptr) > 0)
        out[nonempty] = np.add.reduceat(contrib, self.indptr[nonempty], axis=0)
        return out

    def tdot(self, g: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """self.T @ g, g of shape (rows, k)."""
        rows = self.row_ids()
        return np.stack(
            [
                np.bincount(self.indices, weights=self.data * g[rows, k], minlength=self.width)
                for k in range(g.shape[1])
            ],
            axis=1,
        )


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("’", "'"))


def _words(toks: Sequence[str]) -> list[str]:
    grams = list(toks)
    grams += [f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False)]
    return grams


def _chars(toks: Sequence[str]) -> list[str]:
    grams: list[str] = []
    for t in toks:
        w = f" {t} "
        for n in (3, 4, 5):
            grams += [w[i : i + n] for i in range(max(len(w) - n + 1, 1))]
    return grams


def _length_bucket(n: int) -> str:
    for bound in (1, 3, 6, 10, 20, 40):
        if n <= bound:
            return str(bound)
    return "more"


def _own(toks: Sequence[str]) -> list[str]:
    feats = _words(toks)
    feats.append(f"len={_length_bucket(len(toks))}")
    if toks:
        feats += [f"first={toks[0]}", f"last={toks[-1]}"]
        if len(toks) > 1:
            feats.append(f"first2={toks[0]} {toks[1]}")
    else:
        feats.append("empty")
    return feats


class _Hasher:
    """A gram's column: the CRC-32 of its text with the block's seed, modulo the width. Each (gram, seed)
    is hashed once per `featurise` call and then looked up: hashing in Python is most of the cost of
    coding, and words and word pairs repeat (a session says "you know" many times)."""

    def __init__(self, mask: int) -> None:
        self.mask = mask
        self.memo: dict[int, dict[str, int]] = {}

    def __call__(self, grams: Sequence[str], seed: int) -> list[int]:
        memo = self.memo.setdefault(seed, {})
        for g in [g for g in grams if g not in memo]:
            memo[g] = zlib.crc32(g.encode(), seed) & self.mask
        return [memo[g] for g in grams]


class _Row:
    """One utterance's columns and values, block by block."""

    def __init__(self) -> None:
        self.cols: list[int] = []
        self.vals: list[float] = []

    def add(self, block: str, hashed: Sequence[int]) -> None:
        weight = BLOCKS[block][1]
        if not hashed or weight == 0:
            return
        uniq = sorted(set(hashed))  # a block counts each column once, in column order
        self.cols += uniq
        self.vals += [weight / math.sqrt(len(uniq))] * len(uniq)


def featurise(utterances: Sequence[Utterance], bits: int = DEFAULT_BITS) -> Sparse:
    """One sparse row per utterance, in order; neighbours are looked up within each transcript."""
    width = 1 << bits
    hasher = _Hasher(width - 1)
    toks = [tokens(u.text) for u in utterances]
    own = [_own(t) for t in toks]
    # a word's character n-grams, and a turn's own grams per neighbour block, are built once
    char_seed = BLOCKS["char"][0]
    char_cache: dict[str, list[int]] = {}

    def char_columns(words: Sequence[str]) -> list[int]:
        out: list[int] = []
        for word in words:
            if word not in char_cache:
                char_cache[word] = hasher(_chars([word]), char_seed)
            out += char_cache[word]
        return out

    own_cache: dict[tuple[int, int, int], list[int]] = {}

    def own_columns(seed: int, same: int, j: int) -> list[int]:
        key = (seed, same, j)
        if key not in own_cache:
            own_cache[key] = hasher(own[j], seed * 7919 + same)
        return own_cache[key]

    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for start, stop in transcript_spans(utterances):
        n = stop - start
        session = {
            who: hasher(
                [w for j in range(start, stop) if utterances[j].speaker == who for w in toks[j]],
                BLOCKS["session"][0],
            )
            for who in ("therapist", "client")
        }
        for i in range(start, stop):
            me = utterances[i].speaker
            row = _Row()
            add = row.add

            add("word", hasher(own[i], BLOCKS["word"][0]))
            add("char", char_columns(toks[i]))
            meta = [f"pos={min(int(10 * (i - start) / max(n, 1)), 9)}", f"me={me}"]
            for block, j, seed in (("prev", i - 1, 3), ("next", i + 1, 4)):
                if start <= j < stop:
                    same = int(utterances[j].speaker == me)
                    add(block, own_columns(seed, same, j))
                    meta.append(f"{block}_same={same}")
                else:
                    meta.append(f"{block}=none")
            for block, j in (("prev2", i - 2), ("next2", i + 2)):
                if start <= j < stop:
                    same = int(utterances[j].speaker == me)
                    add(block, hasher(toks[j], BLOCKS[block][0] * 31 + same))
            add("meta", hasher(meta, BLOCKS["meta"][0]))
            add("session", session.get(me, []))
            indices += row.cols
            data += row.vals
            indptr.append(len(indices))
    return Sparse(
        np.asarray(indptr, dtype=np.int64),
        np.asarray(indices, dtype=np.int64),
        np.asarray(data, dtype=np.float64),
        width,
    )
