"""Loading Airlock's trained NER pipeline, once per process, only when its files match their sums."""

from __future__ import annotations

from functools import cache


@cache
def trained_pipeline():
    """The verified trained pipeline, or None when it is absent or does not match its sums."""
    import spacy

    from privacy.ner.train import MODEL_DIR, verified

    return spacy.load(MODEL_DIR) if verified(MODEL_DIR) else None
