"""Detection on the real Presidio + spaCy analyzer: each recognizer finds its entities, labels and
everyday words are left alone, policy recognizers/deny/allow lists work, a bad model is refused."""

from __future__ import annotations

import pytest
from presidio_analyzer import RecognizerResult

from privacy.analyzer import build_analyzer, detect, detect_batch, resolve_overlaps
from privacy.errors import ModelError, PolicyError
from privacy.policy import PatternRule, PrivacyPolicy
from privacy.recognizers import REGISTRY, build_recognizers
from privacy.recognizers.ner import name_start


def found(analyzer, policy, text: str) -> list[tuple[str, str]]:
    return [(r.entity_type, text[r.start:r.end]) for r in detect(analyzer, text, policy)]


@pytest.mark.parametrize("text, value, entity", [
    # street addresses: US with unit, UK, German, French, Spanish, lowercase after a cue
    ("Please ship it to 2328 Figueroa Skyway Apt. 290 by Friday.", "2328 Figueroa Skyway Apt. 290", "STREET_ADDRESS"),
    ("Her flat is at Studio 58b, Russell Gateway now.", "Studio 58b, Russell Gateway", "STREET_ADDRESS"),
    ("Lieferung an Paulo-Schleich-Straße 19, danke.", "Paulo-Schleich-Straße 19", "STREET_ADDRESS"),
    ("Envoyez-le au 12, rue de la Paix avant lundi.", "12, rue de la Paix", "STREET_ADDRESS"),
    ("Vive en Paseo de Joaquín Feliu 98 Piso 6 desde mayo.", "Paseo de Joaquín Feliu 98 Piso 6", "STREET_ADDRESS"),
    ("my new address is 4177 boone canyon, see you", "4177 boone canyon", "STREET_ADDRESS"),
    # postcodes in postal positions
    ("Springfield, IL 62704 is on file.", "62704", "ZIP_CODE"),
    ("Send it to London NW1 6XE please.", "NW1 6XE", "ZIP_CODE"),
    ("Anschrift: 10115 Berlin", "10115", "ZIP_CODE"),
    ("the zip code is 30301 for that branch", "30301", "ZIP_CODE"),
    # phones in international and odd formats
    ("Call me at 593.964.3900x84745 tomorrow.", "593.964.3900x84745", "PHONE_NUMBER"),
    ("Mobile: +44 7700 900123, evenings only.", "+44 7700 900123", "PHONE_NUMBER"),
    ("Telefon +49 30 1234567 erreichbar.", "+49 30 1234567", "PHONE_NUMBER"),
    ("please call 0141 496 0305 after five", "0141 496 0305", "PHONE_NUMBER"),
    # organisations by legal form, partnership or employer cue
    ("The invoice from Acme Holdings LLC is overdue.", "Acme Holdings LLC", "ORGANIZATION"),
    ("Vertrag mit Schulz KG wurde gekündigt.", "Schulz KG", "ORGANIZATION"),
    ("Counsel: Carroll, Reeves and Clark handled it.", "Carroll, Reeves and Clark", "ORGANIZATION"),
    ("She works at Klemt since March.", "Klemt", "ORGANIZATION"),
    # lowercase, uppercase and cued names
    ("hi, spoke with maria garcia today about the refund", "maria garcia", "PERSON"),
    ("PATIENT: JOHN SMITH was seen today.", "JOHN SMITH", "PERSON"),
    ("Dear Wolf-Dietrich Werner, thank you for your letter.", "Wolf-Dietrich Werner", "PERSON"),
    ("yo karen you there?", "karen", "PERSON"),
    ("hey its mehmet, can u resend the code", "mehmet", "PERSON"),
    # labelled identifiers and dates of birth
    ("MRN 4455667, admitted for observation.", "4455667", "MEDICAL_RECORD_NUMBER"),
    ('{"patient_id": "x", "mrn": "A792703"}', "A792703", "MEDICAL_RECORD_NUMBER"),
    ("Acct no. 0012-3344-55 was debited.", "0012-3344-55", "ACCOUNT_NUMBER"),
    ("Policy number POL-88123 is active.", "POL-88123", "ACCOUNT_NUMBER"),
    ("Passport: C01X00T47 expires soon.", "C01X00T47", "PASSPORT"),
    ("DOB 03/04/1985, non-smoker.", "03/04/1985", "DATE_OF_BIRTH"),
    ("Our records show your date of birth as Nov 19, 1987.", "Nov 19, 1987", "DATE_OF_BIRTH"),
    ("geb. 4. März 1985 in Köln", "4. März 1985", "DATE_OF_BIRTH"),
    # checksummed and structured values
    ("Your new card 2221035585290955 will arrive.", "2221035585290955", "CREDIT_CARD"),
    ("Write to maria.garcia@example.com today.", "maria.garcia@example.com", "EMAIL_ADDRESS"),
    ("Next visit: Sep 16, 2023.", "Sep 16, 2023", "DATE_TIME"),
    ("Name: Dmitri Volkov\nCity: Piasco", "Dmitri Volkov", "PERSON"),
    ("name,email,city\nPriya Raman,p@example.com,Piasco", "Piasco", "LOCATION"),
    ("Lieferadresse: Drewesweg 10, 47540 Bristol", "Bristol", "LOCATION"),
])
def test_recognizer_finds_its_entity(analyzer, default_policy, text, value, entity):
    results = detect(analyzer, text, default_policy)
    start = text.index(value)
    hits = [r for r in results if r.start <= start and r.end >= start + len(value)]
    assert hits, f"{value!r} not covered; found {found(analyzer, default_policy, text)}"
    assert hits[0].entity_type == entity


