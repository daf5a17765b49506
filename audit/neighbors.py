"""Closest records at any size: exact below a size threshold, approximate (FAISS IVF) above it.

`closest(a, b)` answers what `audit.embed.closest` answers (each row's closest row of the other
set, both directions, cosine distance on L2-normalised rows), so checks do not change. Exact search
compares every pair, which is quadratic: 1M vs 1M records is ~2.6e14 multiply-adds, hours on two
cores. Above `EXACT_MAX_PAIRS` an inverted-file index (k-means cells, `nprobe` cells searched per
query; Jégou et al., 'Product Quantization for Nearest Neighbor Search', TPAMI 2011; Johnson et al.,
'Billion-scale similarity search with GPUs', 2019) is searched instead, one direction at a time and
only when a check asks for it.

An approximate neighbour can only be farther than the true one, which makes records look less
exposed than they are. So every approximate search first answers a seeded sample of queries
exactly (those answers are kept), then picks the fewest cells to probe whose recall@1 on that
sample has a 95% Wilson lower bound of at least MIN_RECALL, and searches everything once with it.
No number of cells reaching that bound is an AuditError, which quarantines (fail-closed).

All splits of an audit live in one embedding space, so a `Searcher` trains the k-means cells once
(on the first base it indexes) and reuses them, and keeps each base's index for every later search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from audit.embed import Closest, closest as exact_closest
from audit.stats import wilson
from privacy.errors import AuditError

EXACT_MAX_PAIRS = 2_500_000_000  # 50k x 50k: ~20-40 s of matrix products on two cores
RECALL_SAMPLE = 1000
CELL_ROWS = 256  # ~rows per k-means cell
TRAIN_ROWS_PER_CELL = 40
NPROBE = 24  # kept for the bench's fixed-probe table; searches choose their own (PROBE_LADDER)
PROBE_LADDER = (4, 8, 16, 32, 64, 128, 256, 512)
MIN_RECALL = 0.95
EXACT_CHUNK_ROWS = 64


@dataclass(frozen=True)
class SearchStats:
    """How one approximate search went: cells probed and the recall@1 measured on its sample."""

    nprobe: int
    cells: int
    recall: float
    recall_low: float
    sample: int


class Searcher:
    """IVF indexes over the bases an audit searches, sharing one trained set of k-means cells."""

    def __init__(self, seed: int = 0, min_recall: float | None = None) -> None:
        self.seed = seed
        self._min_recall = min_recall
        self._centroids: np.ndarray | None = None
        # id(base) → (base as given, kept so that its id stays its own; float32 copy; index)
        self._indexes: dict[int, tuple] = {}

    @property
    def min_recall(self) -> float:
        return MIN_RECALL if self._min_recall is None else self._min_recall

    def search(self, base: np.ndarray, queries: np.ndarray,
               nprobe: int | None = None) -> tuple[np.ndarray, np.ndarray, SearchStats]:
        """(cosine distance, index into `base`, stats) for every query row. A fixed `nprobe` (for
        benchmarks) skips the choice of cells and is never refused; the audit leaves it unset."""
        base, index = self._index(base)
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        sample = np.random.default_rng(self.seed).choice(len(queries), min(RECALL_SAMPLE, len(queries)), replace=False)
        exact = exact_closest(queries[sample], base, chunk_rows=EXACT_CHUNK_ROWS)
        nprobe, recall, low = self._probes(index, queries[sample], 1 - exact.a_distance, nprobe)
        index.nprobe = nprobe
        similarity, found = index.search(queries, 1)
        similarity, found = similarity[:, 0].copy(), found[:, 0].astype(np.int64)
        missing = np.flatnonzero(found < 0)  # every probed cell empty: rare, answered exactly
        if len(missing):
            filled = exact_closest(queries[missing], base, chunk_rows=EXACT_CHUNK_ROWS)
            similarity[missing], found[missing] = 1 - filled.a_distance, filled.a_index
        similarity[sample], found[sample] = 1 - exact.a_distance, exact.a_index
        stats = SearchStats(nprobe, index.nlist, recall, low, len(sample))
        return np.clip(1 - similarity, 0, 2).astype(np.float32), found, stats

    def _probes(self, index, sample: np.ndarray, truth: np.ndarray, fixed: int | None) -> tuple[int, float, float]:
        """The fewest cells to probe whose sampled recall@1 has its lower bound at MIN_RECALL or above
        (or the `fixed` number of cells, with its recall)."""
        recall = 0.0
        ladder = [fixed] if fixed else [p for p in PROBE_LADDER if p < index.nlist] + [index.nlist]
        for nprobe in ladder:
            index.nprobe = min(nprobe, index.nlist)
            similarity, _ = index.search(sample, 1)
            hits = int(np.sum(similarity[:, 0] >= truth - 1e-5))  # ties count as found
            recall, low = hits / len(sample), wilson(hits, len(sample))[0]
            if low >= self.min_recall or fixed:
                return index.nprobe, recall, low
        raise AuditError(f"approximate neighbour search reached a recall of {recall:.3f} only "
                         f"(at least {self.min_recall} needed); the audit cannot vouch for its distances")

    def _index(self, given: np.ndarray):
        """(float32 rows, IVF index) of a base, built once per base."""
        import faiss

        if id(given) not in self._indexes:
            base = np.ascontiguousarray(given, dtype=np.float32)
            if self._centroids is None or _cells(len(base)) > 2 * len(self._centroids):
                self._centroids = _train_cells(base, self.seed)  # a base much larger than the first
            quantizer = faiss.IndexFlatIP(base.shape[1])
            quantizer.add(self._centroids)
            index = faiss.IndexIVFFlat(quantizer, base.shape[1], len(self._centroids), faiss.METRIC_INNER_PRODUCT)
            index.add(base)
            self._indexes[id(given)] = (given, base, index, quantizer)
        return self._indexes[id(given)][1:3]


def _cells(rows: int) -> int:
    return max(1, min(int(4 * math.sqrt(rows)), rows // CELL_ROWS))


def _train_cells(base: np.ndarray, seed: int) -> np.ndarray:
    import faiss

    cells = _cells(len(base))
    rows = np.random.default_rng(seed).choice(len(base), min(len(base), cells * TRAIN_ROWS_PER_CELL), replace=False)
    kmeans = faiss.Kmeans(base.shape[1], cells, niter=10, seed=seed, spherical=True, verbose=False)
    kmeans.train(base[np.sort(rows)])
    return np.ascontiguousarray(kmeans.centroids, dtype=np.float32)


class Neighbours:
    """Closest rows between `a` and `b`, both directions, each computed on first use.
    Same attributes as audit.embed.Closest, plus `describe()` and `recall` (per direction)."""

    def __init__(self, a: np.ndarray, b: np.ndarray, seed: int = 0, searcher: Searcher | None = None):
        self._a, self._b = a, b
        self._searcher = searcher or Searcher(seed)
        self.stats: dict[str, SearchStats] = {}

    @property
    def recall(self) -> dict[str, float]:
        return {direction: stats.recall for direction, stats in self.stats.items()}

    def describe(self) -> dict:
        """How the distances were found, for a check's details."""
        return {"method": "approximate: faiss IVF-Flat, inner product", "recall_at_1": self.recall,
                "recall_at_1_lower_bound": {d: round(s.recall_low, 4) for d, s in self.stats.items()},
                "nprobe": {d: s.nprobe for d, s in self.stats.items()},
                "cells": {d: s.cells for d, s in self.stats.items()},
                "min_recall": self._searcher.min_recall, "recall_sample": RECALL_SAMPLE}

    @cached_property
    def _a_to_b(self) -> tuple[np.ndarray, np.ndarray]:
        distance, index, self.stats["a_to_b"] = self._searcher.search(self._b, self._a)
        return distance, index

    @cached_property
    def _b_to_a(self) -> tuple[np.ndarray, np.ndarray]:
        distance, index, self.stats["b_to_a"] = self._searcher.search(self._a, self._b)
        return distance, index

    a_distance = property(lambda self: self._a_to_b[0])
    a_index = property(lambda self: self._a_to_b[1])
    b_distance = property(lambda self: self._b_to_a[0])
    b_index = property(lambda self: self._b_to_a[1])


