"""The text the comparing checks see: placeholders and the generator's own fake values look alike."""

from audit.text import record_text, tokens


def test_placeholders_and_listed_surrogates_compare_as_the_same_token():
    real = {"id": "R-1", "text": "Call <PERSON_3> at <PHONE_NUMBER_1> today."}
    synthetic = {"id": "S-1", "text": "Call Anthony Caldwell at 555-0100 today.",
                 "_provenance": {"surrogates": [{"field": "text", "start": 5, "end": 21, "entity_type": "PERSON"},
                                                {"field": "text", "start": 25, "end": 33, "entity_type": "PHONE_NUMBER"}]}}
    assert record_text(real, ["text"]) == record_text(synthetic, ["text"]) == "Call <PERSON> at <PHONE_NUMBER> today."
    assert tokens(record_text(real, ["text"])) == ["call", "<person>", "at", "<phone_number>", "today", "."]


def test_unlisted_or_ill_fitting_values_stay_as_written():
    invented = {"text": "Call Anthony Caldwell today.",
                "_provenance": {"surrogates": [{"field": "text", "start": 5, "end": 99, "entity_type": "PERSON"}]}}
    assert record_text(invented, ["text"]) == "Call Anthony Caldwell today."
