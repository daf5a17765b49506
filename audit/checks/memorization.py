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
from audit.stats import wilson, wilson_records_needed

MAX_LISTED = 50
METHOD = (
    "Exact duplicates, unique shared token n-grams (Carlini et al., 'Extracting Training Data from "
    "Large Language Models', USENIX Security 2021) and near-duplicates by token-sequence similarity "
    "to the closest training record, each controlled against the holdout; Wilson score interval."
)


def _ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _unique_train_ngrams(train: list[list[str]], holdout: list[list[str]], n: int) -> dict[tuple, int]:
    """n-gram → the one training record holding it, for n-grams in one training record and no holdout."""
    owner: dict[tuple, int] = {}
    frequency: Counter = Counter()
    for i, words in enumerate(train):
        for gram in _ngrams(words, n):
            frequency[gram] += 1
            owner[gram] = i
    seen_in_holdout = set().union(*(_ngrams(words, n) for words in holdout)) if holdout else set()
    return {g: i for g, i in owner.items() if frequency[g] == 1 and g not in seen_in_holdout}


def _similarity(a: list[str], b: list[str], at_least: float) -> tuple[float, int]:
    """(similarity ratio in [0, 1], longest common run of tokens); the ratio is computed only when
    its cheap upper bound reaches `at_least`, else the bound is returned."""
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    longest = matcher.find_longest_match(0, len(a), 0, len(b)).size
    bound = matcher.quick_ratio()
    return (matcher.ratio() if bound >= at_least else bound), longest


def run(context: AuditContext, settings: CheckSettings) -> CheckResult:
    n = int(settings.param("ngram", 10))
    near_ratio = float(settings.param("near_ratio", 0.8))
    synthetic, train, holdout = (context.tokens(s) for s in ("synthetic", "train", "holdout"))
    train_texts = {" ".join(words): i for i, words in enumerate(train)}
    holdout_texts = {" ".join(words) for words in holdout}
    unique = _unique_train_ngrams(train, holdout, n)
    to_train = context.closest("lexical", "synthetic", "train").a_index
    to_holdout = context.closest("lexical", "synthetic", "holdout").a_index
    synthetic_ids, train_ids = context.ids("synthetic"), context.ids("train")

    kinds = Counter()
    longest_runs = np.zeros(len(synthetic), dtype=int)
    listed = []
    for i, words in enumerate(synthetic):
        nearest = int(to_train[i])
        ratio, longest_runs[i] = _similarity(words, train[nearest], near_ratio)
        text = " ".join(words)
        kind, source = None, nearest
        if text in train_texts and text not in holdout_texts:
            kind, source = "exact copy", train_texts[text]
        else:
            shared = next((unique[g] for g in _ngrams(words, n) if g in unique), None)
            if shared is not None:
                kind, source = f"shares a unique run of {n}+ tokens", shared
            elif ratio >= near_ratio and ratio > _similarity(words, holdout[int(to_holdout[i])], ratio)[0]:
                kind = "near copy"
        if kind:
            kinds[kind] += 1
            if len(listed) < MAX_LISTED:
                listed.append({"record": synthetic_ids[i], "train_record": train_ids[source], "kind": kind,
                               "longest_common_tokens": int(longest_runs[i]), "similarity": round(ratio, 3)})
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
        "chart": {
            "kind": "histogram", "title": "Longest run of words shared with the closest training record",
            "x_label": "tokens", "edges": edges.tolist(),
            "series": {"synthetic records": np.histogram(longest_runs, edges)[0].tolist()},
        },
    }
    needed = wilson_records_needed(memorized, len(synthetic), settings.threshold, settings.confidence)
    return settings.result(figure, ci, summary, details, METHOD, needed=lambda: needed and (needed, "synthetic records"))


CHECK = Check(name="memorization", title="Copies of training records", run=run, default_threshold=0.01, order=30)
