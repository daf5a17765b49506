"""Generation drops drafts with PII the model invented outside its placeholders (real analyzer)."""

from __future__ import annotations

import pytest

from synth.engine import Sampling
from synth.fill import Filler
from synth.generate import SynthRequest, synthesize
from synth.pii import invented_pii

IGNORE = ("DATE_TIME", "NRP")  # the audit re-scan's default


def detector_for(policy):
    from api.detector import pii_detector
    from api.policy import Policy
    from privacy.analyzer import build_analyzer

    whole = Policy(privacy=policy)
    return pii_detector(build_analyzer(policy), whole)


@pytest.fixture(scope="module")
def detector():
    from privacy.policy import PrivacyPolicy

    return detector_for(PrivacyPolicy())


def filled(draft: str, seed: int = 7) -> dict:
    """A record as synthesis finishes it: placeholders filled, surrogate spans listed."""
    filler = Filler()
    filler.start_record(seed)
    text = filler.fill(draft, "text")[0]
    return {"id": "syn-000001", "label": "billing", "text": text, "_provenance": {"surrogates": filler.filled}}


def test_a_record_whose_only_entities_are_its_surrogates_is_kept(detector):
    record = filled("Please refund <PERSON_1>; the receipt went to <EMAIL_ADDRESS_1> and <PHONE_NUMBER_1>.")
    surrogates = record["_provenance"]["surrogates"]
    assert {s["entity_type"] for s in surrogates} == {"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER"}
    assert detector(record["text"]), "the detector should see the surrogates themselves"
    assert invented_pii(record, ["text"], surrogates, detector, IGNORE) == []


def test_an_invented_email_or_name_outside_placeholders_is_found(detector):
    record = filled("Please refund <PERSON_1>. Write to jane.roe@example.org or ask Margaret Thornton.")
    found = invented_pii(record, ["text"], record["_provenance"]["surrogates"], detector, IGNORE)
    assert ("text", "EMAIL_ADDRESS") in found and ("text", "PERSON") in found
    # Unlisted, the surrogate itself counts too: nothing is excused without provenance.
    assert len(invented_pii(record, ["text"], [], detector, IGNORE)) > len(found)


def test_ignored_types_and_unfilled_placeholders_do_not_count(detector):
    record = {"text": "It started on March 3rd, 2024; <PERSON_1> was told by <EMAIL_ADDRESS_2>."}
    assert invented_pii(record, ["text"], [], detector, IGNORE) == []
    assert ("text", "DATE_TIME") in invented_pii(record, ["text"], [], detector, ())


def test_synthesize_rejects_and_retries_drafts_with_invented_pii(records, engine):
    """A policy whose recognizer flags every long word: each draft holds "PII" outside placeholders."""
    from privacy.policy import PatternRule, PrivacyPolicy

    word = PatternRule(name="word", entity="WORD", regex=r"\b[A-Za-z]{4,}\b", score=0.9)
    everything = detector_for(PrivacyPolicy(recognizers=[word]))
    request = SynthRequest(mode="fewshot", n=2, seed=3, k=2, max_attempts=2, label_field="label",
                           sampling=Sampling(max_tokens=40))
    result = synthesize(records, request, engine, pii_detector=everything, pii_ignore=IGNORE)
    assert result.records == []
    assert result.summary["rejected"].get("invented_pii", 0) >= 1
    assert result.summary["attempts"] == 4  # every slot retried up to max_attempts


def test_kept_records_carry_no_invented_pii(records, engine, detector):
    request = SynthRequest(mode="fewshot", n=3, seed=5, k=2, max_attempts=4, label_field="label",
                           sampling=Sampling(max_tokens=48))
    result = synthesize(records, request, engine, pii_detector=detector, pii_ignore=IGNORE)
    assert result.records, result.summary
    for record in result.records:
        assert invented_pii(record, ["text"], record["_provenance"]["surrogates"], detector, IGNORE) == []


