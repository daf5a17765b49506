"""Utility: is the synthetic data like the real data, and useful in its place?

Figure: the cross-validated AUC of a classifier trained to tell real (training) records from
synthetic ones — 0.5 means it cannot, 1.0 means every synthetic record gives itself away. Also
reported: Jensen–Shannon distances of record lengths, vocabulary and labels, and for labelled data
the accuracy on the holdout of a classifier trained on synthetic records vs one trained on real ones.
With fewer than `min_records` records on either side a discriminator's AUC says nothing (it passes by
chance), so the check does not apply and, when the policy requires it, the gate quarantines.
Parameters: `sample` (records per side for the discriminator, default 2000), `folds` (default 5, fewer
when a side has fewer records), `min_records` (default 10), `components_sample` (records per split the
classification components train and test on, default 20,000: a seeded random sample, so the check's
cost stops growing with the data while its intervals say how precise the figures are).

Components (details["components"]), each a figure with a 95% interval and a policy threshold
(`params.thresholds`, defaults in COMPONENT_THRESHOLDS): for labelled data, macro-F1 on the pipeline's
holdout of a classifier trained on synthetic records vs on the training split (TSTR ratio) and on both
(augmentation lift); label, length and vocabulary Jensen–Shannon distances; embedding precision,
recall, density and coverage (audit/fidelity.py); the discriminator's AUC against the holdout
(`holdout_discriminator_auc`: real records the synthetic ones were not written from; on BBC News ledes
a few-shot set read 0.84 against its training records and 0.92 against other real ones). A component
fails the check only when the policy lists it in `params.enforce` (its estimate is judged, like the
discriminator's); otherwise it is reported with its verdict, so a site can see where its data falls
short before it enforces a floor.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from audit.check import Check, CheckResult, CheckSettings, NotApplicable
from audit.context import AuditContext
from audit.fidelity import classification_utility, distribution_distance_ci, embedding_fidelity
from audit.stats import auc_with_ci, js_distance, scaled_records_needed

METHOD = (
    "Real-vs-synthetic discriminator (TF-IDF word n-grams + logistic regression, stratified k-fold "
    "out-of-fold scores, bootstrap interval); Jensen–Shannon distances; train-on-synthetic/test-on-real "
    "macro-F1 and augmentation lift on the holdout (Esteban et al. 2017; paired bootstrap); embedding "
    "precision/recall (Kynkäänniemi et al. 2019) and density/coverage (Naeem et al. 2020)."
)


def text_classifier(seed: int):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=20_000),
        LogisticRegression(max_iter=300, random_state=seed),
    )


def discriminator(real: list[str], synthetic: list[str], sample: int, folds: int, seed: int):
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    rng = np.random.default_rng(seed)
    k = min(sample, len(real), len(synthetic))  # each fold is stratified: k real and k synthetic records
    texts = [real[i] for i in rng.choice(len(real), k, replace=False)]
    texts += [synthetic[i] for i in rng.choice(len(synthetic), k, replace=False)]
    labels = np.array([0] * k + [1] * k)
    folds = max(2, min(folds, k))  # every fold keeps at least one record of each side
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    scores = cross_val_predict(text_classifier(seed), texts, labels, cv=splitter, method="predict_proba")[:, 1]
    return scores[labels == 1], scores[labels == 0]


def _length_distance(a: list[list[str]], b: list[list[str]]) -> float:
    return _lengths_distance([len(t) for t in a], [len(t) for t in b])


def _lengths_distance(a, b) -> float:
    la, lb = np.asarray(a), np.asarray(b)
    edges = np.histogram_bin_edges(np.concatenate([la, lb]), bins=30)
    return js_distance(np.histogram(la, edges)[0], np.histogram(lb, edges)[0])


def _vocabulary_counts(context: AuditContext) -> tuple:
    """(records × words count matrices of training and synthetic records, transposed to words ×
    records), from the audit's shared token ids: array arithmetic, no per-token Python step."""
    from scipy.sparse import csr_matrix

    splits = [context.token_ids(split) for split in ("train", "synthetic")]
    words = context.vocabulary_size()
    return tuple(csr_matrix((np.ones(len(ids)), (ids, np.repeat(np.arange(len(lengths)), lengths))),
                            shape=(words, len(lengths))) for ids, lengths in splits)


def _vocabulary_distance(context: AuditContext) -> float:
    left, right = _vocabulary_counts(context)
    return js_distance(np.asarray(left.sum(axis=1)).ravel(), np.asarray(right.sum(axis=1)).ravel())


def _vocabulary_distance_ci(context: AuditContext, **boot):
    """The vocabulary distance and its bootstrap interval. A resample is a vector of record weights,
    so its word counts are one sparse product rather than a recount of every token."""
    left, right = _vocabulary_counts(context)

    def distance(ia, ib) -> float:
        wa, wb = np.bincount(ia, minlength=left.shape[1]), np.bincount(ib, minlength=right.shape[1])
        return js_distance(left @ wa, right @ wb)

    return distribution_distance_ci(np.arange(left.shape[1]), np.arange(right.shape[1]), distance, **boot)


