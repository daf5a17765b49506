"""Operators through Presidio's real AnonymizerEngine, and the fingerprints they are keyed on."""

from __future__ import annotations

import random
import re
import unicodedata

import pytest
from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

from privacy.errors import PolicyError
from privacy.fingerprint import Fingerprinter, fingerprint, key_id, normalize, prefix, prefix_key
from privacy.operators import CONTEXT, OPERATORS, OperatorContext, build_engine, decrypt_token
from privacy.policy import PrivacyPolicy
from privacy.scrub import Scrubber

SITE_KEY = bytes(range(32))
OTHER_SITE_KEY = bytes(range(1, 33))
VAULT_KEY = bytes(range(100, 132))

TEXT = "Call Jane Roe at +1 (415) 555-0134 about MRN-4820193, card 4111 1111 1111 1111."
SPANS = {"PERSON": "Jane Roe", "PHONE_NUMBER": "+1 (415) 555-0134",
         "MEDICAL_RECORD_NUMBER": "MRN-4820193", "CREDIT_CARD": "4111 1111 1111 1111"}


@pytest.fixture(scope="module")
def engine():
    return build_engine()


def spans_of(text: str) -> list[RecognizerResult]:
    return [RecognizerResult(t, text.index(v), text.index(v) + len(v), 0.9) for t, v in SPANS.items() if v in text]


def anonymize(engine, operator: str, text: str = TEXT, context: OperatorContext | None = None, **params):
    context = context or OperatorContext(site_key=SITE_KEY, vault_key=VAULT_KEY)
    config = {"DEFAULT": OperatorConfig(operator, {**params, CONTEXT: context})}
    return engine.anonymize(text, spans_of(text), config, merge_entities_with_spaces=False).text


def test_every_operator_is_registered_with_presidio(engine):
    assert set(OPERATORS) == {"placeholder", "mask", "hash", "encrypt", "redact", "surrogate"}
    assert set(OPERATORS) <= set(engine.get_anonymizers())


def test_no_operator_leaves_a_raw_value(engine):
    for operator in OPERATORS:
        out = anonymize(engine, operator)
        for value in SPANS.values():
            assert value not in out, operator


def test_normalize_ignores_case_spacing_edge_punctuation_and_phone_formatting():
    assert normalize("  Jane   ROE. ") == normalize("jane roe") == "jane roe"
    assert normalize("+1 (415) 555-0134") == normalize("14155550134")
    assert normalize("MRN-4820193") == normalize("mrn 4820193")
    assert normalize("Ｊａｎｅ") == "jane"  # NFKC folds full-width letters
    assert normalize("12 Oak Street") == "12 oak street"  # mostly letters: not an identifier


def _reference_normalize(value: str) -> str:
    """normalize() without its shortcuts, step by step as its docstring says."""
    text = " ".join(unicodedata.normalize("NFKC", value).casefold().split())
    while text and unicodedata.category(text[0]).startswith("P"):
        text = text[1:]
    while text and unicodedata.category(text[-1]).startswith("P"):
        text = text[:-1]
    text = text.strip()
    if re.fullmatch(r"[\w\s\-+().#/:]*\d[\w\s\-+().#/:]*", text):
        if sum(c.isdigit() for c in text) >= sum(c.isalpha() for c in text):
            return "".join(c for c in text if c.isalnum())
    return text


def test_normalize_shortcuts_and_the_fingerprinter_change_no_digest():
    tricky = ["a", "Zz", "JOHN  SMITH", "x y z", " edge ", "a\tb", "Straße", "ﬁsh", "İstanbul", "a-b", "ǅemal",
              "Ada Quill", "line\nbreak", "Zoë", "+1 (555) 010-2030", "ada@example.org", "", "   ", "..."]
    rng = random.Random(7)
    alphabet = "aZ  \t\n09.-,'()+#/:ßéİǅﬁ１Ｊ"
    values = tricky + ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    long_key = bytes(range(100))  # longer than SHA-256's block: HMAC hashes it first
    for key in (SITE_KEY, long_key):
        fingerprinter = Fingerprinter(key)
        for value in values:
            assert normalize(value) == _reference_normalize(value), repr(value)
            assert fingerprinter(value) == fingerprint(key, value), repr(value)


def test_prefix_digests_are_keyed_on_the_first_letters_and_digits_of_the_normalized_value():
    assert prefix_key(normalize("+1 (415) 555-0134")) == "14155"
    assert prefix_key(normalize("Straße 5")) == "stras" and prefix_key(normalize("ﬁnn")) == "finn"
    assert prefix_key(normalize("O'Neil")) == "oneil" and prefix_key(normalize("Jo")) == "jo"
    assert prefix_key(normalize("...")) == ""
    assert prefix(SITE_KEY, "Jane Roe") == prefix(SITE_KEY, "JANE, R. Doe") == Fingerprinter(SITE_KEY).prefix("janer")
    assert prefix(SITE_KEY, "Jane Roe") != prefix(OTHER_SITE_KEY, "Jane Roe")
    assert prefix(SITE_KEY, "Jane Roe") != prefix(SITE_KEY, "Jone Roe")
    assert re.fullmatch(r"[0-9a-f]{16}", prefix(SITE_KEY, "x"))
    # Not the fingerprint of the prefix key: the two digests are kept apart by the prefix's label.
    assert prefix(SITE_KEY, "jane") != fingerprint(SITE_KEY, "jane")[:16]


