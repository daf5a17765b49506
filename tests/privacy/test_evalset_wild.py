"""The wild evaluation set is sound: reproducible, labelled where its values are, split in two
halves that share no record, and scored with a correct Wilson interval."""

from __future__ import annotations

from bench.evalset_wild import (COUNTRIES, ENTITY_OF_SLOT, FAMILIES, WILD_DEV_SEED, WILD_HELD_OUT_SEED,
                                generate_wild, hard_records, wild_set, wilson)


def test_same_seed_same_records_and_every_span_points_at_a_value():
    first, again = generate_wild(30, WILD_DEV_SEED), generate_wild(30, WILD_DEV_SEED)
    assert [(r.text, r.spans) for r in first] == [(r.text, r.spans) for r in again]
    assert {r.domain for r in first} == set(FAMILIES)
    for record in first:
        for span in record.spans:
            value = record.text[span.start:span.end]
            assert value and value.strip() == value, (record.id, span)
            assert span.entity_type in set(ENTITY_OF_SLOT.values())


def test_addresses_follow_their_country_and_street_parts_form_one_span():
    records = generate_wild(200, WILD_DEV_SEED)
    assert len({r.locale for r in records}) >= len(COUNTRIES) // 2
    polish = [r for r in records if r.locale == "PL" and "ul. " in r.text]
    assert polish, "no Polish address block drawn"
    for record in polish:
        street = [record.text[s.start:s.end] for s in record.spans if s.entity_type == "STREET_ADDRESS"]
        assert street and all(any(c.isdigit() for c in value) for value in street)


def test_halves_share_no_record_and_hand_records_split_by_hash():
    dev, held_out = wild_set("dev", 20), wild_set("held_out", 20)
    assert not {r.text for r in dev} & {r.text for r in held_out}
    assert WILD_DEV_SEED != WILD_HELD_OUT_SEED
    hand_dev, hand_held_out = hard_records("dev"), hard_records("held_out")
    assert hand_dev and hand_held_out
    assert not {r.id for r in hand_dev} & {r.id for r in hand_held_out}
    for record in hand_dev + hand_held_out:
        assert all(record.text[s.start:s.end].strip() for s in record.spans)


def test_wilson_interval_matches_the_textbook_values():
    low, high = wilson(0, 100)
    assert low == 0.0 and abs(high - 0.0370) < 1e-3
    low, high = wilson(50, 100)
    assert abs(low - 0.4038) < 1e-3 and abs(high - 0.5962) < 1e-3
    assert wilson(0, 0) == (0.0, 1.0)
