"""Shared, lazily computed views of the inputs (texts, tokens, embeddings, detections), so that
checks which need the same expensive thing compute it once per audit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from audit.embed import Closest, Embedder, TfidfEmbedder, load_embedder
from audit.grams import TokenGrams, token_ids
from audit.inputs import SPLITS, AuditInputs, Fields, record_id
from audit.policy import AuditPolicy
from audit.neighbors import Searcher, closest, reverse
from audit.text import field_value, record_text, tokens


@dataclass(frozen=True)
class Span:
    """A detected entity in one text field of one record (offsets into that field's text)."""

    field: str
    entity_type: str
    start: int
    end: int
    score: float


class AuditContext:
    def __init__(
        self, inputs: AuditInputs, fields: Fields, policy: AuditPolicy,
        embedder_factory: Callable[[str], Embedder] = load_embedder,
    ) -> None:
        self.inputs = inputs
        self.fields = fields
        self.policy = policy
        self._embedder_factory = embedder_factory
        self._cache: dict[Any, Any] = {}
        self._detections: dict[str, dict[int, list[Span]]] = {}

    @property
    def seed(self) -> int:
        return self.policy.seed

    @property
    def confidence(self) -> float:
        return self.policy.confidence

    @property
    def n_bootstrap(self) -> int:
        return self.policy.bootstrap

    def records(self, split: str) -> list[dict]:
        return getattr(self.inputs, split)

    def texts(self, split: str) -> list[str]:
        return self._memo(("texts", split), lambda: [record_text(r, self.fields.text) for r in self.records(split)])

    def ids(self, split: str) -> list[str]:
        return self._memo(
            ("ids", split), lambda: [record_id(r, self.fields.id, n) for n, r in enumerate(self.records(split), 1)]
        )

    def tokens(self, split: str) -> list[list[str]]:
        """Each record's tokens (audit/text.py), every distinct token one shared string: at a million
        records, separate copies of the same words would take several gigabytes."""
        shared = self._memo("token_strings", dict)
        return self._memo(("tokens", split),
                          lambda: [[shared.setdefault(w, w) for w in tokens(t)] for t in self.texts(split)])

    def token_ids(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """(the split's tokens as ids, concatenated; tokens per record): audit/grams.py `token_ids`,
        one vocabulary shared across splits (`vocabulary_size()` ids so far)."""
        vocabulary = self._memo("vocabulary", dict)
        return self._memo(("token_ids", split), lambda: token_ids(self.tokens(split), vocabulary))

    def vocabulary_size(self) -> int:
        return len(self._memo("vocabulary", dict))

    def token_grams(self, split: str, n: int) -> TokenGrams:
        """The split's token n-grams as hashes (audit/grams.py), token ids shared across splits."""
        return self._memo(("grams", split, n), lambda: TokenGrams(self.tokens(split), *self.token_ids(split), n))

    def labels(self, split: str) -> list[Any]:
        label = self.fields.label
        return [field_value(r, label) if label else None for r in self.records(split)]

    @cached_property
    def embedder(self) -> Embedder:
        return self.inputs.embedder or self._embedder_factory(self.policy.embedder)

    def embeddings(self) -> dict[str, np.ndarray]:
        """Semantic vectors of all three splits, in one space."""
        return self._memo("embeddings", lambda: self._embed(self.embedder))

    def lexical(self) -> dict[str, np.ndarray]:
        """Character n-gram vectors: closeness in wording, for copies and near-copies."""
        if isinstance(self.inputs.embedder, TfidfEmbedder) or (
            self.inputs.embedder is None and self.policy.embedder == "tfidf"
        ):
            return self.embeddings()
        return self._memo("lexical", lambda: self._embed(self._lexical_embedder))

    @cached_property
    def _lexical_embedder(self) -> TfidfEmbedder:
        return TfidfEmbedder(seed=self.seed)

    def embedding_method(self, space: str) -> dict | None:
        """How a space's vectors were made, when the embedder says (TF-IDF does: exact or hashed)."""
        vectors = self.space(space)
        embedder = self.embedder if vectors is self.embeddings() else self._lexical_embedder
        return getattr(embedder, "method", None) or None

    @cached_property
    def searcher(self) -> Searcher:
        """The audit's one set of approximate-search indexes (used only above the exact-search size)."""
        return Searcher(self.seed)

    def space(self, space: str) -> dict[str, np.ndarray]:
        """The vectors of a 'semantic' or 'lexical' space."""
        return self.embeddings() if space == "semantic" else self.lexical()

    def closest(self, space: str, a: str, b: str) -> Closest:
        """Closest records between two splits in the 'semantic' or 'lexical' space (exact for small
        splits, approximate with a measured recall for large ones: audit/neighbors.py). Each pair of
        splits is searched once per direction, whichever order and space name the checks ask in."""
        vectors = self.space(space)
        same = "semantic" if vectors is self.embeddings() else space
        if (a, b) > (b, a):
            return reverse(self.closest(space, b, a))
        return self._memo(("closest", same, a, b),
                          lambda: closest(vectors[a], vectors[b], self.seed, searcher=self.searcher))

    def closest_rows(self, space: str, a: str, rows: np.ndarray, b: str) -> Closest:
        """Closest records of split `b` for the given rows of split `a` only (b's index is shared)."""
        vectors = self.space(space)
        return closest(vectors[a][rows], vectors[b], self.seed, searcher=self.searcher)

    def detect(self, split: str, indices: Iterable[int]) -> dict[int, list[Span]]:
        """PII spans the privacy detectors find in the given records of a split (cached per record)."""
        from privacy.analyzer import detect_batch
        from privacy.policy import PrivacyPolicy

        indices = list(indices)
        cache = self._detections.setdefault(split, {})
        wanted = [i for i in indices if i not in cache]
        if wanted:
            policy = self.inputs.privacy_policy or PrivacyPolicy()
            records = self.records(split)
            jobs = [(i, name) for i in wanted for name in self.fields.text]
            texts = [field_value(records[i], name) for i, name in jobs]
            for i in wanted:
                cache[i] = []
            for (i, name), found in zip(jobs, detect_batch(self.inputs.analyzer, texts, policy)):
                cache[i].extend(Span(name, r.entity_type, r.start, r.end, float(r.score)) for r in found)
        return {i: cache[i] for i in indices}

    def detected(self, split: str) -> dict[int, list[Span]]:
        """Whatever detections earlier checks have already computed for a split."""
        return dict(self._detections.get(split, {}))

    def _embed(self, embedder: Embedder) -> dict[str, np.ndarray]:
        vectors = embedder.embed([self.texts(split) for split in SPLITS])
        return dict(zip(SPLITS, vectors))

    def _memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]
