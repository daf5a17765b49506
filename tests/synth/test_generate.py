"""synthesize() with real llama.cpp on the bundled model: reproducible, labelled, filtered, valid."""

from __future__ import annotations

from collections import Counter

import pytest
from jsonschema import validators

from privacy.errors import BadInput
from privacy.placeholders import PLACEHOLDER
from synth.generate import SynthRequest, synthesize
from synth.store import DEFAULT_MODEL_SHA256

SCHEMA = {
    "type": "object",
    "properties": {
        "label": {"type": "string", "enum": ["billing", "login", "shipping"]},
        "text": {"type": "string", "minLength": 20},
    },
    "required": ["label", "text"],
    "additionalProperties": False,
}


def public(record: dict) -> dict:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def until_delivered(request: SynthRequest, records, engine, seeds: int = 3):
    """Sampled text differs between llama.cpp builds (float rounding), so one seed's luck proves
    nothing: try a few seeds, as a user re-running would; the asserts then check every record."""
    for offset in range(seeds):
        result = synthesize(records, request.model_copy(update={"seed": request.seed + 101 * offset}), engine)
        if len(result.records) == request.n:
            break
    return result


@pytest.fixture(scope="module")
def fewshot(records, engine):
    from synth.engine import Sampling

    request = SynthRequest(mode="fewshot", n=2, seed=3, k=2, label_field="label", sampling=Sampling(max_tokens=40))
    return request, synthesize(records, request, engine)


def test_same_seed_same_records(fewshot, records, engine):
    request, first = fewshot
    assert first.records, first.summary
    again = synthesize(records, request, engine)
    assert again.records == first.records


def test_every_record_is_labelled_synthetic_with_provenance(fewshot, records):
    request, result = fewshot
    sources = {r["text"] for r in records}
    for record in result.records:
        assert record["_synthetic"] is True
        prov = record["_provenance"]
        assert prov["model_sha256"] == DEFAULT_MODEL_SHA256 and prov["mode"] == "fewshot"
        assert prov["template_version"] == "system.v1+record_request.v2"
        assert prov["sampling"]["max_tokens"] == 40 and isinstance(prov["seed"], int)
        assert record["label"] in {"billing", "login", "shipping"} and record["kind"] in {"ticket", "note"}
        assert record["text"] not in sources and not PLACEHOLDER.search(record["text"])
        for span in prov["surrogates"]:  # where Airlock put fake values, for the audit's re-scan
            assert span["field"] == "text" and record["text"][span["start"] : span["end"]].strip()
    s = result.summary
    assert s["generated"] == len(result.records) and s["attempts"] == s["generated"] + sum(s["rejected"].values())


def test_classify_meets_the_label_target(records, engine, short):
    request = SynthRequest(mode="classify", n=4, seed=1, k=2, label_field="label", labels=["billing", "shipping"],
                           label_target="balanced", sampling=short, max_attempts=8)
    result = until_delivered(request, records, engine)
    assert len(result.records) == 4, result.summary
    assert Counter(r["label"] for r in result.records) == {"billing": 2, "shipping": 2}


def test_structured_records_validate_on_both_paths(records, engine, short):
    validator = validators.validator_for(SCHEMA)(SCHEMA)
    for path, n in (("fast", 2), ("grammar", 1)):
        request = SynthRequest(mode="classify", n=n, seed=2, k=2, label_field="label", schema=SCHEMA,
                               structured_path=path, sampling=short.model_copy(update={"max_tokens": 64}))
        result = until_delivered(request, records, engine)
        assert result.records, (path, result.summary)
        for record in result.records:
            assert validator.is_valid(public(record)), (path, public(record))
        if path == "grammar":
            assert result.summary["constrained_calls"] == result.summary["attempts"]


def test_ner_fills_placeholders_with_exact_offsets(records, engine, short):
    request = SynthRequest(mode="ner", n=2, seed=4, k=2, sampling=short, max_attempts=8)
    result = until_delivered(request, records, engine)
    assert result.records, result.summary
    for record in result.records:
        text, entities = record["text"], record["entities"]
        assert entities and not PLACEHOLDER.search(text)
        for entity in entities:
            value = text[entity["start"] : entity["end"]]
            assert value and value == value.strip() and entity["label"].isupper()
        assert [e["start"] for e in entities] == sorted(e["start"] for e in entities)


