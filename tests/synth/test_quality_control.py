"""Quality control from the field: label-consistency judge and keyword steering, on real records."""

from __future__ import annotations

import random
import re
from collections import Counter

from synth.judge import LabelJudge
from synth.steer import KeywordSampler, condition_key


def keyed(records):
    return [r["text"] for r in records], [condition_key({"label": r["label"]}) for r in records]


def test_keywords_characterise_their_label_and_come_from_several_records(records):
    texts, keys = keyed(records)
    sampler = KeywordSampler(texts, keys, min_records=2)
    billing = condition_key({"label": "billing"})
    assert sampler.weights[billing], "billing tickets share words no other label uses"
    for key, weights in sampler.weights.items():
        own = [t.lower() for t, k in zip(texts, keys) if k == key]
        for word in weights:
            assert word == word.lower() and not word.startswith("<")
            assert sum(bool(re.search(rf"\b{re.escape(word)}\b", t)) for t in own) >= 2, word
            # a keyword is used more often under its own label than elsewhere
            other = [t.lower() for t, k in zip(texts, keys) if k != key]
            share_own = sum(word in t for t in own) / len(own)
            assert share_own > sum(word in t for t in other) / len(other)


def test_draws_follow_the_weights_and_an_unknown_key_draws_nothing(records):
    sampler = KeywordSampler(*keyed(records), min_records=2)
    key = max(sampler.weights, key=lambda k: len(sampler.weights[k]))
    rng = random.Random(0)
    drawn = Counter(sampler.draw(key, rng) for _ in range(2000))
    weights = sampler.weights[key]
    top = max(weights, key=weights.get)
    assert set(drawn) <= set(weights) and drawn.most_common(1)[0][0] == top
    assert sampler.draw(condition_key({"label": "unseen"}), rng) is None


def test_judge_reads_labels_like_the_real_records_do(records):
    judge = LabelJudge.fit([r["text"] for r in records], [r["label"] for r in records])
    billing = "I was charged twice this month; please refund the second payment on my invoice."
    assert judge.agrees(billing, "billing") and not judge.agrees(billing, "shipping")
    assert judge.agrees(billing, "never-seen-label")  # no opinion on a label it never saw
    # every real record is read as its own label (the judge is lenient, not a coin)
    assert all(judge.agrees(r["text"], r["label"]) for r in records)


def test_no_judge_for_a_single_label(records):
    assert LabelJudge.fit([r["text"] for r in records], ["same"] * len(records)) is None
