"""Drafts are repaired at the source: placeholders a small model mangles, PII it invents (real analyzer)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from privacy.placeholders import find_placeholders
from synth.fill import Filler, known_type
from synth.pii import invented_pii
from synth.quality import has_broken_placeholder
from synth.repair import guess_type, repair_placeholders, replace_invented_pii

IGNORE = ("DATE_TIME", "NRP")


@pytest.fixture(scope="module")
def detector():
    from tests.synth.test_pii_filter import detector_for
    from privacy.policy import PrivacyPolicy

    return detector_for(PrivacyPolicy())


@pytest.mark.parametrize("raw, expected", [
    ("PERSON", "PERSON"), ("name", "PERSON"), ("PLAYER", "PERSON"), ("first name", "PERSON"),
    ("COUNTRY", "LOCATION"), ("city", "LOCATION"), ("TEAM", "ORGANIZATION"), ("company_name", "ORGANIZATION"),
    ("EMAIL", "EMAIL_ADDRESS"), ("phone", "PHONE_NUMBER"), ("DATE", "DATE_TIME"),
])
def test_invented_types_map_to_types_synthesis_can_fill(raw, expected):
    assert guess_type(raw) == expected and known_type(expected)


def test_nonsense_types_are_not_guessed():
    assert guess_type("FOO") is None and guess_type("br") is None


@pytest.mark.parametrize("draft", [
    "Call <PERSON> about the refund.",
    "Call <name_1 about the refund.",
    "Call [name] about the refund.",
    "Call PERSON_2 about the refund.",
    "Call <PLAYER_1> about the refund.",
])
def test_mangled_placeholders_become_well_formed_and_fillable(draft):
    repairs = Counter()
    fixed = repair_placeholders(draft, repairs)
    assert not has_broken_placeholder(fixed), fixed
    found = find_placeholders(fixed)
    assert [t for t, *_ in found] == ["PERSON"] and sum(repairs.values()) == 1
    filler = Filler()
    filler.start_record(1)
    assert "<" not in filler.fill(fixed)[0]


def test_text_without_placeholder_shapes_is_untouched():
    text = "Shares rose 3% after <PERSON_1> said 2 < 3 and [sic] nothing else changed."
    repairs = Counter()
    assert repair_placeholders(text, repairs) == text and not repairs


def test_unguessable_shapes_are_left_for_the_filters_to_reject():
    assert has_broken_placeholder(repair_placeholders("Ask <foo today."))
    assert has_broken_placeholder(repair_placeholders("Ask [sic] today."))
    assert repair_placeholders("Markup <br> and <b>bold</b> is not a placeholder.") == (
        "Markup <br> and <b>bold</b> is not a placeholder.")


@pytest.mark.parametrize("draft, fixed", [
    ("Customers who visit [location_47] get 20% off.", "Customers who visit <LOCATION_47> get 20% off."),
    ("A former <EMANUELUSO> was named.", "A former <ORGANIZATION_1> was named."),  # a tag of capitals
    ("A <LADY OF COURAGE> premiere.", "A <ORGANIZATION_1> premiere."),
    ("Fined under <LIFE-A-BARRIER_67> rules.", "Fined under <ORGANIZATION_67> rules."),
    ("Signed with <LICENCE_AJ] today.", "Signed with <ORGANIZATION_1> today."),  # closed by the wrong bracket
    ("Sales in the<LOCALITY-14>, which grew.", "Sales in the<LOCATION_14>, which grew."),
])
def test_numbered_square_shapes_and_closed_capital_tags_are_repaired(draft, fixed):
    assert has_broken_placeholder(draft)
    assert repair_placeholders(draft) == fixed and not has_broken_placeholder(fixed)


def test_a_well_formed_placeholder_of_a_made_up_type_is_filled_as_a_name():
    repairs = Counter()
    fixed = repair_placeholders("He won the cup at <TITLE_105>.", repairs)
    assert fixed == "He won the cup at <ORGANIZATION_105>." and repairs["placeholder_type_unknown"] == 1


def test_invented_pii_becomes_a_placeholder_then_a_surrogate(detector):
    draft = "<PERSON_1> met Margaret Thornton; write to jane.roe@example.org before noon."
    repairs = Counter()
    fixed = replace_invented_pii(draft, detector, IGNORE, repairs)
    assert "Margaret" not in fixed and "jane.roe" not in fixed and repairs["invented_pii_replaced"] >= 2
    found = find_placeholders(fixed)
    assert len(found) == 3 and "EMAIL_ADDRESS" in [t for t, *_ in found]  # the name's type is the detector's call
    assert len({(t, n) for t, n, *_ in found}) == 3  # new placeholders never reuse <PERSON_1>
    filler = Filler()
    filler.start_record(3)
    record = {"text": filler.fill(fixed, "text")[0]}
    assert invented_pii(record, ["text"], filler.filled, detector, IGNORE) == []


def test_placeholders_and_ignored_types_are_not_replaced():
    draft = "<PERSON_1> called on March 3rd, 2024 about the invoice."

    def detections(text):  # what a detector reports here: the placeholder itself and a date
        return [("PERSON", 0, 10), ("DATE_TIME", text.index("March"), text.index(" about"))]

    assert replace_invented_pii(draft, detections, IGNORE) == draft
    assert "<DATE_TIME_1>" in replace_invented_pii(draft, detections, ())


def test_a_detected_type_without_surrogates_is_left_for_the_filter():
    def words(text):
        return [("WORD", m.start(), m.end()) for m in __import__("re").finditer(r"[A-Za-z]{4,}", text)]

    assert replace_invented_pii("Refund the second payment.", words, ()) == "Refund the second payment."


def test_a_date_and_a_nationality_are_scrubbed_as_in_the_source(detector):
    """The real records had "French" and "January 2018" scrubbed to <NRP> and <DATE_TIME>; a draft that
    writes them gets surrogates of those types too, even though the re-scan would not count them."""
    from audit.text import record_text

    draft = "The French airline said in January 2018 that fares would rise."
    assert replace_invented_pii(draft, detector, IGNORE) == draft
    fixed = replace_invented_pii(draft, detector, ())
    assert {t for t, *_ in find_placeholders(fixed)} == {"NRP", "DATE_TIME"}, fixed
    filler = Filler()
    filler.start_record(5)
    record = {"text": filler.fill(fixed, "text")[0], "_provenance": {"surrogates": filler.filled}}
    assert "French" not in record["text"] and "2018" not in record["text"]
    assert record_text(record, ["text"]) == "The <NRP> airline said in <DATE_TIME> that fares would rise."


def test_a_date_the_model_invents_is_filled_as_a_date_of_its_shape(detector):
    """"on January 5, 2004" becomes another "Month D, YYYY", not a plain date; the invented value never stays."""
    from audit.text import record_text

    draft_text = "The deal was agreed on January 5, 2004 in talks."
    shapes: dict = {}
    fixed = replace_invented_pii(draft_text, detector, (), Counter(), shapes)
    assert shapes == {"<DATE_TIME_1>": "January 5, 2004"}, fixed
    filler = Filler()
    filler.start_record(11, shapes)
    text = filler.fill(fixed, "text")[0]
    assert re.fullmatch(r"The deal was agreed on [A-Z][a-z]+ \d{1,2}, \d{4} in talks\.", text), text
    assert "2004" not in text and text != draft_text
    record = {"text": text, "_provenance": {"surrogates": filler.filled}}
    assert record_text(record, ["text"]) == "The deal was agreed on <DATE_TIME> in talks."
    plain = Filler()
    plain.start_record(11)  # without the shape: a plain date
    assert re.fullmatch(r"The deal was agreed on \d{4}-\d{2}-\d{2} in talks\.", plain.fill(fixed, "text")[0])


def test_a_date_shape_whose_every_value_is_a_source_value_gives_way_to_a_plain_date():
    """Seven weekdays, all of them in the source's manifest: the fill drops the shape, not the record
    (a plain date is one piece, which a news manifest's months and years do not match)."""
    import calendar

    weekdays = set(calendar.day_name)
    filler = Filler(avoid=lambda value: value in weekdays)
    filler.start_record(3, {"<DATE_TIME_1>": "Tuesday"})
    text = filler.fill("The vote is on <DATE_TIME_1>.", "text")[0]
    assert re.fullmatch(r"The vote is on \d{4}-\d{2}-\d{2}\.", text), text
    assert filler.redrawn >= 1
    shaped = Filler(avoid=lambda value: False)
    shaped.start_record(3, {"<DATE_TIME_1>": "Tuesday"})
    assert shaped.fill("The vote is on <DATE_TIME_1>.", "text")[0][len("The vote is on "):-1] in weekdays


def test_a_placeholder_the_model_calls_nationality_is_filled_as_one():
    assert guess_type("NATIONALITY") == "NRP" and known_type("NRP") == "NRP"
    filler = Filler()
    filler.start_record(2)
    text = filler.fill("A <NRP_1> bank", "text")[0]
    assert filler.filled[0]["entity_type"] == "NRP" and not text.split()[1].startswith("ID-")


def test_a_made_up_type_is_filled_as_the_name_type_the_kept_records_lack():
    from synth.repair import FallbackType

    real = ["<PERSON_1> met <PERSON_2> in <LOCATION_1>.", "<PERSON_1> left <ORGANIZATION_1>."]
    fallback = FallbackType(real)
    assert fallback() == "PERSON"  # nothing kept yet: the most common type of the real records
    fallback.keep(["PERSON", "PERSON", "PERSON", "ORGANIZATION", "EMAIL_ADDRESS"])
    assert fallback() == "LOCATION"  # real 3/5 persons, 1/5 places; kept 3/4 persons, no place
    assert repair_placeholders("He won the cup at <TITLE_105>.", fallback=fallback()) == "He won the cup at <LOCATION_105>."
    assert FallbackType(["No names here."])() == "ORGANIZATION"
