"""Batched decoding (synth/batch.py, Engine.decode_together) on the bundled model: completions decoded
together are the ones `complete` decodes one at a time (the same prompt tokens, stop strings, length
limit, logit bias and sampler) up to float rounding, and a batched completion serves only the call it
was made for."""

from __future__ import annotations

import pytest

TOPICS = ["the economy", "football", "a new phone", "an election", "a film premiere", "heavy rain",
          "a bank merger", "a tennis final", "a rail strike", "a science prize"]


def _call(topic: str, seed: int, sampling, **options) -> dict:
    return {"messages": [{"role": "user", "content": f"Write one sentence of news about {topic}."}],
            "sampling": sampling, "seed": seed, **options}


@pytest.fixture(scope="module")
def engines(model):
    """A batching engine with fewer streams than calls (streams are refilled) and one that decodes alone."""
    from synth.engine import Engine, RuntimeSettings

    together, alone = Engine(model, RuntimeSettings(n_parallel=4)), Engine(model, RuntimeSettings(n_parallel=1))
    yield together, alone
    together.close()
    alone.close()


def _both(engines, calls: list[dict]):
    together, alone = engines
    together.decode_together(calls)
    batched = [together.complete(**call) for call in calls]
    together.forget_decoded()
    return batched, [alone.complete(**call) for call in calls]


def test_greedy_completions_decoded_together_agree_with_those_decoded_alone(engines):
    """Ten calls through four streams: every one is served by the batch, with the prompt `complete`
    evaluates; greedy texts start alike (rounding may part them later; misplaced positions or a stream's
    stale cache would part them at once)."""
    from synth.engine import Sampling

    calls = [_call(topic, i, Sampling(temperature=0, max_tokens=24)) for i, topic in enumerate(TOPICS)]
    batched, alone = _both(engines, calls)
    assert all(b.together for b in batched) and not any(a.together for a in alone)
    assert [b.prompt_tokens for b in batched] == [a.prompt_tokens for a in alone]
    assert all(0 < b.completion_tokens <= 24 and b.finish_reason in ("stop", "length") for b in batched)
    same_start = sum(b.text.split()[:3] == a.text.split()[:3] for b, a in zip(batched, alone))
    assert same_start >= 8, [(b.text, a.text) for b, a in zip(batched, alone)]


def test_stop_strings_length_limits_and_logit_bias_apply_as_they_do_alone(engines):
    from synth.engine import Sampling

    stopped = [_call(topic, i, Sampling(max_tokens=48), stop=[","]) for i, topic in enumerate(TOPICS[:6])]
    batched, alone = _both(engines, stopped)
    assert all("," not in b.text for b in batched)
    assert sum(b.finish_reason == "stop" for b in batched) >= 3 and sum(a.finish_reason == "stop" for a in alone) >= 3

    short = [_call(topic, i, Sampling(max_tokens=5)) for i, topic in enumerate(TOPICS[:6])]
    batched, _ = _both(engines, short)
    assert all(b.completion_tokens <= 5 for b in batched) and sum(b.finish_reason == "length" for b in batched) >= 4

    together, alone = engines
    greedy = Sampling(temperature=0, max_tokens=6)
    first = [alone.tokenize(a.text)[0] for a in _both(engines, [_call(t, 0, greedy) for t in TOPICS[:6]])[1]]
    biased = [_call(t, 0, greedy, logit_bias={token: -100.0}) for t, token in zip(TOPICS[:6], first)]
    batched, alone_biased = _both(engines, biased)
    assert all(together.tokenize(b.text)[:1] != [token] for b, token in zip(batched, first))
    assert all(alone.tokenize(a.text)[:1] != [token] for a, token in zip(alone_biased, first))


def test_a_batched_completion_serves_only_its_own_call(engines):
    """Another seed, other sampling or a guard is decoded anew; `forget_decoded` drops what was not asked for."""
    from synth.engine import Sampling

    together, _ = engines
    sampling = Sampling(max_tokens=12)
    calls = [_call(topic, 7, sampling) for topic in TOPICS[:3]]
    together.decode_together(calls + [{**calls[0], "schema": {"type": "object"}}])
    assert together.complete(**calls[0]).together
    assert not together.complete(**{**calls[1], "seed": 8}).together
    assert not together.complete(**{**calls[1], "sampling": Sampling(max_tokens=11)}).together
    assert together.complete(**calls[1]).together
    assert not together.complete(**calls[0]).together  # served once
    together.forget_decoded()
    assert not together.complete(**calls[2]).together


def test_a_call_longer_than_the_sequences_is_decoded_alone(engines):
    """The sequences are sized from the first call; a later call that would not fit is left to `complete`
    (decoded alone, whole), the others are still served by the batch."""
    from synth.engine import Sampling

    together, _ = engines
    calls = [_call(TOPICS[0], 1, Sampling(max_tokens=8)), _call(TOPICS[1], 2, Sampling(max_tokens=600)),
             _call(TOPICS[2], 3, Sampling(max_tokens=8))]
    order = list(together.decode_stream(enumerate(calls)))
    assert order[0] == 1 and sorted(order) == [0, 1, 2]  # the long call is handed back at once
    served = [together.complete(**call) for call in calls]
    together.forget_decoded()
    assert [s.together for s in served] == [True, False, True]
    assert served[1].completion_tokens > 8