@pytest.mark.parametrize(
    "mode, extra, shape",
    [
        ("paraphrase", {}, {"text"}),
        ("rare", {"label_field": "label", "labels": ["login"]}, {"text"}),
        ("dialog", {}, {"turns"}),
        ("summarize", {}, {"document", "summary"}),
    ],
)
def test_every_mode_writes_records(mode, extra, shape, records, engine, short):
    request = SynthRequest(mode=mode, n=1, seed=5, k=2, sampling=short.model_copy(update={"max_tokens": 64}),
                           max_attempts=8, **extra)
    result = until_delivered(request, records, engine)
    assert result.records, result.summary
    record = result.records[0]
    assert shape <= set(record) and record["_provenance"]["mode"] == mode
    if mode == "rare":
        assert record["label"] == "login"
    if mode == "dialog":
        assert len(record["turns"]) >= 2 and {t["role"] for t in record["turns"]} == {"customer", "agent"}
    if mode == "summarize":
        assert len(record["summary"]) < len(record["document"])


def test_bad_requests_are_refused_before_generation(records, engine):
    with pytest.raises(BadInput, match="unknown synthesis mode 'poetry'"):
        synthesize(records, SynthRequest(mode="poetry", n=1), engine)
    with pytest.raises(BadInput, match="does not look scrubbed"):
        synthesize([{"id": "1", "text": "Write to jane.doe@hospital.org about the bill please"}], SynthRequest(n=1), engine)
    with pytest.raises(BadInput, match="not a valid JSON Schema"):
        synthesize(records, SynthRequest(n=1, schema={"type": "object", "required": "text"}), engine)
    with pytest.raises(BadInput, match="classify mode needs a label field"):
        synthesize(records, SynthRequest(mode="classify", n=1), engine)


def test_a_shared_prompt_prefix_is_evaluated_once_per_example_set(records, engine, short):
    """Prompt lengths depend on the plan, not on what the model writes: the default path evaluates
    a fraction of the prompt tokens the pre-issue-12 path did for the same records."""
    from synth.generate import TODAY

    request = SynthRequest(mode="classify", n=6, seed=2, k=2, label_field="label", labels=["billing"],
                           sampling=short, max_attempts=2)
    now = synthesize(records, request, engine).summary
    before = synthesize(records, request.model_copy(update=TODAY), engine).summary
    assert now["prompt_tokens_evaluated"] / now["attempts"] < 0.5 * before["prompt_tokens_evaluated"] / before["attempts"]
    assert before["prompt_tokens_evaluated"] == before["prompt_tokens"]  # no reuse on the old path


def test_the_attempt_budget_bounds_a_job_and_says_what_is_missing(records, engine, short):
    request = SynthRequest(mode="classify", n=3, seed=4, k=2, label_field="label", sampling=short, max_attempts=1,
                           slot_attempts=10)
    s = synthesize(records, request, engine).summary
    assert s["attempts"] <= s["attempt_budget"] == 3
    assert s["generated"] + s["missing"] == 3 and sum(s["missing_reasons"].values()) == s["missing"]
    assert s["rejection_rate"] == round(sum(s["rejected"].values()) / s["attempts"], 3)


def test_the_sample_policy_writes_with_its_own_sampler(records, engine):
    """The bundled sample names a cooler sampler than the default (data/sample/policy.yaml): every record
    is written with it (a retry only raises the temperature), not with the default."""
    from pathlib import Path

    from api.policy import load_policy
    from synth.engine import Sampling

    policy = load_policy(Path(__file__).parents[2] / "data" / "sample" / "policy.yaml")
    named = policy.synth.sampling.model_dump()
    assert named != Sampling().model_dump()
    request = policy.synth.request(mode="fewshot", n=2, seed=5, k=2, label_field="label", text_fields=["text"])
    result = until_delivered(request, records, engine)
    assert result.records, result.summary
    for record in result.records:
        used = record["_provenance"]["sampling"]
        assert {k: v for k, v in used.items() if k != "temperature"} == {k: v for k, v in named.items() if k != "temperature"}
        assert used["temperature"] >= named["temperature"]
        assert record["_provenance"]["attempt"] > 0 or used["temperature"] == named["temperature"]


