"""Detection beyond the shapes of our own data: gazetteer places and names of many countries,
international address blocks, phone regions inferred from the text, units kept with their street,
and a name found once replaced everywhere in its record. Examples are made up for these tests,
none taken from the evaluation sets."""

from __future__ import annotations

import os

import pytest

from tests.privacy.spans import covered as _covered
from tests.privacy.spans import found as _found


@pytest.mark.parametrize("text, value", [
    ("The pallet left Jaworzno on Monday.", "Jaworzno"),
    ("we drove back to zaprešić after lunch", "zaprešić"),
    ("Origin: BOKSBURG", "BOKSBURG"),
    ("Shipped from Polska by rail.", "Polska"),
])
def test_towns_and_countries_from_the_gazetteer(analyzer, default_policy, text, value):
    assert _covered(analyzer, default_policy, text, value), _found(analyzer, default_policy, text)


@pytest.mark.parametrize("text, value", [
    ("The form was signed by Radovan Kovačević yesterday.", "Radovan Kovačević"),
    ("spoke with agnieszka nowakowska about the refund", "agnieszka nowakowska"),
    ("ACCOUNT HOLDER: BIRGIT LUNDQVIST", "BIRGIT LUNDQVIST"),
    ("1;Andersen, Mette;active", "Andersen, Mette"),
    ("Then Dagny took the minutes.", "Dagny"),
])
def test_names_of_many_countries(analyzer, default_policy, text, value):
    assert _covered(analyzer, default_policy, text, value), _found(analyzer, default_policy, text)


def test_everyday_words_that_are_also_places_or_names_stay(analyzer, default_policy):
    text = "Will you split the bill? We may walk to the bus stop and read the normal report."
    assert _found(analyzer, default_policy, text) == []


def test_a_month_that_is_also_a_town_is_a_date(analyzer, default_policy):
    text = "The album will be released in August, and sales rose in March."
    kinds = dict((value, kind) for kind, value in _found(analyzer, default_policy, text))
    assert "LOCATION" not in kinds.values(), kinds
    assert _covered(analyzer, default_policy, "He moved to March, a town in Cambridgeshire.", "March")


def test_a_determiner_after_a_moving_cue_is_no_town(analyzer, default_policy):
    """"moved to another site" names no town; "moved to huesca" does."""
    for text in ("Local authorities want it moved to another site.", "they relocated to other premises",
                 "The club moved to its new ground."):
        assert "LOCATION" not in {kind for kind, _ in _found(analyzer, default_policy, text)}, text
    assert _covered(analyzer, default_policy, "i moved to huesca last year", "huesca")


def test_a_full_date_before_a_street_word_is_a_date_not_an_address(analyzer, default_policy):
    """"Rise" and "Pass" are street words; "on 12 August 2004 that fares would rise" is a date and prose."""
    for text, date in (("The firm said on 12 August 2004 that fares would rise.", "12 August 2004"),
                       ("The minister said on March 5, 2004 that the bill would pass.", "March 5, 2004")):
        found = _found(analyzer, default_policy, text)
        assert "STREET_ADDRESS" not in {kind for kind, _ in found}, found
        assert "fares" not in " ".join(v for _, v in found) and "bill" not in " ".join(v for _, v in found)
        assert _covered(analyzer, default_policy, text, date)
    assert _covered(analyzer, default_policy, "He lives at 12 May Street in Leeds.", "12 May Street")


def test_address_block_in_the_countrys_own_order(analyzer, default_policy):
    text = "Recipient: Halvard Moe\nSkippergata 14\n3015 Drammen\nNorway"
    for value in ("Skippergata 14", "3015", "Drammen", "Norway"):
        assert _covered(analyzer, default_policy, text, value), (value, _found(analyzer, default_policy, text))
    assert _covered(analyzer, default_policy, "ul. Długa 7/3\n31-147 Kraków", "Długa 7/3")


def test_a_unit_after_a_caught_street_goes_with_it(analyzer, default_policy):
    text = "Please ship to 4410 Harbor Road, Suite 210 before Friday."
    assert _covered(analyzer, default_policy, text, "4410 Harbor Road, Suite 210")
    assert "before" not in " ".join(v for _, v in _found(analyzer, default_policy, text))


def test_phone_with_a_glued_label_and_a_region_named_in_the_text(analyzer, default_policy):
    text = "Lagos office: 0803 412 7788-Office"
    assert _covered(analyzer, default_policy, text, "0803 412 7788")
    assert not _covered(analyzer, default_policy, text, "Office")


def test_a_surname_found_in_a_full_name_is_replaced_alone_too(analyzer, default_policy):
    from privacy.scrub import Scrubber

    scrubber = Scrubber(default_policy, site_key=os.urandom(32), analyzer=analyzer)
    (item,) = scrubber.scrub([{"id": "1", "text": "Signed by Oskar Brzęczek. Reviewed: brzęczek ok"}])
    assert "brzęczek" not in item.record["text"].casefold()


def test_national_ids_need_a_valid_checksum_and_bare_runs_a_context_word(analyzer, default_policy):
    assert ("NATIONAL_ID", "44051401458") in _found(analyzer, default_policy, "Her PESEL is 44051401458.")
    assert ("NATIONAL_ID", "111.444.777-35") in _found(analyzer, default_policy, "Titular 111.444.777-35 ok")
    # same digits with the checksum broken, and a bare valid run with no id word near it
    assert not any(t == "NATIONAL_ID" for t, _ in _found(analyzer, default_policy, "Her PESEL is 44051401459."))
    assert not any(t == "NATIONAL_ID" for t, _ in _found(analyzer, default_policy, "Parcel 44051401458 left."))


def test_an_address_block_ends_at_the_first_part_that_is_no_address_line(analyzer, default_policy):
    """An age three comma-parts before a postcode, with a sentence between, is no street (it was
    scrubbed as STREET_ADDRESS, and the audit then counted the model's "57-year-old" as a replay)."""
    text = ("Patient Felicia Marsh, 57-year-old, seen for cough for five days. Patient lives at 563 David "
            "Parkways, South Noah, FM 88725; contact number 476.697.7206.")
    assert ("STREET_ADDRESS", "57-year-old") not in _found(analyzer, default_policy, text)
    assert _covered(analyzer, default_policy, text, "563 David Parkways")
    assert _covered(analyzer, default_policy, "Vestergade 12, 2. tv., 2100 København", "Vestergade 12")
