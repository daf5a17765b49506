"""The audit at scale: what changes above the size thresholds is stated, pessimistic and fail-closed,
and the fast paths give the small-data answers. Each test forces the large-data path on small data."""

from __future__ import annotations

import random

import numpy as np
import pytest

from audit import candidates, neighbors
from audit.check import CheckSettings
from audit.checks import CHECKS
from audit.context import AuditContext
from audit.embed import TfidfEmbedder
from audit.gate import run_audit
from audit.inputs import AuditInputs, resolve_fields
from audit.policy import AuditPolicy, CheckRule
from privacy.fingerprint import fingerprint
from tests.audit.conftest import SITE_KEY
from tests.audit.corpus import make_records, near_copy


def _context(synthetic, train, holdout, **inputs) -> AuditContext:
    given = AuditInputs(synthetic, train, holdout, **inputs)
    return AuditContext(given, resolve_fields(given), AuditPolicy(embedder="tfidf", bootstrap=100))


@pytest.fixture(scope="module")
def planted():
    """1,500 training records; 400 synthetic ones holding 10 exact and 10 near copies of them."""
    train, holdout = make_records(1500, 1, "T"), make_records(300, 2, "H")
    synthetic = make_records(400, 3, "S")
    for k in range(10):
        synthetic[20 * k] = {**train[37 * k], "id": f"S-copy-{k}"}
        synthetic[20 * k + 10] = {**near_copy(train[37 * k + 500], k), "id": f"S-near-{k}"}
    return synthetic, train, holdout


def test_the_approximate_search_still_finds_planted_copies(planted, monkeypatch):
    monkeypatch.setattr(neighbors, "EXACT_MAX_PAIRS", 0)  # every search approximate
    result = CHECKS["memorization"].run(_context(*planted), CheckSettings("memorization", 0.01, {}))
    assert result.details["by_kind"]["exact copy"] == 10
    assert result.details["memorized"] == 20  # the near copies too (as shared runs or near copies)
    search = result.details["neighbour_search"]
    assert search["method"].startswith("approximate")
    assert search["recall_at_1_lower_bound"]["a_to_b"] >= neighbors.MIN_RECALL
    assert not result.passed


def test_membership_inference_at_scale_says_what_it_sampled_and_how_it_searched(planted, monkeypatch):
    monkeypatch.setattr(neighbors, "EXACT_MAX_PAIRS", 0)
    settings = CheckSettings("membership_inference", 0.6, {"max_records": 250})
    details = CHECKS["membership_inference"].run(_context(*planted), settings).details
    assert details["sampled_at_scale"] == {
        "train": {"scored": 250, "of": 1500, "method": "seeded uniform sample"},
        "holdout": {"scored": 250, "of": 300, "method": "seeded uniform sample"},
        "synthetic": {"scored": 250, "of": 400, "method": "seeded uniform sample"}}
    assert details["members"] == details["non_members"] == 250
    for search in details["neighbour_searches"].values():
        assert search["method"].startswith("approximate")
        assert min(search["recall_at_1_lower_bound"].values()) >= neighbors.MIN_RECALL


def test_small_splits_are_not_sampled_and_searched_exactly(planted):
    details = CHECKS["membership_inference"].run(
        _context(*planted), CheckSettings("membership_inference", 0.6, {})).details
    assert details["sampled_at_scale"] is None
    assert all(s == {"method": "exact"} for s in details["neighbour_searches"].values())


def test_an_unreachable_recall_quarantines(planted, monkeypatch):
    monkeypatch.setattr(neighbors, "EXACT_MAX_PAIRS", 0)
    monkeypatch.setattr(neighbors, "MIN_RECALL", 1.01)
    monkeypatch.setattr(neighbors, "RECALL_SAMPLE", 10)  # fewer than the queries: the search is approximate
    policy = AuditPolicy(embedder="tfidf", bootstrap=100, required=["memorization"],
                         skip=["utility", "membership_inference"])
    report = run_audit(AuditInputs(*planted), policy)
    assert report.verdict == "quarantine"
    assert any("recall" in reason and reason.startswith("memorization") for reason in report.reasons)


