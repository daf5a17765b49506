"""The estimators agree with reference implementations and cover what they should."""

from __future__ import annotations

import numpy as np
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