def _label_distance_ci(a: list[str], b: list[str], **boot):
    """The label distance and its bootstrap interval, labels coded once as integers."""
    classes = {label: i for i, label in enumerate(sorted(set(a) | set(b)))}
    ca, cb = np.array([classes[y] for y in a]), np.array([classes[y] for y in b])

    def distance(ia, ib) -> float:
        return js_distance(np.bincount(ca[ia], minlength=len(classes)), np.bincount(cb[ib], minlength=len(classes)))

    return distribution_distance_ci(np.arange(len(a)), np.arange(len(b)), distance, **boot)


def _capped(items: list, cap: int, seed: int) -> list:
    """At most `cap` of `items`, a seeded random sample in their original order."""
    if len(items) <= cap:
        return items
    keep = np.sort(np.random.default_rng(seed).choice(len(items), cap, replace=False))
    return [items[i] for i in keep]


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
        model = text_classifier(seed).fit(list(texts), list(labels))
        accuracy[source] = float(np.mean(model.predict(list(test_texts)) == np.array(test_labels)))
    return {
        "train_on_synthetic_accuracy": accuracy["synthetic"],
        "train_on_real_accuracy": accuracy["train"],
        "ratio": accuracy["synthetic"] / accuracy["train"] if accuracy["train"] else 0.0,
        "test_records": len(test_labels),
    }


# name → (direction, default threshold): "min" figures must reach it, "max" figures stay at or below.
COMPONENT_THRESHOLDS = {
    "tstr_ratio": ("min", 0.85),
    "augmentation_lift": ("min", 0.0),
    "label_js_distance": ("max", 0.1),
    "length_js_distance": ("max", 0.4),
    "vocabulary_js_distance": ("max", 0.6),
    "embedding_precision": ("min", 0.5),
    "embedding_recall": ("min", 0.3),
    "embedding_density": ("min", 0.5),
    "embedding_coverage": ("min", 0.5),
    "holdout_discriminator_auc": ("max", 0.95),
}


def _component(name: str, figure: float, ci, settings: CheckSettings) -> dict:
    direction, default = COMPONENT_THRESHOLDS[name]
    threshold = float(settings.param("thresholds", {}).get(name, default))
    passed = figure >= threshold if direction == "min" else figure <= threshold
    return {"figure": round(float(figure), 4), "ci": [round(float(c), 4) for c in ci], "threshold": threshold,
            "direction": direction, "passed": bool(passed), "enforced": name in settings.param("enforce", [])}


def _classification(context: AuditContext, seed: int, cap: int) -> dict | None:
    """Macro-F1 on the holdout: trained on train, on synthetic, on both (paired bootstrap)."""
    if not context.fields.label:
        return None
    def labelled(split):
        return _capped([(t, str(y)) for t, y in zip(context.texts(split), context.labels(split)) if y is not None],
                       cap, seed)
    train, synthetic, holdout = labelled("train"), labelled("synthetic"), labelled("holdout")
    if not holdout or any(len({y for _, y in part}) < 2 for part in (train, synthetic)):
        return None
    sets = {"real": train, "synthetic": synthetic, "real+synthetic": train + synthetic}
    return classification_utility({n: tuple(zip(*part)) for n, part in sets.items()}, tuple(zip(*holdout)),
                                   text_classifier, seed, context.n_bootstrap, context.confidence)


def _holdout_discriminator(context: AuditContext, settings: CheckSettings, seed: int):
    """(AUC, interval) of the discriminator against the holdout: real records the synthetic ones
    were not written from. Against the training records a generator that stays close to its
    examples looks more real than it is to someone holding other real records."""
    holdout, synthetic = context.texts("holdout"), context.texts("synthetic")
    if min(len(holdout), len(synthetic)) < max(2, int(settings.param("min_records", 10))):
        return None
    synthetic_scores, real_scores = discriminator(holdout, synthetic, int(settings.param("sample", 2000)),
                                                  int(settings.param("folds", 5)), seed)
    return auc_with_ci(synthetic_scores, real_scores, confidence=settings.confidence,
                       n_bootstrap=min(context.n_bootstrap, 500), seed=seed)


