"""Embedding de-duplication and the draft filter registry, on the real test records."""

from __future__ import annotations

import itertools

from synth.dedup import FLOOR, EmbeddingDuplicates
from synth.filters import FILTERS, job_filters
from synth.generate import TODAY, SynthRequest, build_context
from synth.modes import Task, get_mode


def test_threshold_comes_from_the_real_records_own_spread(records):
    texts = [r["text"] for r in records]
    index = EmbeddingDuplicates(texts, quantile=0.75)
    assert FLOOR <= index.threshold <= 1.0
    closer = 0
    for i, text in enumerate(texts):  # a real record against all the others
        others = EmbeddingDuplicates(texts, quantile=0.75)
        for other in texts[:i] + texts[i + 1:]:
            others.add(other)
        closer += others.is_duplicate(text)
    assert closer <= len(texts) * 0.25 + 1  # the quantile bounds how many real records would fail


def test_a_reworded_story_is_a_duplicate_and_another_story_is_not(records):
    index = EmbeddingDuplicates([r["text"] for r in records])
    kept = "My parcel never arrived and the tracking page has said out for delivery for a week."
    assert not index.is_duplicate(kept)
    index.add(kept)
    assert index.is_duplicate("The tracking page has said out for delivery for a week and my parcel never arrived.")
    assert not index.is_duplicate("I cannot log in since the password reset email never came through.")


def test_the_registry_orders_filters_and_the_request_switches_them(records):
    names = [f.name for f in FILTERS]
    assert names[0] == "well_formed" and {"copies", "near_duplicate", "label_consistency"} <= set(names)
    mode = get_mode("classify")
    on = job_filters(build_context(records, SynthRequest(mode="classify", n=3, label_field="label"), mode))
    off = job_filters(build_context(records, SynthRequest(mode="classify", n=3, label_field="label", **TODAY), mode))
    assert [f.name for f in on] == names
    assert [f.name for f in off] == ["well_formed", "copies"]
    task = Task(0, {"label": "billing", "kind": "ticket"}, [])
    assert on[0].reason(["Call <FOO> now please, it is urgent."], task) == "broken_placeholder"
    assert on[1].reason([records[0]["text"]], task) == "copies_source"


def test_kept_records_are_not_near_duplicates_of_each_other(records, engine):
    from synth.engine import Sampling
    from synth.generate import synthesize

    request = SynthRequest(mode="classify", n=6, seed=2, k=2, label_field="label", sampling=Sampling(max_tokens=48))
    result = synthesize(records, request, engine)
    assert len(result.records) >= 4, result.summary
    index = EmbeddingDuplicates([r["text"] for r in records])
    for a, b in itertools.combinations([as_drafted(r) for r in result.records], 2):
        pair = EmbeddingDuplicates([r["text"] for r in records])
        pair.add(a)
        assert pair.closest(b) < index.threshold


def as_drafted(record: dict) -> str:
    """The record's text with its surrogates back as placeholders, as the filter saw it."""
    text = record["text"]
    for span in sorted(record["_provenance"]["surrogates"], key=lambda s: -s["start"]):
        text = f"{text[:span['start']]}<{span['entity_type']}_1>{text[span['end']:]}"
    return text
