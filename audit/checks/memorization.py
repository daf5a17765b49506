"""Memorization: synthetic records that copy a training record verbatim or nearly so.

A synthetic record counts as memorized when it (a) equals a training record's text, (b) shares a
run of `ngram` tokens (default 10) that occurs in exactly one training record and in no holdout
record, or (c) matches its lexically closest training record with a similarity of at least
`near_ratio` (default 0.8) and more closely than it matches any holdout record. The holdout is the
control throughout: wording that unseen records share too is the domain's, not a member's.
"""

from __future__ import annotations

from collections import Counter
from difflib import SequenceMatcher

import numpy as np

from audit.check import Check, CheckResult, CheckSettings
from audit.context import AuditContext
from audit.neighbors import describe
from audit.stats import wilson, wilson_records_needed

MAX_LISTED = 50
PARALLEL_ABOVE = 100_000  # synthetic records, above which similarities are computed by local processes
SIMILARITY_WORKERS = 2
CHUNK_RECORDS = 50_000
METHOD = (
    "Exact duplicates, unique shared token n-grams (Carlini et al., 'Extracting Training Data from "
    "Large Language Models', USENIX Security 2021) and near-duplicates by token-sequence similarity "
    "to the closest training record, each controlled against the holdout; Wilson score interval."
)