def test_made_up_placeholder_types_are_filled_as_the_names_the_records_hold(engine):
    """Every source record holds people and a <WIDGET_1>, a type nothing maps, and no organisation:
    with `balance_types` the widgets the model copies become names or places, never organisations;
    without it, organisations (the same drafts: nothing else differs between the runs)."""
    from synth.engine import Sampling

    texts = ["<PERSON_1> bought a <WIDGET_1> from <PERSON_2> and <PERSON_3>.", "<PERSON_1> says the <WIDGET_1> broke.",
             "<PERSON_1> returned the <WIDGET_1> to <PERSON_2> at <LOCATION_1>.", "<PERSON_1> sold the <WIDGET_1>.",
             "<PERSON_1> lost the <WIDGET_1> that <PERSON_2> gave <PERSON_3>.", "<PERSON_1> fixed <PERSON_2>'s <WIDGET_1>."]
    records = [{"id": str(i), "label": "ab"[i % 2], "text": t} for i, t in enumerate(texts)]
    organisations = {}
    for flag in (True, False):
        request = SynthRequest(mode="fewshot", n=4, seed=3, k=3, label_field="label", balance_types=flag,
                               balance_vocabulary=False, dedupe=False, label_check=False, sampling=Sampling(max_tokens=40))
        result = synthesize(records, request, engine)
        assert result.records and result.summary["repaired"].get("placeholder_type_unknown", 0) >= 1, result.summary
        organisations[flag] = Counter(s["entity_type"] for r in result.records
                                      for s in r["_provenance"]["surrogates"])["ORGANIZATION"]
    assert organisations[False] >= 1 and organisations[True] < organisations[False], organisations


def test_a_model_fine_tuned_on_the_task_without_dp_samples_with_the_finetuned_min_p(fewshot, records, model):
    from dataclasses import replace

    from synth.engine import Engine
    from synth.generate import finetuned_sampling

    request, base_result = fewshot
    assert {r["_provenance"]["sampling"]["min_p"] for r in base_result.records} == {request.sampling.min_p}
    tuned = Engine(replace(model, provenance={**model.provenance, "prompt_format": {"hints": False}}))
    try:
        result = until_delivered(request.model_copy(update={"k": 0}), records, tuned)
        assert finetuned_sampling(request.model_copy(update={"finetuned_min_p": None}), tuned).sampling.min_p == 0.1
    finally:
        tuned.close()
    under_dp = Engine(replace(model, provenance={**model.provenance, "prompt_format": {}, "dp_sgd": True}))
    try:
        assert finetuned_sampling(request, under_dp).sampling.min_p == 0.1  # a DP model keeps the base sampler
    finally:
        under_dp.close()
    assert result.records, result.summary
    assert {r["_provenance"]["sampling"]["min_p"] for r in result.records} == {request.finetuned_min_p} != {0.1}


def test_a_model_with_an_adapter_runs_it_and_names_it_in_every_record(fewshot, records, model, tmp_path):
    """The engine applies a fine-tuned model's LoRA adapter (a strong one makes its greedy text other than the
    base's) and each record's provenance carries the adapter's hash beside the model file's."""
    import hashlib
    from dataclasses import replace

    import numpy as np

    from synth.engine import Engine, Sampling
    from synth.finetune.export import write_adapter

    def adapter(name: str, scale: float):
        rng = np.random.default_rng(0)
        pairs = {f"model.layers.{i}.self_attn.o_proj.weight": (rng.normal(0, scale, (4, 576)), rng.normal(0, scale, (576, 4)))
                 for i in range(4)}
        write_adapter(pairs, model.path, tmp_path / name, 8.0, {"test": True})
        digest = hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
        return Engine(replace(model, adapter=tmp_path / name, adapter_sha256=digest)), digest

    (strong, _), (mild, digest), base = adapter("strong.gguf", 0.5), adapter("mild.gguf", 0.01), Engine(model)
    ask, greedy = [{"role": "user", "content": "Write one support ticket."}], Sampling(max_tokens=12, temperature=0.0)
    try:
        assert strong.complete(ask, greedy, seed=0).text != base.complete(ask, greedy, seed=0).text
        request, _ = fewshot
        result = until_delivered(request.model_copy(update={"n": 1}), records, mild)
    finally:
        for engine in (strong, mild, base):
            engine.close()
    assert result.records, result.summary
    for record in result.records:
        assert record["_provenance"]["adapter_sha256"] == digest
        assert record["_provenance"]["model_sha256"] == DEFAULT_MODEL_SHA256
    assert all("adapter_sha256" not in r["_provenance"] for r in fewshot[1].records)
