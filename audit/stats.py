"""Estimators with intervals: every audit figure is reported with its uncertainty, never bare."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def wilson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (Wilson 1927), well-behaved at 0 and 1."""
    if trials == 0:
        return (0.0, 1.0)
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + confidence / 2))
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def difference_interval(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int, confidence: float = 0.95
) -> tuple[float, tuple[float, float]]:
    """Difference of two proportions a − b with Newcombe's hybrid Wilson interval (Newcombe 1998,
    method 10)."""
    p_a = successes_a / trials_a if trials_a else 0.0
    p_b = successes_b / trials_b if trials_b else 0.0
    low_a, high_a = wilson(successes_a, trials_a, confidence)
    low_b, high_b = wilson(successes_b, trials_b, confidence)
    d = p_a - p_b
    return d, (d - math.hypot(p_a - low_a, high_b - p_b), d + math.hypot(high_a - p_a, p_b - low_b))


def auc_with_ci(
    positives: Sequence[float] | np.ndarray,
    negatives: Sequence[float] | np.ndarray,
    *,
    confidence: float = 0.95,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> tuple[float, tuple[float, float]]:
    """AUC of an attack that scores positives (members) above negatives, with a stratified
    percentile-bootstrap interval (Efron & Tibshirani 1993): each class is resampled on its own.

    A resample only reweights the original scores, so the scores are ranked once and each resample
    costs two weighted counts and a cumulative sum instead of a sort.
    """
    positives = np.asarray(positives, dtype=float)
    negatives = np.asarray(negatives, dtype=float)
    n_pos, n_neg = len(positives), len(negatives)
    if n_pos == 0 or n_neg == 0:
        raise ValueError("an AUC needs at least one positive and one negative score")
    levels, group = np.unique(np.concatenate([positives, negatives]), return_inverse=True)
    pos_group, neg_group = group[:n_pos], group[n_pos:]

    def weighted_auc(pos_weight: np.ndarray, neg_weight: np.ndarray) -> float:
        p = np.bincount(pos_group, weights=pos_weight, minlength=len(levels))
        n = np.bincount(neg_group, weights=neg_weight, minlength=len(levels))
        below = np.cumsum(n) - n  # negatives strictly below each score level
        return float(np.dot(p, below + 0.5 * n) / (n_pos * n_neg))

    rng = np.random.default_rng(seed)
    estimates = np.array([
        weighted_auc(np.bincount(rng.integers(0, n_pos, n_pos), minlength=n_pos),
                     np.bincount(rng.integers(0, n_neg, n_neg), minlength=n_neg))
        for _ in range(n_bootstrap)
    ])
    return weighted_auc(np.ones(n_pos), np.ones(n_neg)), percentile_interval(estimates, confidence)


def percentile_interval(estimates: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(estimates, [tail, 100 - tail])
    return (float(low), float(high))


def tpr_at_fpr(positives: np.ndarray, negatives: np.ndarray, fpr: float = 0.01) -> float:
    """Share of positives an attack flags when its threshold lets through only `fpr` of negatives
    (Carlini et al., "Membership Inference Attacks From First Principles", S&P 2022)."""
    threshold = np.quantile(np.asarray(negatives, dtype=float), 1 - fpr, method="higher")
    return float(np.mean(np.asarray(positives, dtype=float) > threshold))


def binomial_greater(successes: int, trials: int, p: float = 0.5) -> float:
    """One-sided exact binomial test p-value: more successes than chance `p` would give."""
    from scipy.stats import binomtest

    if trials == 0:
        return 1.0
    return float(binomtest(successes, trials, p, alternative="greater").pvalue)


def js_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon distance (base 2, so 0 = identical and 1 = disjoint) of two count vectors."""
    from scipy.spatial.distance import jensenshannon

    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    if p.sum() == 0 or q.sum() == 0:
        return 1.0 if p.sum() != q.sum() else 0.0
    return float(jensenshannon(p / p.sum(), q / q.sum(), base=2))


# Sample sizes that would bound a risk below its limit, for the gate's "too little evidence". Each
# keeps the observed rate and asks how large the sample must grow for the interval's upper bound to
# reach the limit; beyond this many records the answer is "no sample size would do".
_MOST_RECORDS = 10**9


def _smallest(enough, start: int) -> int | None:
    """Smallest n ≥ start with enough(n), by doubling then bisection (enough is monotone in n)."""
    high = max(1, start)
    while not enough(high):
        high *= 2
        if high > _MOST_RECORDS:
            return None
    low = high // 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high


def wilson_records_needed(successes: int, trials: int, threshold: float, confidence: float = 0.95) -> int | None:
    """Trials needed for the Wilson upper bound to reach `threshold` at the observed rate (None when
    the rate itself is not below the threshold)."""
    rate = successes / trials if trials else 0.0
    if rate >= threshold:
        return None
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + confidence / 2))

    def upper(n: int) -> float:
        centre = rate + z * z / (2 * n)
        half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))
        return (centre + half) / (1 + z * z / n)

    return _smallest(lambda n: upper(n) <= threshold, trials)


def difference_records_needed(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int, threshold: float, confidence: float = 0.95
) -> int | None:
    """Size of side a (side b grown in proportion) for Newcombe's upper bound of a − b to reach
    `threshold` at the observed rates. Counts are scaled as reals: the bound is smooth in them."""
    p_a, p_b = successes_a / trials_a, successes_b / trials_b
    if p_a - p_b >= threshold:
        return None
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + confidence / 2))

    def bound(rate: float, n: float) -> tuple[float, float]:
        centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return centre - half, centre + half

    def enough(n_a: int) -> bool:
        n_b = n_a * trials_b / trials_a
        high_a, low_b = bound(p_a, n_a)[1], bound(p_b, n_b)[0]
        return p_a - p_b + math.hypot(high_a - p_a, p_b - low_b) <= threshold

    return _smallest(enough, trials_a)


def scaled_records_needed(figure: float, upper: float, records: int, threshold: float) -> int | None:
    """Records needed for a bootstrap interval's upper bound to reach `threshold`, taking its half-width
    to shrink as 1/√n (an AUC's does, Hanley & McNeil 1982); None when the figure is not below it."""
    if figure >= threshold:
        return None
    if upper <= threshold:
        return records
    return min(math.ceil(records * ((upper - figure) / (threshold - figure)) ** 2), _MOST_RECORDS)