def test_a_surrogate_read_with_its_possessive_is_covered_not_invented():
    """A detector that, like spaCy's, takes "Port Dillon's" as one entity."""
    import re

    from synth.cover import possessive_cover

    def merging(text):
        return [("LOCATION", m.start(), m.end()) for m in re.finditer(r"[A-Z][\w-]+(?: [A-Z][\w-]+)*'s", text)]

    filler = Filler()
    filler.start_record(11)
    record = {"text": filler.fill("Shares in <LOCATION_1>'s biggest bank fell.", "text")[0]}
    assert invented_pii(record, ["text"], filler.filled, merging, IGNORE)  # "'s" is outside the surrogate
    assert possessive_cover(record, ["text"], filler, merging, IGNORE)
    (span,) = filler.filled
    assert record["text"][span["start"]:span["end"]].endswith("'s")
    # a value the model really invented stays invented
    filler.start_record(12)
    record = {"text": filler.fill("<LOCATION_1> and Margaret Hale's bank fell.", "text")[0]}
    assert not possessive_cover(record, ["text"], filler, merging, IGNORE)


def test_types_the_rescan_ignores_are_still_replaced_unless_asked_not_to(records, engine):
    """A policy that reads every "the" as a date: with `scrub_like_source` (the default) each is
    replaced by a date surrogate, as the privacy stage scrubbed the source; without it the drafts keep
    them, and neither way is a draft rejected for a type the re-scan ignores."""
    from privacy.policy import PatternRule, PrivacyPolicy

    rule = PatternRule(name="the", entity="DATE_TIME", regex=r"\b[Tt]he\b", score=0.9)
    dates = detector_for(PrivacyPolicy(recognizers=[rule]))
    kept = {}
    for flag in (True, False):
        request = SynthRequest(mode="fewshot", n=3, seed=9, k=2, max_attempts=3, label_field="label",
                               scrub_like_source=flag, sampling=Sampling(max_tokens=48))
        result = synthesize(records, request, engine, pii_detector=dates, pii_ignore=IGNORE)
        assert len(result.records) == 3 and "invented_pii" not in result.summary["rejected"], result.summary
        kept[flag] = result.records
    for record in kept[True]:
        assert not uncovered_the(record), record["text"]
    assert any(uncovered_the(record) for record in kept[False]), [r["text"] for r in kept[False]]


def uncovered_the(record: dict) -> list[str]:
    """Each "the" of the record's text that no listed surrogate span covers."""
    import re

    spans = [(s["start"], s["end"]) for s in record["_provenance"]["surrogates"] if s["field"] == "text"]
    return [m.group() for m in re.finditer(r"\b[Tt]he\b", record["text"])
            if not any(a <= m.start() and m.end() <= b for a, b in spans)]


def test_a_weekday_the_model_writes_is_replaced_by_another_weekday(engine):
    """Real generation, a policy that reads weekdays as dates: the repaired weekday keeps its shape
    through the fill (a weekday, never a plain ISO date) and is listed as a surrogate."""
    import re

    from privacy.policy import PatternRule, PrivacyPolicy

    days = r"\b(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b"
    weekdays = detector_for(PrivacyPolicy(recognizers=[PatternRule(name="day", entity="DATE_TIME", regex=days, score=0.9)]))
    tickets = [{"id": f"W{i}", "label": "shipping", "text": f"My parcel was due on {day} but never came. Can <PERSON_1> check?"}
               for i, day in enumerate(["Monday", "Friday", "Tuesday", "Thursday", "Monday", "Wednesday"])]
    request = SynthRequest(mode="fewshot", n=4, seed=3, k=2, label_field="label", sampling=Sampling(max_tokens=40))
    result = synthesize(tickets, request, engine, pii_detector=weekdays, pii_ignore=IGNORE)
    dates = [r["text"][s["start"]:s["end"]] for r in result.records for s in r["_provenance"]["surrogates"]
             if s["entity_type"] == "DATE_TIME"]
    assert result.summary["repaired"].get("invented_pii_replaced"), result.summary  # the model wrote weekdays
    assert dates and all(re.fullmatch(days, d) for d in dates), dates
