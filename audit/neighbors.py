"""Closest records at any size: exact below a size threshold, approximate (FAISS IVF-SQ8) above it.

`closest(a, b)` answers what `audit.embed.closest` answers (each row's closest row of the other
set, both directions, cosine distance on L2-normalised rows), so checks do not change. Exact search
compares every pair, which is quadratic: 1M vs 1M records is ~2.6e14 multiply-adds, hours on two
cores. Above `EXACT_MAX_PAIRS` an inverted-file index (k-means cells, `nprobe` cells searched per
query; Jégou et al., 'Product Quantization for Nearest Neighbor Search', TPAMI 2011; Johnson et al.,
'Billion-scale similarity search with GPUs', 2019) is searched instead, one direction at a time and
only when a check asks for it. The index holds each row as 8-bit scalar-quantised codes: scanning a
cell is bound by memory bandwidth, and codes are a quarter of the float32 bytes. Each query's
`CANDIDATES` best codes are re-ranked by exact inner products on the float32 rows (the
re-ranking of Jégou et al., 'Searching in one billion vectors: re-rank with source coding', ICASSP
2011), so a returned distance is always the exact distance of the returned row.

An approximate neighbour can only be farther than the true one, which makes records look less
exposed than they are. So every approximate search first answers a seeded sample of queries
exactly (those answers are kept), then picks the fewest cells to probe whose recall@1 of the
re-ranked answer on that sample has a 95% Wilson lower bound of at least MIN_RECALL, and searches
everything once with it. No number of cells reaching that bound is an AuditError, which
quarantines (fail-closed).

All splits of an audit live in one embedding space, so a `Searcher` trains the k-means cells once
per dimension count (on the first base it indexes) and reuses them, and keeps each base's index for
every later search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from audit.embed import Closest, closest as exact_closest
from audit.stats import wilson
from audit.errors import AuditError

EXACT_MAX_PAIRS = 2_500_000_000  # 50k x 50k: ~20-40 s of matrix products on two cores
RECALL_SAMPLE = 1000
CELL_ROWS = 256  # ~rows per k-means cell
TRAIN_ROWS_PER_CELL = 40
NPROBE = 24  # kept for the bench's fixed-probe table; searches choose their own (PROBE_LADDER)
PROBE_LADDER = (4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 512)  # each step costs one search of the sample
MIN_RECALL = 0.95
CANDIDATES = 8  # nearest codes per query re-ranked on the float32 rows
SEARCH_BATCH = 16_384  # queries per index call: bounds the re-ranking's gathered rows (~128 MiB at 256 dims)
EXACT_BLOCK = (1024, 16_384)  # queries x base rows per product in exact answers (64 MiB of similarities)
SQ_TRAIN_ROWS = 65_536


@dataclass(frozen=True)
class SearchStats:
    """How one approximate search went: cells probed and the recall@1 measured on its sample."""

    nprobe: int
    cells: int
    recall: float
    recall_low: float
    sample: int


class Searcher:
    """IVF-SQ8 indexes over the bases an audit searches, sharing one trained set of k-means cells.

    Rows are stored as 8-bit codes (a quarter of the float32 bytes a flat index scans per probed
    row, and the scan is memory-bound); the `CANDIDATES` best codes of each query are re-ranked
    with exact inner products on the float32 rows, so every distance returned is the exact cosine
    distance of the row returned, and recall is measured on that re-ranked answer."""

    def __init__(self, seed: int = 0, min_recall: float | None = None, candidates: int | None = None) -> None:
        self.seed = seed
        self._min_recall = min_recall
        self.candidates = CANDIDATES if candidates is None else candidates
        self._trained: dict[int, object] = {}  # dimensions → trained, empty index (a space's cells)
        # id(base) → (base as given, kept so that its id stays its own; float32 copy; index)
        self._indexes: dict[int, tuple] = {}

    @property
    def min_recall(self) -> float:
        return MIN_RECALL if self._min_recall is None else self._min_recall

    @property
    def method(self) -> str:
        return (f"approximate: faiss IVF-SQ8 with exact re-ranking of {self.candidates} candidates, "
                f"inner product")

    def search(self, base: np.ndarray, queries: np.ndarray,
               nprobe: int | None = None) -> tuple[np.ndarray, np.ndarray, SearchStats]:
        """(cosine distance, index into `base`, stats) for every query row. A fixed `nprobe` (for
        benchmarks) skips the choice of cells and is never refused; the audit leaves it unset."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if len(queries) <= RECALL_SAMPLE and not nprobe:  # the recall sample would be every query: answer all exactly
            truth, truth_index = nearest_exactly(queries, np.ascontiguousarray(base, dtype=np.float32))
            return np.clip(1 - truth, 0, 2).astype(np.float32), truth_index, SearchStats(0, 0, 1.0, 1.0, len(queries))
        base, index = self._index(base)
        sample = np.random.default_rng(self.seed).choice(len(queries), min(RECALL_SAMPLE, len(queries)), replace=False)
        truth, truth_index = nearest_exactly(queries[sample], base)
        nprobe, recall, low = self._probes(index, base, queries[sample], truth, nprobe)
        index.nprobe = nprobe
        similarity, found = self._reranked(index, base, queries)
        missing = np.flatnonzero(found < 0)  # every probed cell empty: rare, answered exactly
        if len(missing):
            similarity[missing], found[missing] = nearest_exactly(queries[missing], base)
        similarity[sample], found[sample] = truth, truth_index
        stats = SearchStats(nprobe, index.nlist, recall, low, len(sample))
        return np.clip(1 - similarity, 0, 2).astype(np.float32), found, stats

    def _probes(self, index, base: np.ndarray, sample: np.ndarray, truth: np.ndarray,
                fixed: int | None) -> tuple[int, float, float]:
        """The fewest cells to probe whose sampled recall@1 (after re-ranking) has its lower bound at
        MIN_RECALL or above (or the `fixed` number of cells, with its recall)."""
        recall = 0.0
        ladder = [fixed] if fixed else [p for p in PROBE_LADDER if p < index.nlist] + [index.nlist]
        for nprobe in ladder:
            index.nprobe = min(nprobe, index.nlist)
            similarity, _ = self._reranked(index, base, sample)
            hits = int(np.sum(similarity >= truth - 1e-5))  # ties count as found
            recall, low = hits / len(sample), wilson(hits, len(sample))[0]
            if low >= self.min_recall or fixed:
                return index.nprobe, recall, low
        raise AuditError(f"approximate neighbour search reached a recall of {recall:.3f} only "
                         f"(at least {self.min_recall} needed); the audit cannot vouch for its distances")

    def _reranked(self, index, base: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(exact inner product, row) of the best of each query's candidate codes; -1 where none."""
        similarity = np.full(len(queries), -np.inf, dtype=np.float32)
        found = np.full(len(queries), -1, dtype=np.int64)
        for start in range(0, len(queries), SEARCH_BATCH):
            batch = queries[start : start + SEARCH_BATCH]
            _, candidates = index.search(batch, self.candidates)
            exact = np.einsum("nkd,nd->nk", base[np.maximum(candidates, 0)], batch)
            exact[candidates < 0] = -np.inf
            best = np.argmax(exact, axis=1)
            rows = np.arange(len(batch))
            similarity[start : start + len(batch)] = exact[rows, best]
            found[start : start + len(batch)] = candidates[rows, best]
        return similarity, found

    def _index(self, given: np.ndarray):
        """(float32 rows, IVF-SQ8 index) of a base, built once per base."""
        import faiss

        if id(given) not in self._indexes:
            base = np.ascontiguousarray(given, dtype=np.float32)
            trained = self._trained.get(base.shape[1])
            if trained is None or _cells(len(base)) > 2 * trained.nlist:
                trained = self._trained[base.shape[1]] = _train(base, self.seed)  # a new space, or a much larger base
            index = faiss.clone_index(trained)
            index.add(base)
            self._indexes[id(given)] = (given, base, index)
        return self._indexes[id(given)][1:3]


def nearest_exactly(queries: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inner product, row) of each query's most similar base row, by blocks of matrix products.
    One direction only (audit.embed.closest also finds each base row's closest query, which the
    recall sample does not need), and blocks of 1,000 queries keep the products efficient."""
    best = np.full(len(queries), -np.inf, dtype=np.float32)
    found = np.zeros(len(queries), dtype=np.int64)
    query_rows, base_rows = EXACT_BLOCK
    for first in range(0, len(queries), query_rows):
        block = queries[first : first + query_rows]
        block_best, block_found = best[first : first + query_rows], found[first : first + query_rows]  # views
        for start in range(0, len(base), base_rows):
            similarity = block @ base[start : start + base_rows].T
            rows = np.argmax(similarity, axis=1)
            chunk_best = similarity[np.arange(len(block)), rows]
            better = chunk_best > block_best
            block_best[better], block_found[better] = chunk_best[better], rows[better] + start
    return best, found


def _cells(rows: int) -> int:
    return max(1, min(int(4 * math.sqrt(rows)), rows // CELL_ROWS))


def _train(base: np.ndarray, seed: int):
    """An empty IVF-SQ8 index: spherical k-means cells and 8-bit ranges per dimension, both learnt
    on seeded samples of `base`."""
    import faiss

    cells = _cells(len(base))
    rows = np.random.default_rng(seed).choice(len(base), min(len(base), cells * TRAIN_ROWS_PER_CELL), replace=False)
    kmeans = faiss.Kmeans(base.shape[1], cells, niter=10, seed=seed, spherical=True, verbose=False)
    kmeans.train(base[np.sort(rows)])
    quantizer = faiss.IndexFlatIP(base.shape[1])
    quantizer.add(np.ascontiguousarray(kmeans.centroids, dtype=np.float32))
    # One 8-bit range per dimension, of the rows themselves: as precise as coding residuals to the
    # cells on TF-IDF/SVD rows and tight bundles alike, and cheaper to scan; one range shared by all
    # dimensions (QT_8bit_uniform) loses the small dimensions and fails on tight bundles.
    index = faiss.IndexIVFScalarQuantizer(quantizer, base.shape[1], cells, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT, False)
    index.own_fields = True
    quantizer.this.disown()  # the index frees it
    index.train(base[np.sort(rows[:SQ_TRAIN_ROWS])])  # the cells are set: this learns the 8-bit ranges only
    return index


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
        return {"method": self._searcher.method, "recall_at_1": self.recall,
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
