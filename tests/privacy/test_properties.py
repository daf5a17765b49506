"""Property tests: over generated records, no PII value that was detected survives scrubbing."""

from __future__ import annotations

import re

from faker.providers.person.en_US import Provider as People
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

from privacy.operators import CONTEXT, OperatorContext, build_engine
from privacy.policy import PrivacyPolicy
from privacy.scrub import Scrubber

SITE_KEY = bytes(range(32))
FEW = settings(max_examples=25, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

first_names = st.sampled_from(sorted(People.first_names)[::7])
last_names = st.sampled_from(sorted(People.last_names)[::7])
area = st.integers(201, 989)
line = st.integers(1000, 9999)
phones = st.one_of(
    st.builds("({}) {}-{}".format, area, st.integers(200, 999), line),
    st.builds("{}-{}-{}".format, area, st.integers(200, 999), line),
    st.builds("+1 {} {} {}".format, area, st.integers(200, 999), line),
)


@st.composite
def people(draw):
    first, last = draw(first_names), draw(last_names)
    user = re.sub(r"[^a-z]", "", f"{first}.{last}".lower())
    email = f"{user}{draw(st.integers(1, 99))}@{draw(st.sampled_from(['example.com', 'example.org', 'mail.example.net']))}"
    return {"name": f"{first} {last}", "email": email, "phone": draw(phones)}


SENTENCES = [
    "Hi, this is {name} and I need help with my last invoice.",
    "Please call {name} back on {phone} before noon.",
    "The refund for {name} was sent to {email} yesterday.",
    "Patient {name} reports mild chest pain; contact {phone}.",
    "My new email is {email}, please update the account.",
    "{name} says the parcel never arrived.",
    "The app crashes on startup since the update.",
    "Results were normal and no follow-up is needed.",
]


@st.composite
def records(draw):
    count = draw(st.integers(1, 3))
    out, planted = [], []
    for number in range(count):
        person = draw(people())
        chosen = draw(st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=4))
        record = {"id": f"R-{number}", "text": " ".join(s.format(**person) for s in chosen)}
        if draw(st.booleans()):
            record["contact"] = {"email": person["email"], "phone": person["phone"]}
        out.append(record)
        planted += [v for k, v in person.items() if k != "name" and (v in record["text"] or "contact" in record)]
    return out, planted


POLICY = {"fields": {"contact.email": {"kind": "pii", "entity": "EMAIL_ADDRESS"},
                     "contact.phone": {"kind": "pii", "entity": "PHONE_NUMBER"}}}


def strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def field_text(record: dict, path: str) -> str:
    value = record
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return str(value)


@FEW
@given(data=records(), operator=st.sampled_from(["placeholder", "mask", "hash", "redact"]))
def test_no_detected_value_survives(analyzer, data, operator):
    batch, planted = data
    policy = PrivacyPolicy.model_validate({**POLICY, "default_operator": {"operator": operator}})
    scrubbed = list(Scrubber(policy, SITE_KEY, analyzer).scrub(batch))
    for original, item in zip(batch, scrubbed):
        output = " ".join(strings(item.record)).casefold()
        for finding in item.findings:
            raw = field_text(original, finding.field)[finding.start:finding.end]
            assert not re.search(rf"(?<!\w){re.escape(raw.casefold())}(?!\w)", output), finding
        assert original["id"] == item.record["id"]
    everything = " ".join(s for item in scrubbed for s in strings(item.record))
    for value in planted:  # emails and phones in common formats are always found
        assert value not in everything


digit_groups = st.lists(st.text("0123456789", min_size=2, max_size=5), min_size=2, max_size=4)
separators = st.sampled_from(["-", " ", ".", "/"])


@FEW
@given(groups=digit_groups, sep=separators, prefix=st.sampled_from(["", "MRN-", "ACC ", "ID:"]))
def test_format_preserving_surrogates_keep_shape_and_change_digits(groups, sep, prefix):
    value = prefix + sep.join(groups)
    engine = build_engine()
    spans = [RecognizerResult("MEDICAL_RECORD_NUMBER", 0, len(value), 0.9)]
    results = [engine.anonymize(value, spans, {"DEFAULT": OperatorConfig(
        "surrogate", {CONTEXT: OperatorContext(site_key=key)})}).text for key in (SITE_KEY, SITE_KEY, bytes(32))]
    fake = results[0]
    assert results[0] == results[1]  # same key, same surrogate
    assert re.sub(r"\d", "0", fake) == re.sub(r"\d", "0", value)  # same shape, prefix kept
    assert fake != value