def test_a_sampled_rescan_is_judged_on_its_upper_bound(splits, analyzer, sample_policy):
    clean = make_records(60, 5, "S")
    inputs = dict(analyzer=analyzer, privacy_policy=sample_policy.privacy)
    context = _context(clean, splits["train"][:60], splits["holdout"], **inputs)
    result = CHECKS["pii_rescan"].run(context, CheckSettings("pii_rescan", 0.2, {"sample": None, "max_scanned": 15}))
    assert result.details["method"] == "seeded uniform sample"
    assert (result.details["scanned"], result.details["records_total"]) == (15, 60)
    assert result.figure <= 0.2 < result.ci[1] == result.details["upper_bound"]  # 15 records cannot show it
    assert not result.passed and result.evidence == "insufficient"
    assert "15 of the 60 synthetic records were scanned" in result.summary


def test_replay_on_worker_processes_finds_what_the_single_process_finds(monkeypatch):
    train, synthetic = make_records(300, 1, "T"), make_records(300, 3, "S")
    words = [record["text"].split()[3:5] for record in train[:40]]
    manifest = [{"record_id": train[k]["id"], "entity_type": "PERSON", "start": 0, "end": 9,
                 "fingerprint": fingerprint(SITE_KEY, " ".join(w))} for k, w in enumerate(words)]
    for k in range(0, 40, 4):
        synthetic[k] = {**synthetic[k], "text": synthetic[k]["text"] + " " + " ".join(words[k])}
    run = lambda: CHECKS["pii_replay"].run(  # noqa: E731
        _context(synthetic, train, make_records(60, 2, "H"), manifest=manifest, site_key=SITE_KEY),
        CheckSettings("pii_replay", 0.02, {}))
    single = run()
    monkeypatch.setattr(candidates, "CHUNK_RECORDS", 70)
    monkeypatch.setattr("audit.checks.pii_replay.PARALLEL_ABOVE", 0)
    monkeypatch.setattr("audit.checks.pii_replay.CHUNK_RECORDS", 70)
    parallel = run()
    assert single.details["identifiers_replayed"] == parallel.details["identifiers_replayed"] >= 10
    assert single.details == parallel.details


def test_hashed_n_grams_find_the_unique_runs_tuples_find():
    from audit.checks.memorization import _unique_train_ngrams

    train, holdout = make_records(200, 1, "T", words=12), make_records(50, 2, "H", words=12)
    holdout[0] = {**holdout[0], "text": train[5]["text"]}  # train[5]'s runs are no longer unique
    train.append({**train[7], "id": "T-again"})  # nor are train[7]'s
    context = _context(make_records(20, 3, "S"), train, holdout)
    n = 4
    grams = lambda words: {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}  # noqa: E731
    counted: dict[tuple, set[int]] = {}
    for i, words in enumerate(context.tokens("train")):
        for gram in grams(words):
            counted.setdefault(gram, set()).add(i)
    in_holdout = set().union(*(grams(w) for w in context.tokens("holdout")))
    expected = {g: min(owners) for g, owners in counted.items() if len(owners) == 1 and g not in in_holdout}
    hashes, owners = _unique_train_ngrams(context, n)
    assert len(hashes) == len(expected)
    assert sorted(owners.tolist()) == sorted(expected.values())
    assert 5 not in owners and 7 not in owners


def test_the_hashed_embedding_keeps_near_copies_nearest():
    train = make_records(600, 1, "T")
    copies = [near_copy(train[i], i) for i in range(0, 600, 60)]
    embedder = TfidfEmbedder(dimensions=64, hashed_above=0, idf_rows=300, fit_rows=300)
    synthetic, base = embedder.embed([[r["text"] for r in copies], [r["text"] for r in train]])
    assert "hashed" in embedder.method["features"]
    nearest = np.argmax(synthetic @ base.T, axis=1)
    assert nearest.tolist() == list(range(0, 600, 60))
    rng = random.Random(0)
    assert np.allclose(np.linalg.norm(base[rng.randrange(600)]), 1, atol=1e-5)


def test_policy_keys_for_scale_are_in_the_default_policy():
    from pathlib import Path

    import yaml

    audit = yaml.safe_load((Path(__file__).resolve().parents[2] / "api/policies/default.yaml").read_text())["audit"]
    assert audit["checks"]["pii_rescan"]["params"]["max_scanned"] == 20000
    assert audit["checks"]["membership_inference"]["params"]["max_records"] == 200000
    assert AuditPolicy(checks={"pii_rescan": CheckRule(params={"max_scanned": 10})}).rule("pii_rescan").params


