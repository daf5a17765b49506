"""The copy guard on the real engine: a model told to repeat an example cannot write a long run of it."""

from __future__ import annotations

from synth.copyguard import CopyGuard
from synth.quality import NearDuplicateIndex

SOURCE = ("The customer <PERSON_1> called on Monday because the invoice for March was charged twice to the card "
          "and asked for a refund of the second payment before the end of the billing period.")


def longest_run(text: str) -> int:
    index = NearDuplicateIndex()
    index.add(SOURCE)
    return index.closest(text).run


def test_the_guard_stops_a_copied_run_but_not_the_placeholders(engine):
    from synth.engine import Sampling

    messages = [{"role": "user", "content": f"Repeat this text exactly, word for word:\n{SOURCE}"}]
    sampling = Sampling(temperature=0.7, max_tokens=60)
    guard = CopyGuard([SOURCE], engine.tokenize, length=6)
    plain = [longest_run(engine.complete(messages, sampling, seed).text) for seed in range(4)]
    guarded = [longest_run(engine.complete(messages, sampling, seed, guard=guard).text) for seed in range(4)]
    assert max(plain) >= 10, plain  # the 135M model copies an example it is told to repeat
    assert max(guarded) < 8, guarded  # below the copy filter's limit (synth/quality.py copy_reason)


def test_a_placeholder_is_never_cut_in_half(engine):
    guard = CopyGuard([SOURCE], engine.tokenize, length=3)
    inner = set(engine.tokenize(" <PERSON_1>")[1:])
    assert inner and not any(following & inner for following in guard.next.values())
    prose = engine.tokenize(" called on Monday because")
    assert guard.blocked([9, 9, *prose[:3]]) == [prose[3]]
    assert guard.blocked(prose[:2]) == []  # shorter than the window


def test_bias_and_guard_both_apply_in_one_call(engine):
    from synth.engine import Sampling

    messages = [{"role": "user", "content": f"Repeat this text exactly, word for word:\n{SOURCE}"}]
    guard = CopyGuard([SOURCE], engine.tokenize, length=6)
    refund = engine.tokenize(" refund")[0]
    for seed in range(3):
        text = engine.complete(messages, Sampling(max_tokens=60), seed, logit_bias={refund: -100.0}, guard=guard).text
        assert " refund" not in text and longest_run(text) < 8, text


def test_a_job_guards_each_call_with_the_examples_its_prompt_shows(records, engine, short, monkeypatch):
    from synth.generate import SynthRequest, synthesize

    guards, complete = [], engine.complete

    def recording(*args, **kwargs):  # the real engine still answers every call
        guards.append(kwargs.get("guard"))
        return complete(*args, **kwargs)

    monkeypatch.setattr(engine, "complete", recording)
    texts = [r["text"] for r in records]
    synthesize(records, SynthRequest(mode="fewshot", n=2, sampling=short, text_fields=["text"]), engine)
    assert guards and all(g is not None and g.next for g in guards)
    # every window the guard holds comes from a record the job was given
    windows = {w for t in texts for w in CopyGuard([t], engine.tokenize).next}
    assert all(set(g.next) <= windows for g in guards)
    guards.clear()
    synthesize(records, SynthRequest(mode="fewshot", n=2, sampling=short, text_fields=["text"], copy_guard_tokens=None),
               engine)
    assert guards and all(g is None for g in guards)
