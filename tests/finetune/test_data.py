"""Training text is the generator's own zero-shot request answered by the record, tokenized by the
llama.cpp vocabulary that reads it at generation time."""

from __future__ import annotations

import pytest

from tests.finetune.conftest import tickets


@pytest.fixture(scope="module")
def base():
    from api.settings import Settings
    from synth.store import ModelStore

    return ModelStore(Settings().models_dir).get()


def test_training_prompt_is_the_generators_request_with_no_examples(base):
    from synth.engine import Engine, RuntimeSettings, Sampling
    from synth.finetune.data import Tokenizer, render_examples
    from synth.generate import SynthRequest, build_context
    from synth.modes import Task, get_mode
    from synth.modes.common import fewshot_messages

    records = tickets(6, 1)
    examples, prompt_format = render_examples(records)
    ctx = build_context(records, SynthRequest(mode="fewshot"), get_mode("fewshot"))
    assert examples[0].messages == fewshot_messages(ctx, Task(0, ctx.view.conditions(records[0]), []))
    assert examples[0].answer == records[0]["text"]
    assert prompt_format["examples_in_prompt"] == 0 and prompt_format["text_fields"] == ["text"]

    tokenizer = Tokenizer(base.path)
    encoded = tokenizer.encode(examples[0], 256)
    short = tokenizer.encode(examples[0], encoded.n_prompt + 10)  # a cap below the record's length cuts its end
    tokenizer.close()
    assert encoded.ids[-1] == tokenizer.eos and encoded.cut == 0  # the model learns to stop after one record
    assert short.ids == encoded.ids[: encoded.n_prompt + 10] and short.cut == len(encoded.ids) - len(short.ids)
    engine = Engine(base, RuntimeSettings(n_ctx=256))
    reply = engine.complete(examples[0].messages, Sampling(max_tokens=1), seed=0)
    engine.close()
    assert reply.prompt_tokens == encoded.n_prompt  # llama.cpp reads exactly the trained prompt


def test_a_fine_tuned_models_format_renders_other_records_identically():
    from synth.finetune.data import render_examples

    train, holdout = tickets(6, 1), tickets(6, 2)
    _, prompt_format = render_examples(train)
    together, _ = render_examples(train + [{**r, "kind": "note"} for r in holdout], prompt_format=prompt_format)
    alone, _ = render_examples(train)
    assert [e.messages for e in together[:6]] == [e.messages for e in alone]


def test_dataset_fingerprint_ignores_order_but_not_content():
    from synth.finetune.data import dataset_fingerprint

    records = tickets(5, 1)
    assert dataset_fingerprint(records) == dataset_fingerprint(records[::-1])
    assert dataset_fingerprint(records) != dataset_fingerprint(records[:4])


def _hinted_records() -> list[dict]:
    texts = {"billing": "The invoice for <DATE_1> was charged twice to the card.",
             "access": "The password reset link expired before the login worked."}
    return [{"id": f"H{i}", "label": label, "text": texts[label]}
            for i, label in enumerate(["billing", "access"] * 4)]


def test_hinted_requests_name_a_word_of_the_records_own_text_and_the_format_keeps_them():
    import re

    from synth.finetune.data import render_examples

    records = _hinted_records()
    plain, plain_format = render_examples(records, label_field="label")
    assert plain_format["hints"] is False and not any("mentions" in e.messages[-1]["content"] for e in plain)
    hinted, hinted_format = render_examples(records, label_field="label", hints=True)
    assert hinted_format["hints"] is True
    for example in hinted:
        asked = re.search(r'mentions "([a-z-]+)"', example.messages[-1]["content"])
        assert asked and asked.group(1) in example.answer.lower()
    again, _ = render_examples(records, prompt_format=hinted_format)  # how the audit re-renders them
    assert [e.messages for e in again] == [e.messages for e in hinted]


def test_generation_steers_a_model_trained_on_hinted_requests_without_examples(base):
    from dataclasses import replace

    from synth.engine import Engine, RuntimeSettings
    from synth.generate import SynthRequest, build_context, trained_with_hints
    from synth.modes import get_mode

    records, mode = _hinted_records(), get_mode("classify")
    request = SynthRequest(mode="classify", n=6, k=0, label_field="label")
    hinted = replace(base, provenance={**base.provenance, "prompt_format": {"hints": True}})
    for model, steered in ((base, False), (hinted, True)):
        engine = Engine(model, RuntimeSettings(n_ctx=256))
        assert trained_with_hints(engine) is steered
        tasks = mode.plan(build_context(records, request, mode, steer_without_examples=trained_with_hints(engine)))
        engine.close()
        own_words = {t.conditions["label"]: next(r["text"] for r in records if r["label"] == t.conditions["label"])
                     for t in tasks}
        hints = [t.data.get("hint") for t in tasks]
        if steered:
            assert all(h and h in own_words[t.conditions["label"]].lower() for h, t in zip(hints, tasks))
        else:
            assert hints == [None] * len(tasks)