def test_fingerprints_are_keyed():
    assert fingerprint(SITE_KEY, "Jane Roe") == fingerprint(SITE_KEY, "JANE  roe")
    assert fingerprint(SITE_KEY, "Jane Roe") != fingerprint(OTHER_SITE_KEY, "Jane Roe")
    assert re.fullmatch(r"[0-9a-f]{64}", fingerprint(SITE_KEY, "x"))
    assert re.fullmatch(r"[0-9a-f]{16}", key_id(SITE_KEY)) and key_id(SITE_KEY) != key_id(OTHER_SITE_KEY)


def test_placeholders_number_values_consistently_within_one_context(engine):
    context = OperatorContext(site_key=SITE_KEY)
    config = {"DEFAULT": OperatorConfig("placeholder", {CONTEXT: context})}

    def run(text: str, people: list[str]) -> str:
        spans = [RecognizerResult("PERSON", text.index(p), text.index(p) + len(p), 0.9) for p in people]
        return engine.anonymize(text, spans_of(text) + spans, config, merge_entities_with_spaces=False).text

    assert run(TEXT, []).startswith("Call <PERSON_1> at <PHONE_NUMBER_1> about <MEDICAL_RECORD_NUMBER_1>")
    assert run("JANE  ROE met Ann Lee.", ["JANE  ROE", "Ann Lee"]) == "<PERSON_1> met <PERSON_2>."
    assert run("Ann Lee, again.", ["Ann Lee"]) == "<PERSON_2>, again."
    fresh = OperatorContext(site_key=SITE_KEY)  # a new dataset numbers from 1 again
    assert fresh.number("PERSON", "Ann Lee") == 1


def test_mask_keeps_shape_and_optionally_the_last_characters(engine):
    out = anonymize(engine, "mask", keep_last=4)
    assert "+* (***) ***-0134" in out and "**** ******" not in out
    assert "**** **** **** 1111" in out
    assert anonymize(engine, "mask", masking_char="#").startswith("Call #### ###")


def test_hash_is_the_keyed_fingerprint(engine):
    out = anonymize(engine, "hash", length=64)
    assert fingerprint(SITE_KEY, "Jane Roe") in out
    other = anonymize(engine, "hash", context=OperatorContext(site_key=OTHER_SITE_KEY))
    assert fingerprint(SITE_KEY, "Jane Roe")[:16] not in other


def test_encryption_round_trips_only_with_the_vault_key(engine):
    out = anonymize(engine, "encrypt")
    tokens = re.findall(r"enc:[A-Za-z0-9_-]+", out)
    assert [decrypt_token(VAULT_KEY, t) for t in tokens] == list(SPANS.values())
    assert anonymize(engine, "encrypt") == out  # deterministic: equal values stay linkable
    with pytest.raises(PolicyError):
        decrypt_token(OTHER_SITE_KEY, tokens[0])


def test_encryption_is_aes_256_siv_under_its_own_key_not_the_vault_key(engine):
    import base64

    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV

    from privacy.operators.encrypt import siv_key

    token = re.findall(r"enc:([A-Za-z0-9_-]+)", anonymize(engine, "encrypt"))[0]
    sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert len(siv_key(VAULT_KEY)) == 64  # AES-SIV with 2 × 256-bit keys
    assert AESSIV(siv_key(VAULT_KEY)).decrypt(sealed, [b"airlock encrypt operator v1"])
    with pytest.raises(InvalidTag):  # the vault key itself (as AES-128-SIV, the old way) does not open it
        AESSIV(VAULT_KEY).decrypt(sealed, [b"airlock encrypt operator v1"])
    # Older tokens, made that old way, still open: old scrubbed data stays re-identifiable.
    legacy = AESSIV(VAULT_KEY).encrypt(b"Jane Roe", [b"airlock encrypt operator v1"])
    assert decrypt_token([OTHER_SITE_KEY, VAULT_KEY], "enc:" + base64.urlsafe_b64encode(legacy).decode().rstrip("=")) == "Jane Roe"


def test_redact_removes_or_marks(engine):
    assert anonymize(engine, "redact") == "Call  at  about , card ."
    assert anonymize(engine, "redact", marker="[x]") == "Call [x] at [x] about [x], card [x]."


def test_surrogates_are_consistent_across_runs_and_separated_by_key(engine):
    first = anonymize(engine, "surrogate", context=OperatorContext(site_key=SITE_KEY))
    again = anonymize(engine, "surrogate", context=OperatorContext(site_key=SITE_KEY))
    other = anonymize(engine, "surrogate", context=OperatorContext(site_key=OTHER_SITE_KEY))
    assert first == again
    assert first != other
    text = "Call JANE  ROE at 1 415 555 0134."
    spans = [RecognizerResult("PERSON", 5, 14, 0.9), RecognizerResult("PHONE_NUMBER", 18, 32, 0.9)]
    config = {"DEFAULT": OperatorConfig("surrogate", {CONTEXT: OperatorContext(site_key=SITE_KEY)})}
    variant = engine.anonymize(text, spans, config).text
    name = first.split(" at ")[0]
    assert variant.startswith(name + " at ")  # same normalized name, same surrogate