def _components(context: AuditContext, settings: CheckSettings, seed: int) -> dict:
    out = {}
    train_tokens, synthetic_tokens = context.tokens("train"), context.tokens("synthetic")
    boot = dict(seed=seed, n_bootstrap=min(context.n_bootstrap, 200), confidence=context.confidence)
    out["length_js_distance"] = _component("length_js_distance", *distribution_distance_ci(
        np.array([len(t) for t in train_tokens]), np.array([len(t) for t in synthetic_tokens]), _lengths_distance,
        **boot), settings)
    out["vocabulary_js_distance"] = _component("vocabulary_js_distance", *_vocabulary_distance_ci(
        context, **boot), settings)
    if context.fields.label:
        out["label_js_distance"] = _component("label_js_distance", *_label_distance_ci(
            [str(y) for y in context.labels("train")], [str(y) for y in context.labels("synthetic")], **boot), settings)
    if classes := _classification(context, seed, int(settings.param("components_sample", 20_000))):
        out["tstr_ratio"] = _component("tstr_ratio", classes["synthetic"]["ratio"], classes["synthetic"]["ratio_ci"], settings)
        both = classes["real+synthetic"]
        out["augmentation_lift"] = _component("augmentation_lift", both["lift"], both["lift_ci"], settings)
        out["classification"] = classes
    if (unseen := _holdout_discriminator(context, settings, seed)) is not None:
        out["holdout_discriminator_auc"] = _component("holdout_discriminator_auc", *unseen, settings)
    vectors = context.embeddings()
    rng = np.random.default_rng(seed)
    cap = int(settings.param("sample", 2000))
    real, synthetic = (v[rng.permutation(len(v))[:cap]] for v in (vectors["train"], vectors["synthetic"]))
    fidelity = embedding_fidelity(real, synthetic, seed=seed, n_bootstrap=min(context.n_bootstrap, 500),
                                  confidence=context.confidence)
    for name in ("precision", "recall", "density", "coverage"):
        out[f"embedding_{name}"] = _component(f"embedding_{name}", fidelity[name]["figure"], fidelity[name]["ci"], settings)
    return out


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
    synthetic_scores, real_scores = discriminator(
        context.texts("train"), context.texts("synthetic"),
        int(settings.param("sample", 2000)), int(settings.param("folds", 5)), seed,
    )
    figure, ci = auc_with_ci(
        synthetic_scores, real_scores, confidence=settings.confidence, n_bootstrap=context.n_bootstrap, seed=seed
    )
    details = {
        "discriminator_records_per_side": len(real_scores),
        "length_js_distance": _length_distance(train_tokens, synthetic_tokens),
        "vocabulary_js_distance": _vocabulary_distance(context),
    }
    if context.fields.label:
        labels = (Counter(map(str, context.labels("train"))), Counter(map(str, context.labels("synthetic"))))
        details["label_field"] = context.fields.label
        details["label_js_distance"] = _counts_distance(*labels)
        details["label_counts"] = {"training": dict(labels[0]), "synthetic": dict(labels[1])}
    tstr = _tstr(context, int(settings.param("sample", 2000)), seed)
    if tstr:
        details["train_on_synthetic_test_on_real"] = tstr
    details["components"] = _components(context, settings, seed)
    details["chart"] = _length_chart(train_tokens, synthetic_tokens)
    failed = [n for n, c in details["components"].items() if isinstance(c, dict) and c.get("enforced") and not c["passed"]]
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
    summary += _components_sentence(details["components"])
    needed = scaled_records_needed(figure, ci[1], len(real_scores), settings.threshold)
    unit = "synthetic records (and as many real ones)"
    blocked = "; ".join(f"{n} {details['components'][n]['figure']:.3g} misses its floor "
                        f"{details['components'][n]['threshold']:.3g}" for n in failed)
    return settings.result(figure, ci, summary, details, METHOD, needed=lambda: needed and (needed, unit),
                           blocked_by=blocked)


def _length_chart(real: list[list[str]], synthetic: list[list[str]]) -> dict:
    """Record lengths (words), real vs synthetic, as shares of each side, for the HTML report."""
    la, lb = np.array([len(t) for t in real]), np.array([len(t) for t in synthetic])
    edges = np.histogram_bin_edges(np.concatenate([la, lb]), bins=20)
    share = lambda v: [round(float(c) / max(len(v), 1), 4) for c in np.histogram(v, edges)[0]]  # noqa: E731
    return {"title": "Record length, real (training) vs synthetic", "x_label": "words per record",
            "edges": [float(e) for e in edges], "series": {"real": share(la), "synthetic": share(lb)}}


def _components_sentence(components: dict) -> str:
    parts = []
    if "tstr_ratio" in components:
        ratio, lift = components["tstr_ratio"], components["augmentation_lift"]
        parts.append(f"On the holdout, a classifier trained on synthetic records reaches {ratio['figure']:.2f}× the "
                     f"macro-F1 of one trained on real records (95% interval {ratio['ci'][0]:.2f}–{ratio['ci'][1]:.2f}); "
                     f"adding them to the real records changes macro-F1 by {lift['figure']:+.3f} "
                     f"({lift['ci'][0]:+.3f} to {lift['ci'][1]:+.3f}).")
    if "embedding_coverage" in components:
        p, c = components["embedding_precision"], components["embedding_coverage"]
        parts.append(f"{p['figure']:.0%} of synthetic records lie in regions real records occupy (precision), and "
                     f"they cover {c['figure']:.0%} of the real records' neighbourhoods (coverage).")
    missed = [n for n, c in components.items() if isinstance(c, dict) and "passed" in c and not c["passed"]]
    if missed:
        parts.append("Below the policy's floor: " + ", ".join(missed) + ".")
    return (" " + " ".join(parts)) if parts else ""


CHECK = Check(name="utility", title="How close and useful the synthetic data is", run=run, default_threshold=0.95, order=60,
              kind="utility")
