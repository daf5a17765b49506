"""Vocabulary balance: words the kept synthetic records overuse become less likely, on the real model."""

from __future__ import annotations

from synth.balance import VocabularyBalance
from synth.engine import Sampling

REAL = [f"Shares in <ORGANIZATION> fell {i}% after the firm said profits were down." for i in range(20)]


def test_only_words_overused_past_the_thresholds_are_biased(engine):
    balance = VocabularyBalance(REAL, engine.tokenize, min_records=5, ratio=2.0)
    for i in range(4):
        balance.keep([f"The new firm is expected to grow {i}%."])
    assert balance.overused() == {}, "fewer than min_records kept records use any word"
    balance.keep(["The new firm is expected to grow."])
    overused = balance.overused()
    assert {"new", "expected", "grow"} <= set(overused)
    assert "firm" not in overused and "organization" not in overused, "a word the real records use as often"
    bias = balance.logit_bias()
    assert bias and all(-3.0 <= b < 0 for b in bias.values())
    assert set(engine.tokenize(" new")[:1]) <= set(bias)


def test_a_biased_word_is_written_less(engine):
    messages = [{"role": "user", "content": "Write one sentence about a new phone. Reply with the text only."}]
    sampling = Sampling(temperature=0.8, max_tokens=40)
    balance = VocabularyBalance(["An old radio."] * 10, engine.tokenize, min_records=1, ratio=1.5, cap=8, strength=8)
    balance.keep(["a new phone"])
    bias = balance.logit_bias()
    plain = sum(" new " in f" {engine.complete(messages, sampling, s).text.lower()} " for s in range(8))
    biased = sum(" new " in f" {engine.complete(messages, sampling, s, logit_bias=bias).text.lower()} " for s in range(8))
    assert plain >= 4 and biased <= 1  # measured: 7 of 8 without the bias, 0 with it


def test_a_job_with_the_balance_on_biases_its_later_calls(records, engine, short, monkeypatch):
    from synth.generate import synthesize
    from synth.policy import SynthPolicy

    request = SynthPolicy(balance_vocabulary=True).request(mode="classify", n=12, label_field="label", sampling=short,
                                                           text_fields=["text"])
    assert request.balance_vocabulary
    biases, complete = [], engine.complete

    def recording(*args, **kwargs):  # the real engine still answers every call
        biases.append(kwargs.get("logit_bias"))
        return complete(*args, **kwargs)

    monkeypatch.setattr(engine, "complete", recording)
    result = synthesize(records, request, engine)
    assert len(result.records) == 12, result.summary
    assert not biases[0], "nothing is overused before any record is kept"
    assert biases[-1], "twelve records of a 135M model share stock words the real tickets do not use"
    assert all(-3.0 <= b < 0 for b in biases[-1].values())
