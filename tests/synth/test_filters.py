"""The pure parts of synthesis: filters, placeholder filling, the scrubbed-input guard, label plans."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from privacy.errors import BadInput
from privacy.placeholders import PLACEHOLDER
from synth.dataset import ExampleRotation, allocate, describe, label_weights
from synth.fill import Filler, SourceValues
from synth.modes import Reject
from synth.modes.dialog import parse_turns
from synth.quality import NearDuplicateIndex, clean, copy_reason, degenerate_reason, has_broken_placeholder
from synth.scrubbed import require_scrubbed
from synth.structured import SchemaViolation, check_schema, parse_record


def test_degenerate_outputs_are_caught():
    assert degenerate_reason("") == "too_short"
    assert degenerate_reason("ok then") == "too_short"
    assert degenerate_reason("the refund the refund the refund the refund the refund the refund " * 3) == "repetitive"
    assert degenerate_reason("I was charged twice for my order and would like the second payment refunded.") is None


def test_cleanup_and_broken_placeholders():
    assert clean('Text: "My parcel never arrived."') == "My parcel never arrived."
    assert clean("Here is a rewritten version:\n\nMy parcel is late.") == "My parcel is late."
    assert not has_broken_placeholder("Call <PERSON_1> at <PHONE_NUMBER_2>.")
    for broken in ("Call <PERSON> now", "Dear [Your Name],", "Hi PERSON_1,", "sent to <ADDRESS_1 today"):
        assert has_broken_placeholder(broken), broken


def test_copies_of_inputs_and_duplicate_outputs_are_rejected(records):
    sources, outputs = NearDuplicateIndex(), NearDuplicateIndex()
    for record in records:
        sources.add(record["text"])
    copied = records[2]["text"].replace("<PERSON_1>", "<PERSON_3>")  # same text, renumbered placeholder
    assert copy_reason(copied, sources, outputs) == "copies_source"
    run = "Why did my monthly plan price go up without notice? I only want to know."  # a long verbatim run
    assert copy_reason(run, sources, outputs) == "copies_source"
    fresh = "The courier left my package at the wrong door and nobody answers the phone line."
    assert copy_reason(fresh, sources, outputs) is None
    outputs.add(fresh)
    assert copy_reason(fresh + " Thanks.", sources, outputs) == "duplicate"


def test_placeholders_become_surrogates_with_exact_offsets():
    filler = Filler()
    filler.start_record(42)
    text, spans = filler.fill("<PERSON_1> wrote from <EMAIL_ADDRESS_1>; <PERSON_1> and <NAME_2> agree.")
    assert not PLACEHOLDER.search(text)
    assert [s.label for s in spans] == ["PERSON", "EMAIL_ADDRESS", "PERSON", "PERSON"]
    assert text[spans[0].start : spans[0].end] == text[spans[2].start : spans[2].end]  # same placeholder, same value
    assert "@" in text[spans[1].start : spans[1].end]
    assert text[spans[1].end :].startswith("; ")
    filler.start_record(42)
    assert filler.fill("<PERSON_1> wrote")[0] == text[: spans[0].end] + " wrote"  # reproducible from the seed


def test_a_fake_value_that_equals_a_source_value_is_drawn_again():
    from privacy.fingerprint import fingerprint

    key = bytes(32)
    filler = Filler()
    filler.start_record(7)
    first = filler.fill("<PERSON_1> wrote in.")[0].removesuffix(" wrote in.")
    surname = first.split()[-1]
    source = SourceValues(key, {fingerprint(key, surname.upper())})  # fingerprints normalize case
    assert source(first) and source(f"Dr. {surname},")  # any run of pieces, edge punctuation aside
    assert not source("Quentin Zzyzx")
    avoiding = Filler(avoid=source)
    avoiding.start_record(7)
    text, spans = avoiding.fill("<PERSON_1> wrote in.")
    assert surname not in text and avoiding.redrawn >= 1
    assert text[spans[0].start : spans[0].end] == text.removesuffix(" wrote in.")
    never = Filler(avoid=lambda value: True)
    never.start_record(7)
    with pytest.raises(Reject, match="surrogate_matches_source"):
        never.fill("<PERSON_1>")


def test_unscrubbed_input_is_refused_and_scrubbed_input_accepted(records):
    require_scrubbed(records)
    require_scrubbed([{"text": "Reach me at jane@example.com"}])  # reserved domain: a surrogate
    raw = [{"id": "1", "text": "no pii here"}, {"id": "2", "text": "call me on 415-555-0199 please"}]
    with pytest.raises(BadInput, match="record 2 field 'text' holds a phone number") as error:
        require_scrubbed(raw)
    assert "415" not in str(error.value)
    with pytest.raises(BadInput, match="e-mail"):
        require_scrubbed([{"contact": {"email": "jane.doe@hospital.org"}}])


def test_label_plans_meet_the_target_exactly(records):
    view = describe(records, label_field="label")
    assert view.text_fields == ["text"] and view.condition_fields == ["label", "kind"]
    balanced = allocate(7, label_weights(view, "balanced", ["billing", "login"]), random.Random(1))
    assert sorted(Counter(balanced).values()) == [3, 4]
    given = allocate(10, label_weights(view, {"billing": 3, "shipping": 1}, None), random.Random(1))
    assert Counter(given) == {"billing": 8, "shipping": 2}
    with pytest.raises(BadInput, match="no input records"):
        label_weights(view, "balanced", ["fraud"])


def test_example_sets_do_not_repeat():
    rotation = ExampleRotation(2, random.Random(0))
    drawn = [frozenset(rotation.draw(list(range(5)))) for _ in range(10)]
    assert len(set(drawn)) == 10  # all 10 pairs of 5 examples before any repeats


def test_dialog_transcripts_become_turns():
    turns = parse_turns("Customer: Hi, my card was charged twice.\nSupport Agent: Sorry! Let me check.\nnoise\nAgent: Done.",
                        ("customer", "agent"))
    assert turns == [{"role": "customer", "text": "Hi, my card was charged twice."},
                     {"role": "agent", "text": "Sorry! Let me check. Done."}]


def test_structured_replies_are_parsed_strictly():
    schema = check_schema({"type": "object", "properties": {"label": {"enum": ["a", "b"]}}, "required": ["label"]})
    assert parse_record('Sure: {"label": "a"} hope this helps', schema) == {"label": "a"}
    for bad, reason in (('{"label": "c"}', "schema_mismatch"), ("no json", "invalid_json"), ('{"label": ', "invalid_json")):
        with pytest.raises(SchemaViolation, match=reason):
            parse_record(bad, schema)
    with pytest.raises(BadInput, match="not a valid JSON Schema"):
        check_schema({"type": "object", "properties": {"x": {"type": "nope"}}})