@pytest.mark.parametrize("text", [
    "The SSN field, the IBAN and MRN fields and Visa cards are listed in the ID column.",
    "Please enter your DOB and MRN in the form; the IBAN field is optional.",
    "I waited 20 minutes at the station, then a 30 minute drive and a 2 mile run.",
    "i will mark the bill as paid, may be in a while",
    "Continue metformin 500 mg twice daily. BP 142/88, HR 76, afebrile.",
    "Ticket 58213 was closed without a fix. Please escalate this to the billing team.",
    "Hi Team, thanks again for the quick help in 2025!",
    # "its" in prose is the possessive, not the chat's "hey its <name>"
    "The firm said its profits rose, and its chief executive praised its trading partners.",
    "Its pre-tax earnings doubled as it's spending more on its shares.",
])
def test_no_false_positives_on_labels_and_everyday_words(analyzer, default_policy, text):
    assert found(analyzer, default_policy, text) == []


@pytest.mark.parametrize("text", [
    "The economy slipped into a technical recession in the three months to September, figures show.",
    "Soaring oil sales and the weakness of the dollar helped, as he will meet his golden rule.",
    "Growth picked up in the July to September period, the first rise since last July.",
])
def test_words_and_months_in_news_prose_are_not_names(analyzer, default_policy, text):
    # surnames in the gazetteer ("Sales", "Golden") and months that are also first names ("July")
    assert [v for t, v in found(analyzer, default_policy, text) if t == "PERSON"] == []


@pytest.mark.parametrize("text, phrase", [
    ("Profits climb to record levels boosted by a sharp rise in business at its investment arm.", "sharp rise"),
    ("Members are to receive a profit share worth on average 52 pounds each.", "profit share"),
    ("Russian debt is no longer a risky investment, one of the agencies said.", "risky investment"),
    ("He was once ranked as the world's richest man and ran a business spanning hotels.", "ran a"),
])
def test_phrases_holding_an_article_are_not_names(analyzer, default_policy, text, phrase):
    # the trained NER tags these as organisations or people; no name holds a lower-case "a" or "has"
    assert not [v for _, v in found(analyzer, default_policy, text) if phrase in v]


@pytest.mark.parametrize("text, value", [
    ("Talks with the European Union resumed on Monday in Brussels.", "European Union"),
    ("The fund was set up by billionaire George Soros last year.", "George Soros"),
    ("Italy beat Wales before they won France in the final.", "France"),
    ("Tickets for the Berlin Film Festival sold out.", "Berlin Film Festival"),
])
def test_a_name_in_cased_prose_starts_at_its_first_capitalised_word(analyzer, default_policy, text, value):
    # spaCy and the trained NER take in "the", "won", "billionaire"; the word stays in the text
    assert value in [v for _, v in found(analyzer, default_policy, text)]