@pytest.fixture(scope="module")
def lexical_vectors():
    """TF-IDF vectors of 6,000 training and 2,000 synthetic records, 40 of them near copies."""
    train, synthetic = make_records(6000, 1, "T"), make_records(2000, 3, "S")
    for k in range(40):
        synthetic[50 * k] = near_copy(train[150 * k], k)
    base, queries = TfidfEmbedder(dimensions=64).embed([[r["text"] for r in train], [r["text"] for r in synthetic]])
    return base, queries


def test_the_approximate_search_returns_exact_distances_and_meets_its_recall(lexical_vectors):
    base, queries = lexical_vectors
    searcher = neighbors.Searcher(0)
    distance, found, stats = searcher.search(base, queries)
    truth, truth_index = neighbors.nearest_exactly(queries, base)
    exact_of_found = 1 - np.einsum("nd,nd->n", queries, base[found])
    assert np.allclose(distance, np.clip(exact_of_found, 0, 2), atol=1e-5)  # the returned row's own distance
    assert np.all(distance >= 1 - truth - 1e-5)  # never closer than the truth
    sample = np.random.default_rng(0).choice(len(queries), neighbors.RECALL_SAMPLE, replace=False)
    assert np.array_equal(found[sample], truth_index[sample])  # the exact sample's answers are kept
    others = np.setdiff1d(np.arange(len(queries)), sample)
    assert np.mean(distance[others] <= 1 - truth[others] + 1e-5) >= 0.95
    assert [found[50 * k] for k in range(40)] == [150 * k for k in range(40)]  # near copies found
    assert stats.recall_low >= neighbors.MIN_RECALL and stats.cells > stats.nprobe
    assert "IVF-SQ8 with exact re-ranking of 8 candidates" in searcher.method


def test_re_ranking_more_candidates_never_returns_a_farther_row(lexical_vectors):
    base, queries = lexical_vectors
    one, _, _ = neighbors.Searcher(0, candidates=1).search(base, queries, nprobe=2)
    eight, _, _ = neighbors.Searcher(0, candidates=8).search(base, queries, nprobe=2)
    truth, _ = neighbors.nearest_exactly(queries, base)
    assert np.all(eight <= one + 1e-6)
    assert np.mean(eight <= 1 - truth + 1e-5) > np.mean(one <= 1 - truth + 1e-5)


def test_an_unreachable_recall_is_an_audit_error(lexical_vectors):
    from audit.errors import AuditError

    base, queries = lexical_vectors
    with pytest.raises(AuditError, match="recall"):
        neighbors.Searcher(0, min_recall=1.01).search(base, queries)
    rng = np.random.default_rng(0)  # a tight bundle: rows closer to each other than 8-bit codes can tell apart
    bundle = rng.standard_normal(64).astype(np.float32)
    rows = bundle / np.linalg.norm(bundle) + 0.01 * rng.standard_normal((7200, 64)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    with pytest.raises(AuditError, match="recall"):  # even probing every cell, the best code alone is not enough
        neighbors.Searcher(0, candidates=1).search(rows[:6000], rows[6000:])
    _, _, stats = neighbors.Searcher(0).search(rows[:6000], rows[6000:])  # eight re-ranked codes are enough
    assert stats.recall_low >= neighbors.MIN_RECALL


def test_one_searcher_serves_spaces_of_different_dimensions(lexical_vectors):
    base, queries = lexical_vectors
    searcher = neighbors.Searcher(0)
    found = neighbors.closest(queries, base, exact_max_pairs=0, searcher=searcher)
    wide = np.hstack([base, base]) / np.sqrt(2)  # e.g. MiniLM's semantic and TF-IDF's lexical space
    found_wide = neighbors.closest(np.hstack([queries, queries])[:1500] / np.sqrt(2), wide, exact_max_pairs=0,
                                   searcher=searcher)
    assert np.mean(found_wide.a_index == found.a_index[:1500]) >= 0.95
    assert neighbors.describe(found_wide)["method"].startswith("approximate: faiss IVF-SQ8")


def test_no_more_queries_than_the_recall_sample_are_all_answered_exactly(lexical_vectors):
    base, queries = lexical_vectors
    few = queries[:7]  # a Wilson bound on 7 queries could never reach MIN_RECALL: no cell count is chosen
    searcher = neighbors.Searcher(0)
    distance, found, stats = searcher.search(base, few)
    truth, truth_index = neighbors.nearest_exactly(few, base)
    assert np.array_equal(found, truth_index) and np.allclose(distance, np.clip(1 - truth, 0, 2), atol=1e-6)
    assert (stats.nprobe, stats.cells, stats.recall, stats.sample) == (0, 0, 1.0, 7)  # no index built for them
