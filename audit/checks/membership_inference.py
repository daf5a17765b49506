"""Membership inference from the released data alone.

An attacker holding the synthetic records guesses that a record was in the training split when a
synthetic record lies close to it. The attack is run for real: each training record (member) and
each holdout record (non-member) is scored by its distance to the closest synthetic record, and the
attack's AUC says how well that separates the two (0.5 = a coin flip). A second view: the share of
synthetic records closer to the training split than to an equal-sized holdout (0.5 expected),
with an exact binomial test. Parameters: `members` (training records scored; default all),
`max_records` (default 200,000): a split larger than this is scored on a seeded uniform sample of
that many records in each comparison (members, non-members, synthetic records), with the closest
record still searched among all records of the other split. The intervals are those of the sample,
so a sampled figure is judged by its own upper bound; the details say what was sampled
(`sampled_at_scale`) and how every search was done, with its measured recall (`neighbour_searches`).
"""

from __future__ import annotations

import numpy as np

from audit.check import Check, CheckResult, CheckSettings
from audit.context import AuditContext
from audit.neighbors import closest, describe
from audit.stats import auc_with_ci, binomial_greater, scaled_records_needed, tpr_at_fpr, wilson

MAX_RECORDS = 200_000  # per split, above which each comparison scores a seeded uniform sample
METHOD = (
    "Distance-to-closest-record attack (Yale et al. 2020; Stadler et al., 'Synthetic Data – "
    "Anonymisation Groundhog Day', USENIX Security 2022): AUC of members vs holdout non-members with "
    "a stratified bootstrap interval, TPR at 1% FPR (Carlini et al., S&P 2022), and the share of "
    "synthetic records closer to training than to an equal-sized holdout with a one-sided binomial test."
)


def _shares(values: np.ndarray, edges: np.ndarray) -> list[float]:
    return (np.histogram(values, edges)[0] / len(values)).round(4).tolist()


def _chart(member_distance: np.ndarray, nonmember_distance: np.ndarray) -> dict:
    edges = np.linspace(0, float(max(member_distance.max(), nonmember_distance.max(), 1e-6)), 21)
    return {"kind": "histogram", "title": "Distance to the closest synthetic record (share of records)",
            "x_label": "cosine distance", "edges": edges.round(4).tolist(),
            "series": {"training records": _shares(member_distance, edges),
                       "unseen records": _shares(nonmember_distance, edges)}}


def _rows(n: int, cap: int | None, seed: int) -> np.ndarray | None:
    """A seeded uniform sample of `cap` of `n` rows (sorted), or None when all `n` are kept."""
    if cap is None or n <= cap:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, cap, replace=False))


def _distances(context: AuditContext, split: str, other: str, rows: np.ndarray | None):
    """Distance of each row of `split` (or of the sampled `rows`) to its closest row of `other`,
    and how that search was done."""
    found = (context.closest("semantic", split, other) if rows is None
             else context.closest_rows("semantic", split, rows, other))
    return found.a_distance, describe(found)


def _sampled(settings: CheckSettings, context: AuditContext) -> dict:
    """Which rows each comparison scores: all of them, or seeded samples above the policy's caps."""
    cap = settings.param("max_records", MAX_RECORDS)
    seed = context.seed + 1  # not the seed the small-data path draws its subset with
    return {split: _rows(len(context.records(split)), cap, seed + i)
            for i, split in enumerate(("train", "holdout", "synthetic"))}


def _closer_to_train(context: AuditContext, rng: np.random.Generator, rows: np.ndarray | None):
    """(synthetic records closer to a holdout-sized subset of training than to the holdout, records
    not tied, how the searches were done) over all synthetic records or the sampled `rows`."""
    vectors = context.embeddings()
    n_holdout = len(vectors["holdout"])
    subset = rng.choice(len(vectors["train"]), min(n_holdout, len(vectors["train"])), replace=False)
    queries = vectors["synthetic"] if rows is None else vectors["synthetic"][rows]
    to_subset = closest(queries, vectors["train"][subset], context.seed, searcher=context.searcher)
    to_train = to_subset.a_distance
    to_holdout, holdout_search = _distances(context, "synthetic", "holdout", rows)
    searches = {"synthetic_to_holdout": holdout_search, "synthetic_to_train_subset": describe(to_subset)}
    return int(np.sum(to_train < to_holdout)), int(np.sum(to_train != to_holdout)), searches


def run(context: AuditContext, settings: CheckSettings) -> CheckResult:
    rng = np.random.default_rng(context.seed)
    members_scored = settings.param("members", None)
    sampled = _sampled(settings, context)
    member_distance, member_search = _distances(context, "train", "synthetic", sampled["train"])
    nonmember_distance, nonmember_search = _distances(context, "holdout", "synthetic", sampled["holdout"])
    if members_scored is not None and members_scored < len(member_distance):
        member_distance = member_distance[rng.choice(len(member_distance), members_scored, replace=False)]
    # Closer means "member": the attack's score is the negative distance.
    figure, ci = auc_with_ci(
        -member_distance, -nonmember_distance,
        confidence=settings.confidence, n_bootstrap=context.n_bootstrap, seed=context.seed,
    )
    tpr = tpr_at_fpr(-member_distance, -nonmember_distance, 0.01)

    closer, untied, searches = _closer_to_train(context, rng, sampled["synthetic"])
    share = closer / untied if untied else 0.5
    p_value = binomial_greater(closer, untied)
    share_ci = wilson(closer, untied, settings.confidence)
    searches = {"members_to_synthetic": member_search, "non_members_to_synthetic": nonmember_search, **searches}
    scale = {split: {"scored": len(rows), "of": len(context.records(split)), "method": "seeded uniform sample"}
             for split, rows in sampled.items() if rows is not None}

    summary = (
        f"An attacker holding the synthetic data tells training records from unseen ones with an AUC "
        f"of {figure:.2f} (95% interval {ci[0]:.2f}–{ci[1]:.2f}); 0.50 is a coin flip and the limit is "
        f"{settings.threshold:.2f}. {share:.1%} of synthetic records lie closer to the training data "
        f"than to an equally large set of unseen records (50% expected; p = {p_value:.2g})."
    )
    details = {
        "embedder": context.embedder.name,
        "embedding": context.embedding_method("semantic"),
        "neighbour_search": nonmember_search,
        "neighbour_searches": searches,
        "sampled_at_scale": scale or None,
        "max_records": settings.param("max_records", MAX_RECORDS),
        "members": len(member_distance),
        "non_members": len(nonmember_distance),
        "tpr_at_1pct_fpr": tpr,
        "closer_to_train_share": share,
        "closer_to_train_ci": list(share_ci),
        "closer_to_train_p_value": p_value,
        "synthetic_records_compared": untied,
        "median_distance": {"members": float(np.median(member_distance)),
                            "non_members": float(np.median(nonmember_distance))},
        "chart": _chart(member_distance, nonmember_distance),
    }
    # The interval narrows with the smaller class, which is the holdout in practice.
    smaller = min(len(member_distance), len(nonmember_distance))
    needed = scaled_records_needed(figure, ci[1], smaller, settings.threshold)
    unit = "holdout (non-member) records, with at least as many training records"
    return settings.result(figure, ci, summary, details, METHOD, needed=lambda: needed and (needed, unit))


CHECK = Check(
    name="membership_inference", title="Can an attacker tell who was in the training data?",
    run=run, default_threshold=0.6, order=40,
)