def test_a_nationality_surrogate_is_a_word_of_its_kind_not_an_identifier(engine):
    text = "The French airline"
    config = {"DEFAULT": OperatorConfig("surrogate", {CONTEXT: OperatorContext(site_key=SITE_KEY)})}
    out = engine.anonymize(text, [RecognizerResult("NRP", 4, 10, 0.9)], config).text
    value = out[len("The "):-len(" airline")]
    assert value != "French" and value[:1].isupper() and not any(c.isdigit() for c in value), out  # not "ID-…"


@pytest.mark.parametrize("value, shape", [
    ("Tuesday", r"(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"),
    ("Tuesday night", r"(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day night"),
    ("March", r"(January|February|March|April|May|June|July|August|September|October|November|December)"),
    ("5 March 2004", r"\d{1,2} [A-Z][a-z]+ \d{4}"),
    ("March 5th, 2004", r"[A-Z][a-z]+ \d{1,2}(st|nd|rd|th), \d{4}"),
    ("2004-05-12", r"\d{4}-\d{2}-\d{2}"),
    ("2004", r"\d{4}"),
    ("the mid-1990s", r"the mid-\d{3}0s"),
    ("last year", r"\d{4}-\d{2}-\d{2}"),  # no part to redraw: a plain date
    ("Christmas Day 2004", r"\d{4}-\d{2}-\d{2}"),  # a capitalised word of its own: not kept, not reshaped
    ("Tuesday 20040512", r"(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day \d{8}"),
])
def test_a_date_surrogate_takes_the_shape_of_the_date_it_replaces(engine, value, shape):
    text = f"It happened {value} in the end."
    config = {"DEFAULT": OperatorConfig("surrogate", {CONTEXT: OperatorContext(site_key=SITE_KEY)})}
    outs = {engine.anonymize(text, [RecognizerResult("DATE_TIME", 12, 12 + len(value), 0.9)], config).text
            for _ in range(2)}
    assert len(outs) == 1  # keyed and consistent, like every surrogate
    fake = outs.pop()[len("It happened "):-len(" in the end.")]
    assert re.fullmatch(shape, fake) and fake.lower() != value.lower(), fake
    kept = {w for w in re.findall(r"\w+", value) if w[:1].isupper() or (w.isdigit() and len(w) > 2)}
    assert not kept & set(re.findall(r"\w+", fake)), fake  # no name, year or long number of the original stays
    other = OperatorConfig("surrogate", {CONTEXT: OperatorContext(site_key=b"another-site-key-32-bytes-long!!")})
    spans = [RecognizerResult("DATE_TIME", 12, 12 + len(value), 0.9)]
    assert re.fullmatch(shape, engine.anonymize(text, spans, {"DEFAULT": other}).text[12:-len(" in the end.")])


def test_surrogates_preserve_the_format_of_phones_and_identifiers(engine):
    out = anonymize(engine, "surrogate")
    phone = re.search(r"\+1 \((\d{3})\) (\d{3})-(\d{4})", out)
    assert phone and phone.group(0) != SPANS["PHONE_NUMBER"]
    assert re.search(r"MRN-\d{7}", out) and "MRN-4820193" not in out
    card = re.search(r"card (\d{4} \d{4} \d{4} \d{4})", out).group(1)
    assert card != SPANS["CREDIT_CARD"] and _luhn_valid(card)


def test_surrogates_follow_the_locale(engine):
    text = "Jane Roe"
    spans = [RecognizerResult("PERSON", 0, 8, 0.9)]
    names = {locale: engine.anonymize(text, spans, {"DEFAULT": OperatorConfig(
        "surrogate", {CONTEXT: OperatorContext(site_key=SITE_KEY, locale=locale)})}).text
        for locale in ("en_US", "ja_JP")}
    assert names["en_US"] != names["ja_JP"]
    assert any(ord(c) > 0x3000 for c in names["ja_JP"])


def _luhn_valid(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()][::-1]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


@pytest.mark.parametrize(("operators", "message"), [
    ({"PERSON": {"operator": "shred"}}, "unknown operator 'shred'"),
    ({"PERSON": {"operator": "mask", "params": {"colour": "red"}}}, "unknown policy key 'colour'"),
    ({"PERSON": {"operator": "mask", "params": {"keep_last": 9}}}, "keep_last"),
    ({"PERSON": {"operator": "surrogate", "params": {"locale": "xx_XX"}}}, "unknown locale"),
    ({"PERSON": {"operator": "encrypt"}}, "needs the vault key"),
])
def test_operator_rules_are_checked_before_any_record(operators, message):
    policy = PrivacyPolicy.model_validate({"operators": operators})
    with pytest.raises(PolicyError, match=message):
        Scrubber(policy, SITE_KEY)