@pytest.mark.parametrize("text, span", [
    ("Defender Virgil van Dijk signed.", "van Dijk"),  # a name particle
    ("Elle habite rue Timothée Bodin.", "rue Timothée Bodin"),  # a street word
    ("They met at the 10 Downing Street gate.", "the 10 Downing Street"),  # a number stays covered
    ("we met at the european union office", "the european union"),  # uncased text: names are lowercase too
    ("said the manager to mark Smith", "mark Smith"),  # a first name
])
def test_name_start_keeps_particles_street_words_numbers_and_uncased_spans(text, span):
    start = text.index(span)
    assert name_start(text, start, start + len(span)) == start


@pytest.mark.parametrize("text", [
    "The first convictions for piracy over peer-to-peer networks have been handed down.",
    "He lost a landmark appeal over police actions in stopping an anti-war demonstration.",
])
def test_a_piece_of_a_hyphenated_word_is_not_a_name(analyzer, default_policy, text):
    # the trained NER tags "peer-" and "anti-" as a person or a place
    assert found(analyzer, default_policy, text) == []


def test_a_unit_glued_to_a_number_is_not_a_name(analyzer, default_policy):
    # en_core_web_sm reads the "bn" of "$280bn" as a person
    text = "The demand for $280bn (£155bn) was filed by the government."
    assert found(analyzer, default_policy, text) == []


@pytest.mark.parametrize("text, year", [
    ("Lord Scarman, who led the inquiry into the 1981 Brixton riots, has died.", "1981"),
    ("The 2005 Consumer Electronics Show opened with new gadgets.", "2005"),
    ("In 2004 Apple sold ten million music players.", "2004"),
    ("The film earned her a 1988 Golden Globe nomination.", "1988"),
    ("It made its debut in Toronto in March 2006 Saturday night.", "2006"),
])
def test_a_year_in_prose_is_not_a_postcode(analyzer, default_policy, text, year):
    start = text.index(year)
    assert not [r for r in detect(analyzer, text, default_policy)
                if r.entity_type == "ZIP_CODE" and r.start <= start < r.end]
    # the same digits in an address are still a postcode
    address = f"Send it to {year} Antwerpen, please."
    assert ("ZIP_CODE", year) in found(analyzer, default_policy, address)


def test_results_name_their_detector_and_do_not_overlap(analyzer, default_policy):
    text = ("Hi, this is Maria Garcia from Acme Holdings LLC. Call 593.964.3900x84745 or write to "
            "12 Baker Street, London NW1 6XE. MRN 4455667, DOB 03/04/1985, maria@example.com.")
    results = sorted(detect(analyzer, text, default_policy), key=lambda r: r.start)
    assert len(results) >= 8
    assert all(r.recognition_metadata["recognizer_name"] for r in results)
    assert all(a.end <= b.start for a, b in zip(results, results[1:]))
    assert all(r.score >= default_policy.score_threshold for r in results)


def test_batch_gives_the_same_spans_as_one_at_a_time(analyzer, default_policy):
    texts = ["Dear Ms. Lovelace, your MRN is 4455667.", "", "call 0141 496 0305", "nothing here"]
    one_by_one = [[(r.entity_type, r.start, r.end) for r in detect(analyzer, t, default_policy)] for t in texts]
    batched = [[(r.entity_type, r.start, r.end) for r in rs] for rs in detect_batch(analyzer, texts, default_policy)]
    assert batched == one_by_one


def test_overlaps_resolve_to_the_specific_type_and_the_union():
    ner = {"recognizer_name": "FilteredSpacyRecognizer"}
    phone = RecognizerResult("PHONE_NUMBER", 10, 28, 0.7)
    date = RecognizerResult("DATE_TIME", 5, 20, 0.85, recognition_metadata=ner)
    other = RecognizerResult("PERSON", 40, 50, 0.85, recognition_metadata=ner)
    merged = resolve_overlaps([date, other, phone])
    assert [(r.entity_type, r.start, r.end) for r in merged] == [("PHONE_NUMBER", 5, 28), ("PERSON", 40, 50)]