def _unique_train_ngrams(context: AuditContext, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(sorted hashes, owning training record) of the n-grams in exactly one training record and in
    no holdout record. N-grams are 64-bit hashes of token ids (TokenGrams); every hash a synthetic
    record hits is checked against the tokens themselves, so a collision can never invent a match."""
    train, holdout = context.token_grams("train", n), context.token_grams("holdout", n)
    hashes, records = train.distinct_per_record()
    values, first, counts = np.unique(hashes, return_index=True, return_counts=True)
    single = (counts == 1) & ~np.isin(values, holdout.hashes)
    return values[single], records[first[single]]


def _shared_unique(context: AuditContext, n: int) -> dict[int, int]:
    """Synthetic record → the training record one of its n-grams is unique to (first such n-gram)."""
    unique, owner = _unique_train_ngrams(context, n)
    synthetic, train = context.token_grams("synthetic", n), context.token_grams("train", n)
    found: dict[int, int] = {}
    hits = np.flatnonzero(np.isin(synthetic.hashes, unique))
    for position in hits:
        record = int(synthetic.records[position])
        if record in found:
            continue
        source = int(owner[np.searchsorted(unique, synthetic.hashes[position])])
        if synthetic.gram(position) in train.grams_of(source):
            found[record] = source
    return found


def _similarity(a: list[str], b: list[str], at_least: float) -> tuple[float, int]:
    """(similarity ratio in [0, 1], longest common run of tokens); the ratio is computed only when
    its cheap upper bound reaches `at_least`, else the bound is returned."""
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    longest = matcher.find_longest_match(0, len(a), 0, len(b)).size
    bound = matcher.quick_ratio()
    return (matcher.ratio() if bound >= at_least else bound), longest


def _similarities(pairs: list[tuple[list[str], list[str]]], at_least: float) -> list[tuple[float, int]]:
    return [_similarity(a, b, at_least) for a, b in pairs]


def _all_similarities(synthetic: list, train: list, nearest: np.ndarray, at_least: float) -> list[tuple[float, int]]:
    """`_similarity` of every synthetic record and its closest training record; above
    PARALLEL_ABOVE records in SIMILARITY_WORKERS local processes, CHUNK_RECORDS pairs at a time."""
    pairs = [(words, train[int(j)]) for words, j in zip(synthetic, nearest)]
    if len(pairs) <= PARALLEL_ABOVE:
        return _similarities(pairs, at_least)
    from joblib import Parallel, delayed

    chunks = (pairs[i : i + CHUNK_RECORDS] for i in range(0, len(pairs), CHUNK_RECORDS))
    done = Parallel(n_jobs=SIMILARITY_WORKERS)(delayed(_similarities)(chunk, at_least) for chunk in chunks)
    return [found for chunk in done for found in chunk]


def _judge(context: AuditContext, n: int, near_ratio: float) -> tuple[list, np.ndarray]:
    """([(synthetic index, kind, training index, similarity)] in record order, longest common runs)."""
    synthetic, train = context.tokens("synthetic"), context.tokens("train")
    train_texts = {" ".join(words): i for i, words in enumerate(train)}
    holdout_texts = {" ".join(words) for words in context.tokens("holdout")}
    shared_unique = _shared_unique(context, n)
    to_train = context.closest("lexical", "synthetic", "train").a_index
    similar = _all_similarities(synthetic, train, to_train, near_ratio)
    longest_runs = np.array([longest for _, longest in similar], dtype=int)
    found, near = [], []
    for i, words in enumerate(synthetic):
        nearest, ratio = int(to_train[i]), similar[i][0]
        text = " ".join(words)
        if text in train_texts and text not in holdout_texts:
            found.append((i, "exact copy", train_texts[text], ratio))
        elif i in shared_unique:
            found.append((i, f"shares a unique run of {n}+ tokens", shared_unique[i], ratio))
        elif ratio >= near_ratio:
            near.append((i, nearest, ratio))
    found += _near_copies(context, near)
    return sorted(found), longest_runs


def _near_copies(context: AuditContext, candidates: list) -> list:
    """The candidates closer to their training record than to their closest holdout record (the
    holdout neighbour is searched for these records only)."""
    if not candidates:
        return []
    synthetic, holdout = context.tokens("synthetic"), context.tokens("holdout")
    rows = np.array([i for i, _, _ in candidates])
    to_holdout = context.closest_rows("lexical", "synthetic", rows, "holdout").a_index
    return [(i, "near copy", nearest, ratio) for (i, nearest, ratio), h in zip(candidates, to_holdout)
            if ratio > _similarity(synthetic[i], holdout[int(h)], ratio)[0]]


def run(context: AuditContext, settings: CheckSettings) -> CheckResult:
    n = int(settings.param("ngram", 10))
    near_ratio = float(settings.param("near_ratio", 0.8))
    synthetic = context.tokens("synthetic")
    found, longest_runs = _judge(context, n, near_ratio)
    synthetic_ids, train_ids = context.ids("synthetic"), context.ids("train")
    kinds = Counter(kind for _, kind, _, _ in found)
    listed = [{"record": synthetic_ids[i], "train_record": train_ids[source], "kind": kind,
               "longest_common_tokens": int(longest_runs[i]), "similarity": round(ratio, 3)}
              for i, kind, source, ratio in found[:MAX_LISTED]]
    memorized = sum(kinds.values())
    figure = memorized / len(synthetic)
    ci = wilson(memorized, len(synthetic), settings.confidence)
    summary = (
        f"{memorized} of {len(synthetic)} synthetic records ({figure:.1%}) copy a training record "
        f"verbatim or nearly so; the limit is {settings.threshold:.1%}. The longest run of words a "
        f"synthetic record shares with its closest training record is {int(np.median(longest_runs))} "
        f"tokens at the median and {int(longest_runs.max())} at most."
    )
    edges = np.unique(np.linspace(0, max(int(longest_runs.max()), 1) + 1, 21).astype(int))
    details = {
        "memorized": memorized,
        "by_kind": dict(sorted(kinds.items())),
        "ngram": n,
        "near_ratio": near_ratio,
        "longest_common_tokens": {"median": float(np.median(longest_runs)), "max": int(longest_runs.max())},
        "records": listed,
        "neighbour_search": describe(context.closest("lexical", "synthetic", "train")),
        "embedding": context.embedding_method("lexical"),
        "ngram_matching": "64-bit hashes of token n-grams, every match confirmed on the tokens (audit/grams.py)",
        "chart": {
            "kind": "histogram", "title": "Longest run of words shared with the closest training record",
            "x_label": "tokens", "edges": edges.tolist(),
            "series": {"synthetic records": np.histogram(longest_runs, edges)[0].tolist()},
        },
    }
    needed = wilson_records_needed(memorized, len(synthetic), settings.threshold, settings.confidence)
    return settings.result(figure, ci, summary, details, METHOD, needed=lambda: needed and (needed, "synthetic records"))


CHECK = Check(name="memorization", title="Copies of training records", run=run, default_threshold=0.01, order=30)
