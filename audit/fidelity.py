"""Utility figures as users measure them, each with a percentile-bootstrap interval.

- Classification utility: macro-F1 on real held-out records of a topic/label classifier trained on
  the real training split, on the synthetic records, and on both; the synthetic/real ratio (TSTR,
  Esteban et al. 2017) and the augmentation lift (both − real). Intervals are paired: every model is
  scored on the same resample of the held-out records.
- Embedding fidelity and coverage: precision and recall of Kynkäänniemi et al. 2019 (share of
  synthetic records inside the real records' k-nearest-neighbour balls, and vice versa), density
  and coverage of Naeem et al. 2020. The balls' radii come from the full sets; the bootstrap
  resamples the records that are averaged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Classifier = Callable[[int], object]  # seed → an unfitted sklearn estimator over texts


def interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    tail = (1 - confidence) / 2 * 100
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))


def macro_f1(truth: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    """Macro-averaged F1 over the classes that occur in `truth` or `predicted` (integer codes);
    numpy only, so a thousand bootstrap draws cost milliseconds."""
    confusion = np.bincount(truth * n_classes + predicted, minlength=n_classes * n_classes).reshape(n_classes, -1)
    tp = np.diag(confusion).astype(float)
    support, guessed = confusion.sum(axis=1), confusion.sum(axis=0)
    present = (support + guessed) > 0
    f1 = np.divide(2 * tp, support + guessed, out=np.zeros_like(tp), where=present)
    return float(f1[present].mean()) if present.any() else 0.0


def classification_utility(
    sets: dict[str, tuple[Sequence[str], Sequence[str]]], test: tuple[Sequence[str], Sequence[str]],
    classifier: Classifier, seed: int = 0, n_bootstrap: int = 1000, confidence: float = 0.95,
) -> dict:
    """Macro-F1 on `test` (texts, labels) of a classifier trained on each named set; sets other than
    'real' also get `ratio` (TSTR) and `lift` over 'real', each with its paired interval."""
    classes = sorted({str(y) for y in test[1]} | {str(y) for _, labels in sets.values() for y in labels})
    code = {c: i for i, c in enumerate(classes)}
    truth = np.array([code[str(y)] for y in test[1]])
    predicted = {}
    for name, (texts, labels) in sets.items():
        model = classifier(seed).fit(list(texts), [str(y) for y in labels])
        predicted[name] = np.array([code[str(p)] for p in model.predict(list(test[0]))])
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, len(truth), len(truth)) for _ in range(n_bootstrap)]
    boot = {n: np.array([macro_f1(truth[d], p[d], len(classes)) for d in draws]) for n, p in predicted.items()}
    out = {}
    for name, pred in predicted.items():
        figure = macro_f1(truth, pred, len(classes))
        out[name] = {"macro_f1": figure, "ci": interval(boot[name], confidence)}
    if "real" in out:
        base = out["real"]["macro_f1"]
        for name in (n for n in out if n != "real"):
            out[name]["lift"] = out[name]["macro_f1"] - base
            out[name]["lift_ci"] = interval(boot[name] - boot["real"], confidence)
            out[name]["ratio"] = out[name]["macro_f1"] / base if base else 0.0
            safe = np.where(boot["real"] > 0, boot["real"], np.nan)
            out[name]["ratio_ci"] = interval(np.nan_to_num(boot[name] / safe), confidence)
    return out


def _cosine_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return np.clip(1.0 - a @ b.T, 0.0, 2.0)


def _radii(distances: np.ndarray, k: int) -> np.ndarray:
    """Distance of each row to its k-th nearest other row of the same set."""
    k = min(k, distances.shape[0] - 1)
    return np.sort(distances, axis=1)[:, k]  # column 0 is the row itself


def embedding_fidelity(real: np.ndarray, synthetic: np.ndarray, k: int = 5, seed: int = 0,
                       n_bootstrap: int = 1000, confidence: float = 0.95) -> dict:
    """Precision, recall (Kynkäänniemi 2019), density and coverage (Naeem 2020) with intervals."""
    if len(real) < 2 or len(synthetic) < 2:
        raise ValueError("embedding fidelity needs at least two records on each side")
    cross = _cosine_distances(real, synthetic)  # real × synthetic
    real_radii = _radii(_cosine_distances(real, real), k)
    synthetic_radii = _radii(_cosine_distances(synthetic, synthetic), k)
    inside_real = cross <= real_radii[:, None]  # synthetic j inside real i's ball
    per_synthetic_precision = inside_real.any(axis=0).astype(float)
    per_synthetic_density = inside_real.sum(axis=0) / min(k, len(real) - 1)
    per_real_recall = (cross <= synthetic_radii[None, :]).any(axis=1).astype(float)
    per_real_coverage = (cross.min(axis=1) <= real_radii).astype(float)
    rng = np.random.default_rng(seed)
    out = {}
    for name, values in (("precision", per_synthetic_precision), ("density", per_synthetic_density),
                         ("recall", per_real_recall), ("coverage", per_real_coverage)):
        boot = np.array([values[rng.integers(0, len(values), len(values))].mean() for _ in range(n_bootstrap)])
        out[name] = {"figure": float(values.mean()), "ci": interval(boot, confidence)}
    out["k"] = min(k, len(real) - 1)
    return out


def distribution_distance_ci(a: list | np.ndarray, b: list | np.ndarray, distance: Callable[[list, list], float],
                             seed: int = 0, n_bootstrap: int = 200, confidence: float = 0.95) -> tuple[float, tuple[float, float]]:
    """A distance between two samples (e.g. Jensen–Shannon of lengths) and a bootstrap interval
    that resamples both sides. A resample repeats records and so loses vocabulary: plug-in distances
    grow under resampling, so the interval is shifted by the bootstrap's median bias."""
    rng = np.random.default_rng(seed)
    figure = distance(a, b)
    # numpy arrays are resampled by fancy indexing: the same draws, the same resamples, no Python loop
    pick = lambda values, rows: values[rows] if isinstance(values, np.ndarray) else [values[i] for i in rows]  # noqa: E731
    boot = [distance(pick(a, rng.integers(0, len(a), len(a))), pick(b, rng.integers(0, len(b), len(b))))
            for _ in range(n_bootstrap)]
    bias = float(np.median(boot)) - figure
    low, high = interval(np.array(boot), confidence)
    return figure, (max(0.0, low - bias), high - bias)
