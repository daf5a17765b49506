"""Membership inference from the released data alone.

An attacker holding the synthetic records guesses that a record was in the training split when a
synthetic record lies close to it. The attack is run for real: each training record (member) and
each holdout record (non-member) is scored by its distance to the closest synthetic record, and the
attack's AUC says how well that separates the two (0.5 = a coin flip). A second view: the share of
synthetic records closer to the training split than to an equal-sized holdout (0.5 expected),
with an exact binomial test. Parameter: `members` (training records scored; default all).
"""

from __future__ import annotations

import numpy as np

from audit.check import Check, CheckResult, CheckSettings
from audit.context import AuditContext
from audit.neighbors import closest, describe
from audit.stats import auc_with_ci, binomial_greater, scaled_records_needed, tpr_at_fpr, wilson

METHOD = (
    "Distance-to-closest-record attack (Yale et al. 2020; Stadler et al., 'Synthetic Data – "
    "Anonymisation Groundhog Day', USENIX Security 2022): AUC of members vs holdout non-members with "
    "a stratified bootstrap interval, TPR at 1% FPR (Carlini et al., S&P 2022), and the share of "
    "synthetic records closer to training than to an equal-sized holdout with a one-sided binomial test."
)


def _shares(values: np.ndarray, edges: np.ndarray) -> list[float]:
    return (np.histogram(values, edges)[0] / len(values)).round(4).tolist()


def run(context: AuditContext, settings: CheckSettings) -> CheckResult:
    rng = np.random.default_rng(context.seed)
    vectors = context.embeddings()
    members_scored = settings.param("members", None)
    member_distance = context.closest("semantic", "train", "synthetic").a_distance
    holdout = context.closest("semantic", "holdout", "synthetic")
    if members_scored is not None and members_scored < len(member_distance):
        member_distance = member_distance[rng.choice(len(member_distance), members_scored, replace=False)]
    nonmember_distance = holdout.a_distance
    # Closer means "member": the attack's score is the negative distance.
    figure, ci = auc_with_ci(
        -member_distance, -nonmember_distance,
        confidence=settings.confidence, n_bootstrap=context.n_bootstrap, seed=context.seed,
    )
    tpr = tpr_at_fpr(-member_distance, -nonmember_distance, 0.01)

    n_holdout = len(vectors["holdout"])
    subset = rng.choice(len(vectors["train"]), min(n_holdout, len(vectors["train"])), replace=False)
    to_train = closest(vectors["synthetic"], vectors["train"][subset], context.seed).a_distance
    to_holdout = holdout.b_distance
    closer = int(np.sum(to_train < to_holdout))
    untied = int(np.sum(to_train != to_holdout))
    share = closer / untied if untied else 0.5
    p_value = binomial_greater(closer, untied)
    share_ci = wilson(closer, untied, settings.confidence)

    summary = (
        f"An attacker holding the synthetic data tells training records from unseen ones with an AUC "
        f"of {figure:.2f} (95% interval {ci[0]:.2f}–{ci[1]:.2f}); 0.50 is a coin flip and the limit is "
        f"{settings.threshold:.2f}. {share:.1%} of synthetic records lie closer to the training data "
        f"than to an equally large set of unseen records (50% expected; p = {p_value:.2g})."
    )
    edges = np.linspace(0, float(max(member_distance.max(), nonmember_distance.max(), 1e-6)), 21)
    details = {
        "embedder": context.embedder.name,
        "neighbour_search": describe(holdout),
        "members": len(member_distance),
        "non_members": len(nonmember_distance),
        "tpr_at_1pct_fpr": tpr,
        "closer_to_train_share": share,
        "closer_to_train_ci": list(share_ci),
        "closer_to_train_p_value": p_value,
        "synthetic_records_compared": untied,
        "median_distance": {"members": float(np.median(member_distance)),
                            "non_members": float(np.median(nonmember_distance))},
        "chart": {
            "kind": "histogram", "title": "Distance to the closest synthetic record (share of records)",
            "x_label": "cosine distance", "edges": edges.round(4).tolist(),
            "series": {"training records": _shares(member_distance, edges),
                       "unseen records": _shares(nonmember_distance, edges)},
        },
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
