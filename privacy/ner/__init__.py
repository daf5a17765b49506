"""Airlock's own NER component: a small spaCy model trained on a synthetic corpus built from the
gazetteers (privacy/gazetteers.py), run beside en_core_web_sm by recognizers/trained_ner.py."""
