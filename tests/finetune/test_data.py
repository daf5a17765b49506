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
    tokenizer.close()
    assert encoded.ids[-1] == tokenizer.eos  # the model learns to stop after one record
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