class Reversed:
    """The same search seen from the other side: `closest(b, a)` without searching again."""

    def __init__(self, found: Neighbours) -> None:
        self._found = found

    def describe(self) -> dict:
        described = self._found.describe()
        swap = {"a_to_b": "b_to_a", "b_to_a": "a_to_b"}
        for key in ("recall_at_1", "recall_at_1_lower_bound", "nprobe", "cells"):
            described[key] = {swap[d]: value for d, value in described[key].items()}
        return described

    a_distance = property(lambda self: self._found.b_distance)
    a_index = property(lambda self: self._found.b_index)
    b_distance = property(lambda self: self._found.a_distance)
    b_index = property(lambda self: self._found.a_index)


def closest(a: np.ndarray, b: np.ndarray, seed: int = 0, exact_max_pairs: int | None = None,
            searcher: Searcher | None = None) -> Closest | Neighbours:
    """Exact (audit.embed.closest) when len(a) x len(b) is at most `exact_max_pairs` (default
    EXACT_MAX_PAIRS), else approximate."""
    if len(a) * len(b) <= (EXACT_MAX_PAIRS if exact_max_pairs is None else exact_max_pairs):
        return exact_closest(a, b)
    return Neighbours(a, b, seed, searcher)


def reverse(result: Closest | Neighbours | Reversed) -> Closest | Neighbours | Reversed:
    """`closest(b, a)` from `closest(a, b)`, without searching again."""
    if isinstance(result, Closest):
        return Closest(result.b_distance, result.b_index, result.a_distance, result.a_index)
    return result._found if isinstance(result, Reversed) else Reversed(result)


def describe(result: Closest | Neighbours | Reversed) -> dict:
    """{"method": "exact"} or the approximate search and its measured recall."""
    return {"method": "exact"} if isinstance(result, Closest) else result.describe()
