"""The lexical side of the audit at scale: hashed word n-grams and the memorization check's similarity
pass on local processes give what the plain paths give."""

from __future__ import annotations

import numpy as np

from audit.checks import memorization
from audit.text import tokens
from audit.wordgrams import word_gram_counts
from tests.audit.corpus import make_records, near_copy

FEATURES = 1 << 12


def _grams(text: str) -> list:
    words = tokens(text)
    return words + list(zip(words, words[1:]))


def test_word_gram_counts_are_the_unigram_and_bigram_counts_of_each_text():
    texts = ["The cat sat on the mat.", "", "the the the", "Ünïcode <PERSON> wrote: ok", "one"]
    matrix = word_gram_counts(texts, FEATURES).toarray()
    for row, text in zip(matrix, texts):
        grams = _grams(text)
        assert row.sum() == len(grams)  # every unigram and bigram of this text, none across texts
    assert matrix[2].max() >= 3  # "the" three times (plus its two bigrams "the the")
    assert matrix[1].sum() == 0


def test_word_gram_counts_do_not_depend_on_chunking_or_process():
    texts = [r["text"] for r in make_records(300, 5, "W")]
    whole = word_gram_counts(texts, FEATURES)
    parts = [word_gram_counts(texts[i : i + 70], FEATURES) for i in range(0, 300, 70)]
    stacked = np.vstack([p.toarray() for p in parts])
    assert np.array_equal(whole.toarray(), stacked)
    # same text, same columns, whichever texts came before it in its chunk
    assert np.array_equal(word_gram_counts(texts[:1], FEATURES).toarray()[0], whole.toarray()[0])


def test_parallel_similarities_equal_the_sequential_ones(monkeypatch):
    train_records = make_records(120, 1, "T")
    train = [tokens(r["text"]) for r in train_records]
    synthetic = [tokens(near_copy(train_records[i], i)["text"]) if i % 3 == 0 else tokens(r["text"])
                 for i, r in enumerate(make_records(90, 2, "S"))]
    nearest = np.random.default_rng(0).integers(0, len(train), len(synthetic))
    nearest[::3] = np.arange(0, 90, 3)  # the near copies face their originals
    expected = [memorization._similarity(a, train[int(j)], 0.8) for a, j in zip(synthetic, nearest)]
    monkeypatch.setattr(memorization, "PARALLEL_ABOVE", 10)
    monkeypatch.setattr(memorization, "CHUNK_RECORDS", 17)
    found = memorization._all_similarities(synthetic, train, nearest, 0.8)
    assert found == expected
    assert all(ratio >= 0.8 for ratio, _ in found[::3]) and all(ratio < 0.8 for ratio, _ in found[1::3])
