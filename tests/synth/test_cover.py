"""After filling, every detection must land on a surrogate: invented values are replaced by fresh
surrogates, never excused (real Presidio analyzer with the default privacy policy)."""

from __future__ import annotations

from collections import Counter

import pytest

from privacy.fingerprint import fingerprint
from synth.cover import field_text, resurrogate, set_field_text
from synth.fill import Filler, SourceValues
from synth.pii import uncovered

IGNORE = ("DATE_TIME", "NRP")


@pytest.fixture(scope="module")
def detector():
    from privacy.policy import PrivacyPolicy
    from tests.synth.test_pii_filter import detector_for

    return detector_for(PrivacyPolicy())


def consistent(record: dict, filler: Filler) -> bool:
    """Listed surrogate spans lie inside their field, in order, without overlapping."""
    by_field: dict[str, list] = {}
    for span in filler.filled:
        by_field.setdefault(span["field"], []).append((span["start"], span["end"]))
    for path, spans in by_field.items():
        text = field_text(record, path) or ""
        if any(not 0 <= s < e <= len(text) for s, e in spans):
            return False
        if any(a[1] > b[0] for a, b in zip(sorted(spans), sorted(spans)[1:])):
            return False
    return True


def test_replacing_a_span_widens_over_the_surrogates_it_touches_and_shifts_the_rest():
    filler = Filler()
    filler.start_record(5)
    text, _ = filler.fill("The <ORGANIZATION_1> hired <PERSON_1> in <LOCATION_1>.", "text")
    org, person, place = filler.filled
    start = text.index("The")  # a detector read "The <company>" as one organisation
    replaced = filler.replace(text, "text", start, org["end"] - 2, "ORGANIZATION")
    first, second, third = filler.filled
    assert first["start"] == 0 and replaced[first["end"]:].startswith(" hired ")
    assert second["entity_type"] == "PERSON" and third["entity_type"] == "LOCATION"
    shift = len(replaced) - len(text)
    assert (second["start"], third["end"]) == (person["start"] + shift, place["end"] + shift)
    assert replaced[second["start"]:second["end"]] == text[person["start"]:person["end"]]
    assert replaced.endswith(text[place["start"]:place["end"]] + ".")


def test_invented_names_become_surrogates_and_nothing_is_left_uncovered(detector):
    filler = Filler()
    filler.start_record(3)
    record = {"id": "syn-1", "text": filler.fill("<PERSON_1> met Margaret Thornton of Acme Holdings.", "text")[0]}
    assert uncovered(record, ["text"], filler.filled, detector, IGNORE)
    repairs = Counter()
    assert resurrogate(record, ["text"], filler, detector, IGNORE, repairs)
    assert "Margaret" not in record["text"] and "Thornton" not in record["text"]
    assert repairs["invented_pii_resurrogated"] >= 1 and consistent(record, filler)
    assert uncovered(record, ["text"], filler.filled, detector, IGNORE) == []


def test_a_source_value_the_model_writes_never_survives(detector):
    """A real name from the source data, detected in a draft, is replaced and never drawn again."""
    key = bytes(32)
    source = SourceValues(key, {fingerprint(key, "Margaret Thornton"), fingerprint(key, "Thornton")})
    filler = Filler(avoid=source)
    filler.start_record(9)
    record = {"turns": [{"text": filler.fill("Ask Margaret Thornton about <ORGANIZATION_1>.", "turns.0.text")[0]}]}
    assert resurrogate(record, ["turns"], filler, detector, IGNORE, Counter())
    text = record["turns"][0]["text"]
    assert "Thornton" not in text and not any(source(text[s["start"]:s["end"]]) for s in filler.filled)
    assert consistent(record, filler)


def test_a_type_without_surrogates_is_left_for_rejection():
    def words(text):  # a policy recognizer of a type synthesis cannot fill
        return [("WORD", i, i + 4) for i in range(0, len(text) - 4, 10)]

    filler = Filler()
    filler.start_record(1)
    record = {"text": "Refund the second payment to me."}
    assert not resurrogate(record, ["text"], filler, words, (), Counter())


def test_nested_paths_are_read_and_written():
    record = {"turns": [{"role": "agent", "text": "hi"}], "text": "x"}
    set_field_text(record, "turns.0.text", "hello")
    assert field_text(record, "turns.0.text") == "hello" and field_text(record, "turns.3.text") is None
