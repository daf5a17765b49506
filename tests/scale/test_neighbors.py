"""Approximate closest-record search (audit/neighbors.py) against the exact search, on real TF-IDF vectors."""

from __future__ import annotations

import numpy as np
import pytest

from audit import neighbors
from audit.embed import Closest, TfidfEmbedder, closest as exact_closest
from tests.audit.corpus import make_records


@pytest.fixture(scope="module")
def vectors():
    texts = [[r["text"] for r in make_records(n, seed, p)] for n, seed, p in ((1500, 1, "T"), (1200, 3, "S"))]
    train, synthetic = TfidfEmbedder(dimensions=64).embed(texts)
    # a few near-copies of training records, the neighbours an audit must not miss
    synthetic[:20] = train[100:120] + 0.01 * synthetic[:20]
    synthetic /= np.linalg.norm(synthetic, axis=1, keepdims=True)
    return synthetic, train


def test_small_inputs_use_the_exact_search(vectors):
    synthetic, train = vectors
    assert isinstance(neighbors.closest(synthetic, train), Closest)
    assert neighbors.describe(neighbors.closest(synthetic, train)) == {"method": "exact"}


def test_approximate_search_agrees_with_the_exact_one(vectors):
    synthetic, train = vectors
    exact = exact_closest(synthetic, train)
    approx = neighbors.closest(synthetic, train, seed=7, exact_max_pairs=0)
    assert not isinstance(approx, Closest)
    assert np.all(approx.a_distance >= exact.a_distance - 1e-5)  # never closer than the truth
    assert np.mean(approx.a_index == exact.a_index) >= 0.95
    assert list(approx.a_index[:20]) == list(range(100, 120))  # near-copies found
    assert np.mean(np.isclose(approx.b_distance, exact.b_distance, atol=1e-5)) >= 0.95
    described = neighbors.describe(approx)
    assert described["recall_at_1"]["a_to_b"] >= neighbors.MIN_RECALL
    assert set(described["recall_at_1"]) == {"a_to_b", "b_to_a"}


def test_too_low_a_recall_is_an_audit_error_not_a_pass(vectors, monkeypatch):
    from audit.errors import AuditError

    synthetic, train = vectors
    monkeypatch.setattr(neighbors, "MIN_RECALL", 1.01)  # unreachable: the search must refuse
    with pytest.raises(AuditError, match="recall"):
        neighbors.closest(synthetic, train, exact_max_pairs=0).a_distance
