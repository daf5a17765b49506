"""Utility: is the synthetic data like the real data, and useful in its place?

Figure: the cross-validated AUC of a classifier trained to tell real (training) records from
synthetic ones — 0.5 means it cannot, 1.0 means every synthetic record gives itself away. Also
reported: Jensen–Shannon distances of record lengths, vocabulary and labels, and for labelled data
the accuracy on the holdout of a classifier trained on synthetic records vs one trained on real ones.
With fewer than `min_records` records on either side a discriminator's AUC says nothing (it passes by
chance), so the check does not apply and, when the policy requires it, the gate quarantines.
Parameters: `sample` (records per side for the discriminator, default 2000), `folds` (default 5, fewer
when a side has fewer records), `min_records` (default 10).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from audit.check import Check, CheckResult, CheckSettings, NotApplicable
from audit.context import AuditContext
from audit.stats import auc_with_ci, js_distance, scaled_records_needed

METHOD = (
    "Real-vs-synthetic discriminator (TF-IDF word n-grams + logistic regression, stratified k-fold "
    "out-of-fold scores, bootstrap interval); Jensen–Shannon distances; train-on-synthetic/test-on-real "
    "(Esteban et al. 2017)."
)


def _text_classifier(seed: int):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=20_000),
        LogisticRegression(max_iter=300, random_state=seed),
    )


def _discriminator(real: list[str], synthetic: list[str], sample: int, folds: int, seed: int):
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    rng = np.random.default_rng(seed)
    k = min(sample, len(real), len(synthetic))  # each fold is stratified: k real and k synthetic records
    texts = [real[i] for i in rng.choice(len(real), k, replace=False)]
    texts += [synthetic[i] for i in rng.choice(len(synthetic), k, replace=False)]
    labels = np.array([0] * k + [1] * k)
    folds = max(2, min(folds, k))  # every fold keeps at least one record of each side
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    scores = cross_val_predict(_text_classifier(seed), texts, labels, cv=splitter, method="predict_proba")[:, 1]
    return scores[labels == 1], scores[labels == 0]


def _length_distance(a: list[list[str]], b: list[list[str]]) -> float:
    la, lb = np.array([len(t) for t in a]), np.array([len(t) for t in b])
    edges = np.histogram_bin_edges(np.concatenate([la, lb]), bins=30)
    return js_distance(np.histogram(la, edges)[0], np.histogram(lb, edges)[0])


def _counts_distance(a: Counter, b: Counter) -> float:
    keys = sorted(set(a) | set(b), key=str)
    return js_distance(np.array([a[k] for k in keys]), np.array([b[k] for k in keys]))


def _tstr(context: AuditContext, sample: int, seed: int) -> dict | None:
    """Accuracy on the holdout of a label classifier trained on `sample` synthetic vs as many
    training records."""
    if not context.fields.label:
        return None
    splits = {s: (context.texts(s), context.labels(s)) for s in ("synthetic", "train", "holdout")}
    if any(len({label for label in labels if label is not None}) < 2 for _, labels in (splits["synthetic"], splits["train"])):
        return None
    test = [(t, str(y)) for t, y in zip(*splits["holdout"]) if y is not None]
    if not test:
        return None
    test_texts, test_labels = zip(*test)
    accuracy = {}
    for source in ("synthetic", "train"):
        labelled = [(t, str(y)) for t, y in zip(*splits[source]) if y is not None]
        picked = np.random.default_rng(seed).permutation(len(labelled))[:sample]
        texts, labels = zip(*[labelled[i] for i in picked])
        model = _text_classifier(seed).fit(list(texts), list(labels))
        accuracy[source] = float(np.mean(model.predict(list(test_texts)) == np.array(test_labels)))
    return {
        "train_on_synthetic_accuracy": accuracy["synthetic"],
        "train_on_real_accuracy": accuracy["train"],
        "ratio": accuracy["synthetic"] / accuracy["train"] if accuracy["train"] else 0.0,
        "test_records": len(test_labels),
    }


def run(context: AuditContext, settings: CheckSettings) -> CheckResult:
    seed = context.seed
    fewest = min(len(context.records("synthetic")), len(context.records("train")))
    needed = max(2, int(settings.param("min_records", 10)))  # a stratified split needs two of each
    if fewest < needed:
        raise NotApplicable(
            f"only {fewest} records on one side: telling real from synthetic records needs at least "
            f"{needed} of each to mean anything"
        )
    synthetic_tokens, train_tokens = context.tokens("synthetic"), context.tokens("train")
    synthetic_scores, real_scores = _discriminator(
        context.texts("train"), context.texts("synthetic"),
        int(settings.param("sample", 2000)), int(settings.param("folds", 5)), seed,
    )
    figure, ci = auc_with_ci(
        synthetic_scores, real_scores, confidence=settings.confidence, n_bootstrap=context.n_bootstrap, seed=seed
    )
    vocabulary = (Counter(w for t in train_tokens for w in t), Counter(w for t in synthetic_tokens for w in t))
    details = {
        "discriminator_records_per_side": len(real_scores),
        "length_js_distance": _length_distance(train_tokens, synthetic_tokens),
        "vocabulary_js_distance": _counts_distance(*vocabulary),
    }
    if context.fields.label:
        labels = (Counter(map(str, context.labels("train"))), Counter(map(str, context.labels("synthetic"))))
        details["label_field"] = context.fields.label
        details["label_js_distance"] = _counts_distance(*labels)
        details["label_counts"] = {"training": dict(labels[0]), "synthetic": dict(labels[1])}
    tstr = _tstr(context, int(settings.param("sample", 2000)), seed)
    if tstr:
        details["train_on_synthetic_test_on_real"] = tstr
    summary = (
        f"A classifier trying to tell synthetic from real records reaches an AUC of {figure:.2f} "
        f"(95% interval {ci[0]:.2f}–{ci[1]:.2f}); 0.50 means they are indistinguishable, and the limit "
        f"is {settings.threshold:.2f}. Word-use distance to the real data: "
        f"{details['vocabulary_js_distance']:.2f} (0 = same, 1 = disjoint)."
    )
    if tstr:
        summary += (
            f" A label classifier trained on the synthetic data scores {tstr['train_on_synthetic_accuracy']:.0%} "
            f"on unseen real records, against {tstr['train_on_real_accuracy']:.0%} when trained on real data."
        )
    needed = scaled_records_needed(figure, ci[1], len(real_scores), settings.threshold)
    unit = "synthetic records (and as many real ones)"
    return settings.result(figure, ci, summary, details, METHOD, needed=lambda: needed and (needed, unit))


CHECK = Check(name="utility", title="How close and useful the synthetic data is", run=run, default_threshold=0.95, order=60,
              kind="utility")
