"""Closest records at any size: exact below a size threshold, approximate (FAISS IVF) above it.

`closest(a, b)` answers what `audit.embed.closest` answers (each row's closest row of the other
set, both directions, cosine distance on L2-normalised rows), so checks do not change. Exact search
compares every pair, which is quadratic: 1M vs 1M records is ~2.6e14 multiply-adds, hours on two
cores. Above `EXACT_MAX_PAIRS` an inverted-file index (k-means cells, `nprobe` cells searched per
query; Jégou et al., 'Product Quantization for Nearest Neighbor Search', TPAMI 2011; Johnson et al.,
'Billion-scale similarity search with GPUs', 2019) is searched instead, one direction at a time and
only when a check asks for it.

An approximate neighbour can only be farther than the true one, which makes records look less
exposed than they are. So the recall is measured at every approximate search (exact search for a
seeded sample of queries, whose exact answers are then kept) and reported with the result; the
gate's policy decides what recall it accepts (see `Neighbours.recall`).
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np

from audit.embed import Closest, closest as exact_closest
from privacy.errors import AuditError

EXACT_MAX_PAIRS = 2_500_000_000  # 50k x 50k: ~20-40 s of matrix products on two cores
RECALL_SAMPLE = 1000
CELL_ROWS = 256  # ~rows per k-means cell
TRAIN_ROWS_PER_CELL = 40
NPROBE = 24
MIN_RECALL = 0.95
EXACT_CHUNK_ROWS = 64


class Neighbours:
    """Closest rows between `a` and `b`, both directions, each computed on first use.
    Same attributes as audit.embed.Closest, plus `method` and `recall` (None when exact)."""

    def __init__(self, a: np.ndarray, b: np.ndarray, seed: int = 0, nprobe: int = NPROBE):
        self._a, self._b, self._seed, self._nprobe = a, b, seed, nprobe
        self.recall: dict[str, float] = {}

    def describe(self) -> dict:
        """How the distances were found, for a check's details."""
        return {"method": "approximate: faiss IVF-Flat, inner product", "recall_at_1": dict(self.recall),
                "min_recall": MIN_RECALL, "recall_sample": RECALL_SAMPLE}

    @cached_property
    def _a_to_b(self) -> tuple[np.ndarray, np.ndarray]:
        distance, index, self.recall["a_to_b"] = search(self._b, self._a, self._seed, self._nprobe)
        return distance, index

    @cached_property
    def _b_to_a(self) -> tuple[np.ndarray, np.ndarray]:
        distance, index, self.recall["b_to_a"] = search(self._a, self._b, self._seed, self._nprobe)
        return distance, index

    a_distance = property(lambda self: self._a_to_b[0])
    a_index = property(lambda self: self._a_to_b[1])
    b_distance = property(lambda self: self._b_to_a[0])
    b_index = property(lambda self: self._b_to_a[1])


def closest(a: np.ndarray, b: np.ndarray, seed: int = 0, exact_max_pairs: int = EXACT_MAX_PAIRS) -> Closest | Neighbours:
    """Exact (audit.embed.closest) when len(a) x len(b) is at most `exact_max_pairs`, else approximate."""
    if len(a) * len(b) <= exact_max_pairs:
        return exact_closest(a, b)
    return Neighbours(a, b, seed)


def describe(result: Closest | Neighbours) -> dict:
    """{"method": "exact"} or the approximate search and its measured recall."""
    return result.describe() if isinstance(result, Neighbours) else {"method": "exact"}


def search(base: np.ndarray, queries: np.ndarray, seed: int = 0,
           nprobe: int = NPROBE) -> tuple[np.ndarray, np.ndarray, float]:
    """(cosine distance, index into `base`, measured recall@1) for every query row. Searches more
    cells (4x, twice) while the measured recall is below MIN_RECALL; still below it, the audit
    check errors, and an error quarantines (fail-closed)."""
    base = np.ascontiguousarray(base, dtype=np.float32)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    index = _ivf_index(base, seed)
    for probes in (nprobe, nprobe * 4, nprobe * 16):
        distance, found, recall = _search_once(index, probes, base, queries, seed)
        if recall >= MIN_RECALL:
            return distance, found, recall
    raise AuditError(f"approximate neighbour search reached a recall of {recall:.3f} only "
                     f"(at least {MIN_RECALL} needed); the audit cannot vouch for its distances")


def _search_once(index, nprobe: int, base: np.ndarray, queries: np.ndarray,
                 seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    index.nprobe = min(nprobe, index.nlist)
    similarity, found = index.search(queries, 1)
    similarity, found = similarity[:, 0].copy(), found[:, 0].copy()
    missing = np.flatnonzero(found < 0)  # every probed cell empty: rare, answered exactly
    sample = np.random.default_rng(seed).choice(len(queries), min(RECALL_SAMPLE, len(queries)), replace=False)
    checked = np.union1d(sample, missing)
    exact = exact_closest(queries[checked], base, chunk_rows=EXACT_CHUNK_ROWS)  # chunk: 64 x len(base) floats
    exact_similarity = 1 - exact.a_distance
    in_sample = np.isin(checked, sample)
    hits = similarity[checked][in_sample] >= exact_similarity[in_sample] - 1e-5  # ties count as found
    recall = float(np.mean(hits)) if len(hits) else 1.0
    similarity[checked], found[checked] = exact_similarity, exact.a_index
    return np.clip(1 - similarity, 0, 2).astype(np.float32), found.astype(np.int64), recall


def _ivf_index(base: np.ndarray, seed: int):
    import faiss

    cells = max(1, min(int(4 * math.sqrt(len(base))), len(base) // CELL_ROWS))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(base.shape[1]), base.shape[1], cells, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = seed
    rows = np.random.default_rng(seed).choice(len(base), min(len(base), cells * TRAIN_ROWS_PER_CELL), replace=False)
    index.train(base[np.sort(rows)])
    index.add(base)
    return index
