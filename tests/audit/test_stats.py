"""The estimators agree with reference implementations and cover what they should."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from audit.stats import auc_with_ci, difference_interval, tpr_at_fpr, wilson


def test_auc_matches_scikit_learn_with_ties():
    rng = np.random.default_rng(0)
    positives, negatives = rng.integers(0, 20, 300), rng.integers(0, 18, 120)
    figure, (low, high) = auc_with_ci(positives, negatives, n_bootstrap=300)
    reference = roc_auc_score([1] * 300 + [0] * 120, np.concatenate([positives, negatives]))
    assert abs(figure - reference) < 1e-12
    assert low < figure < high


def test_auc_interval_covers_chance_about_95_times_in_100():
    rng = np.random.default_rng(1)
    covered = 0
    for trial in range(100):
        _, (low, high) = auc_with_ci(rng.normal(size=200), rng.normal(size=60), n_bootstrap=200, seed=trial)
        covered += low < 0.5 < high
    assert 88 <= covered <= 99


def test_wilson_and_difference_intervals():
    assert wilson(0, 50)[0] < 1e-12 and 0.05 < wilson(0, 50)[1] < 0.08
    d, (low, high) = difference_interval(30, 100, 10, 100)
    assert abs(d - 0.2) < 1e-12 and 0.08 < low < 0.2 < high < 0.32


def test_tpr_at_low_fpr_counts_positives_above_the_negatives_tail():
    negatives = np.arange(100.0)
    assert tpr_at_fpr(np.array([50.0, 99.5, 200.0]), negatives, 0.01) == 2 / 3


def test_records_needed_for_a_wilson_bound_is_the_first_sample_that_reaches_the_limit():
    from audit.stats import wilson_records_needed

    n = wilson_records_needed(0, 30, 0.01)
    assert wilson(0, n)[1] <= 0.01 < wilson(0, n - 1)[1]
    assert 370 < n < 390  # z²/(n + z²) ≤ 0.01 → n ≥ 99·1.96² ≈ 380
    k, m = 2, 100
    n = wilson_records_needed(k, m, 0.05)
    assert wilson(round(k / m * n), n)[1] <= 0.051 and n > m
    assert wilson_records_needed(5, 100, 0.05) is None  # the rate itself is at the limit: no sample will do


def test_records_needed_for_a_difference_reaches_the_limit_when_both_sides_grow():
    from audit.stats import difference_records_needed

    n = difference_records_needed(3, 40, 4, 40, 0.05)
    _, (_, high) = difference_interval(3 * n / 40, n, 4 * n / 40, n)
    _, (_, before) = difference_interval(3 * (n - 1) / 40, n - 1, 4 * (n - 1) / 40, n - 1)
    assert high <= 0.05 < before
    assert difference_records_needed(10, 40, 1, 40, 0.05) is None


def test_records_needed_for_an_auc_shrinks_the_real_bootstrap_interval_to_the_limit():
    """Predicted from a small sample, checked on a sample of the predicted size from the same distributions."""
    from audit.stats import scaled_records_needed

    rng = np.random.default_rng(4)
    figure, (_, high) = auc_with_ci(rng.normal(0.1, 1, 40), rng.normal(0, 1, 40), n_bootstrap=400)
    n = scaled_records_needed(figure, high, 40, figure + 0.05)
    assert n > 40
    big, (_, big_high) = auc_with_ci(rng.normal(0.1, 1, n), rng.normal(0, 1, n), n_bootstrap=400)
    assert big_high - big == pytest.approx(0.05, abs=0.015)
    assert scaled_records_needed(0.7, 0.8, 40, 0.6) is None