def test_a_pattern_date_beats_a_broad_ner_type(analyzer, default_policy):
    # spaCy calls "Jul 07" a place in this sentence; the date pattern must win, consistently.
    text = "I would like the refund that was promised on Jul 07 and never arrived."
    assert found(analyzer, default_policy, text) == [("DATE_TIME", "Jul 07")]
    assert found(analyzer, default_policy, "The parcel shipped on Jul 07, then nothing.") == [("DATE_TIME", "Jul 07")]


def test_allow_list_keeps_listed_values(analyzer, default_policy):
    text = "The invoice from Acme Holdings LLC is overdue."
    allowing = default_policy.model_copy(update={"allow_list": ["Acme Holdings LLC"]})
    assert found(analyzer, default_policy, text) == [("ORGANIZATION", "Acme Holdings LLC")]
    assert found(analyzer, allowing, text) == []


def test_policy_regex_recognizer_and_deny_list():
    policy = PrivacyPolicy(
        recognizers=[PatternRule(name="employee_badge", entity="BADGE", regex=r"\bEMP-\d{5}\b", score=0.8)],
        deny_lists={"PROJECT": ["Bluebird", "Project Nightjar"]},
    )
    analyzer = build_analyzer(policy)
    text = "Badge EMP-12345 opened the Bluebird room for project nightjar."
    results = {(r.entity_type, text[r.start:r.end]): r for r in detect(analyzer, text, policy)}
    assert ("BADGE", "EMP-12345") in results
    assert ("PROJECT", "Bluebird") in results
    assert ("PROJECT", "project nightjar") in results
    assert results[("BADGE", "EMP-12345")].recognition_metadata["recognizer_name"] == "policy:employee_badge"


def test_invalid_policy_regex_is_a_policy_error():
    policy = PrivacyPolicy(recognizers=[PatternRule(name="broken", entity="X", regex="(unclosed")])
    with pytest.raises(PolicyError, match="broken"):
        build_recognizers(policy)


def test_every_registered_recognizer_builds():
    names = [type(r).__name__ for r in build_recognizers(PrivacyPolicy())]
    assert len(names) == len(set(names)) == len(REGISTRY)
    for expected in ("StreetAddressRecognizer", "PostcodeRecognizer", "InternationalPhoneRecognizer",
                     "OrganizationRecognizer", "UncasedNameRecognizer", "MedicalRecordNumberRecognizer",
                     "DateOfBirthRecognizer", "OfflineEmailRecognizer"):
        assert expected in names


def test_missing_model_is_a_model_error():
    with pytest.raises(ModelError, match="not installed"):
        build_analyzer(PrivacyPolicy(), model="en_core_web_nonexistent")


def test_pipeline_without_ner_is_a_model_error(tmp_path):
    import spacy

    blank = spacy.blank("en")
    blank.to_disk(tmp_path / "blank")
    with pytest.raises(ModelError, match="no 'ner' component"):
        build_analyzer(PrivacyPolicy(), model=str(tmp_path / "blank"))


def test_ner_without_required_labels_is_a_model_error(tmp_path):
    import spacy

    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    ner.add_label("PERSON")
    nlp.initialize()
    nlp.to_disk(tmp_path / "person_only")
    with pytest.raises(ModelError, match="lacks NER labels DATE, GPE, ORG"):
        build_analyzer(PrivacyPolicy(), model=str(tmp_path / "person_only"))


def test_entity_filter_reports_only_wanted_types_after_all_detectors_compete(analyzer):
    policy = PrivacyPolicy(entities=["PERSON", "PHONE_NUMBER"])
    text = "Dear Ms. Lovelace, call 0141 496 0305, MRN 4455667, 12 Baker Street."
    assert found(analyzer, policy, text) == [("PERSON", "Lovelace"), ("PHONE_NUMBER", "0141 496 0305")]
