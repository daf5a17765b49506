"""A value found as PII once is removed wherever it repeats: in its record and across the dataset's
records (privacy/coherence.py), on the real analyzer and operators."""

from __future__ import annotations

import json

import pytest

from privacy.coherence import DATASET_DETECTOR, DatasetValues
from privacy.detections import Detection
from privacy.fields import Unit
from privacy.policy import PrivacyPolicy
from privacy.scrub import Scrubber, scrub_file

SITE_KEY = bytes(range(32))
POLICY = PrivacyPolicy.model_validate({"fields": {
    "customer": {"kind": "pii", "entity": "PERSON"},
    "account": {"kind": "pii", "entity": "ACCOUNT_NUMBER"},
    "town": {"kind": "pii", "entity": "LOCATION"},
}})


def _scrub(analyzer, records: list[dict]) -> list[str]:
    return [json.dumps(item.record) for item in Scrubber(POLICY, SITE_KEY, analyzer).scrub(records)]


def test_a_name_found_in_one_record_is_removed_from_the_others(analyzer):
    out = _scrub(analyzer, [
        {"id": "1", "text": "ticket reopened, xu vortlund-aas says the box was empty"},
        {"id": "2", "customer": "Xu Vortlund-Aas", "text": "first contact"},
        {"id": "3", "text": "XU VORTLUND-AAS called twice about it."},
    ])
    assert not any("vortlund" in line.lower() for line in out)  # before and after the record that named her
    assert "says the box was empty" in out[0] and "called twice about it" in out[2]


def test_an_identifier_spreads_to_other_records(analyzer):
    out = _scrub(analyzer, [
        {"id": "1", "account": "KX-88213-QL", "text": "opened"},
        {"id": "2", "text": "refund booked on KX-88213-QL today"},
    ])
    assert "KX-88213-QL" not in out[1] and "refund booked on <ACCOUNT_NUMBER_1> today" in out[1]


def test_places_stay_in_their_record(analyzer):
    out = _scrub(analyzer, [
        {"id": "1", "town": "Quorlby", "text": "lives near quorlby mill"},
        {"id": "2", "text": "the quorlby mill sells flour"},
    ])
    assert "quorlby" not in out[0].lower()
    assert "the quorlby mill sells flour" in out[1]


def test_the_pool_and_one_process_agree_on_spread_values(tmp_path, analyzer):
    records = [{"id": f"{i}", "text": f"note {i}: xu vortlund-aas asked again"} for i in range(70)]
    records.insert(40, {"id": "named", "customer": "Xu Vortlund-Aas", "text": "first contact"})
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    outputs = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}.jsonl"
        scrub_file(source, out, tmp_path / f"m{workers}.jsonl", Scrubber(POLICY, SITE_KEY, analyzer), workers=workers)
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1]
    assert "vortlund" not in outputs[0].lower()


def _units_and_spans(text: str, value: str, entity: str) -> tuple[list[Unit], list[list[Detection]]]:
    start = text.index(value)
    return [Unit(("text",), "text", text)], [[Detection(entity, start, start + len(value), 0.9, "test")]]


@pytest.mark.parametrize("text, found", [
    ("Dr. Tupou will see you", [(4, 9)]),  # a word of a full name
    ("Tupouville is far", []),  # part of a longer word
    ("MELE TUPOU and mele tupou", [(0, 10), (15, 25), (0, 4), (5, 10), (15, 19), (20, 25)]),
])
def test_name_matches_are_whole_words_and_caseless(text, found):
    values = DatasetValues()
    values.learn(*_units_and_spans("Mele Tupou paid", "Mele Tupou", "PERSON"))
    [spans] = values.extend([Unit(("text",), "text", text)], [[]])
    assert sorted((s.start, s.end) for s in spans) == sorted(found)
    assert all(s.entity_type == "PERSON" and s.detector == DATASET_DETECTOR for s in spans)


def test_identifiers_match_as_written():
    values = DatasetValues()
    values.learn(*_units_and_spans("account KX-88213-QL", "KX-88213-QL", "ACCOUNT_NUMBER"))
    text = "KX-88213-QL, KX-88213-QLX and kx-88213-ql"
    [spans] = values.extend([Unit(("text",), "text", text)], [[]])
    assert [(s.start, s.end, s.entity_type) for s in spans] == [(0, 11, "ACCOUNT_NUMBER")]


def test_only_known_names_spread_as_single_words():
    values = DatasetValues()
    values.learn(*_units_and_spans("Will Jankowski paid", "Will Jankowski", "PERSON"))
    values.learn(*_units_and_spans("Vortlund-Aas\nPayment", "Vortlund-Aas\nPayment", "PERSON"))
    values.learn(*_units_and_spans("Arrival", "Arrival", "PERSON"))
    text = "we will call Jankowski. Arrival: Payment due"
    [spans] = values.extend([Unit(("text",), "text", text)], [[]])
    assert [text[s.start:s.end] for s in spans] == ["Jankowski"]  # a surname; not "will", nor misreads


def test_a_lowercase_word_found_once_does_not_take_every_record_that_writes_it(analyzer):
    """One lower-case "sales" taken for a name (a surname too) must not leave the word out of every
    record of the dataset; a lower-case name found once and repeated in two other chats still goes."""
    records = [{"id": "0", "customer": "sales", "text": "first contact"}]
    records += [{"id": f"s{i}", "text": f"quarterly sales rose {i} per cent"} for i in range(6)]
    records += [{"id": "n", "customer": "antony", "text": "first contact"}]
    records += [{"id": f"a{i}", "text": f"ok antony will call back {i}"} for i in range(2)]
    out = _scrub(analyzer, records)
    assert all("quarterly sales rose" in line for line in out[1:7])
    assert not any("antony" in line for line in out[7:])


def test_lowercase_words_of_a_capitalised_name_are_no_name_parts():
    values = DatasetValues()
    values.learn(*_units_and_spans("the soul singer Ray Charles", "singer Ray Charles", "PERSON"))
    text = "Charles met the singer"
    [spans] = values.extend([Unit(("text",), "text", text)], [[]])
    assert [text[s.start:s.end] for s in spans] == ["Charles"]
