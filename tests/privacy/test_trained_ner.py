"""Airlock's trained NER: a reproducible corpus, a model refused when its files do not match their
sums, and a shipped model that finds what the small English model misses without tagging prose."""

from __future__ import annotations

import shutil

from privacy.ner.corpus import LABELS, CorpusMaker
from privacy.ner.train import MODEL_DIR, checksums, train, verified


def test_corpus_is_seeded_and_its_spans_point_at_values():
    first = [CorpusMaker(3).example() for _ in range(50)]
    assert first == [CorpusMaker(3).example() for _ in range(50)]
    assert first != [CorpusMaker(4).example() for _ in range(50)]
    for text, spans in first:
        for start, end, label in spans:
            assert label in LABELS and text[start:end].strip() == text[start:end] != ""


def test_training_is_deterministic_and_an_altered_model_is_refused(tmp_path):
    a = train(tmp_path / "a", examples=20, epochs=1, seed=5)
    b = train(tmp_path / "b", examples=20, epochs=1, seed=5)
    assert checksums(a) == checksums(b) and verified(a)
    with (a / "meta.json").open("a") as meta:
        meta.write(" ")
    assert not verified(a)
    shutil.rmtree(b / "ner")
    assert not verified(b)


def test_shipped_model_is_verified_and_runs_beside_the_small_model(analyzer, default_policy):
    from privacy.analyzer import detect
    from privacy.recognizers.trained_ner import TrainedNerRecognizer

    assert verified(MODEL_DIR)
    text = "i spoke with ragnhild fjeldstad about the refund"
    found = [(r.entity_type, text[r.start:r.end]) for r in TrainedNerRecognizer().analyze(text, None)]
    assert ("PERSON", "ragnhild fjeldstad") in found
    prose = "The weekly report is late again; please reset the password before Friday."
    assert [r for r in detect(analyzer, prose, default_policy) if r.entity_type != "DATE_TIME"] == []
