"""A seeded, labeled evaluation set for PII detection: records with ground-truth spans.

Five domains (support tickets, clinical notes, bank/insurance letters, chat messages, structured
snippets), seven locales, mixed casing, and values from two sources: Faker's locale providers and
hand-written pools that no recognizer's gazetteer is built from (names from outside Faker's lists,
real organisation and city names), so the figures do not reward fitting one generator.
Separate from data/make_sample.py on purpose: different templates, different values.

Only the values are labeled ("MRN 4455667": the digits, not the label); words outside spans are
the non-PII text whose survival measures over-redaction.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from faker import Faker

DEV_SEED = 1  # tune on this one
HELD_OUT_SEED = 20260101  # report this one

LOCALES = ("en_US", "en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "en_IN")
DOMAINS = ("ticket", "clinical", "letter", "chat", "structured")

# Values that no Airlock gazetteer or pattern was derived from.
OTHER_NAMES = ("Wei Zhang", "Oluwaseun Adeyemi", "Nguyen Van An", "Aiko Tanaka", "Mehmet Yilmaz",
               "Fatima Al-Sayed", "Siobhan O'Connor", "Kwame Mensah", "Priya Raman", "Dmitri Volkov",
               "Ingrid Halvorsen", "Tomasz Kowalczyk", "Sione Tupou", "Lucía Ferreyra", "Joon-ho Park")
REAL_ORGS = ("Northwind Health Partners", "Blue Ridge Mutual Insurance", "Contoso Pharmaceuticals",
             "St. Mary's Hospital", "Evergreen Credit Union", "Riverside Medical Group",
             "Allianz Versicherungs-AG", "Crédit Agricole", "Banco Santander", "Zurich Insurance Group",
             "Mayo Clinic", "Tesco Bank", "Deutsche Bahn", "Fabrikam Logistics Ltd", "Kaiser Permanente",
             "Lloyds Banking Group", "Charité Berlin", "Hospital Clínic de Barcelona")
REAL_CITIES = ("Chicago", "Manchester", "Leeds", "Munich", "Lyon", "Seville", "Bologna", "Pune",
               "Bristol", "Denver", "Hamburg", "Toulouse", "Valencia", "Turin", "Austin", "Glasgow",
               "Nantes", "Cologne", "Sacramento", "Bordeaux")

ENTITY_OF_SLOT = {
    "name": "PERSON", "first": "PERSON", "last": "PERSON", "other": "PERSON", "doctor": "PERSON",
    "email": "EMAIL_ADDRESS", "phone": "PHONE_NUMBER", "street": "STREET_ADDRESS",
    "city": "LOCATION", "zip": "ZIP_CODE", "org": "ORGANIZATION", "dob": "DATE_OF_BIRTH",
    "date": "DATE_TIME", "mrn": "MEDICAL_RECORD_NUMBER", "account": "ACCOUNT_NUMBER",
    "passport": "PASSPORT", "ssn": "US_SSN", "iban": "IBAN_CODE", "card": "CREDIT_CARD",
    "ip": "IP_ADDRESS",
}
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class GoldSpan:
    start: int
    end: int
    entity_type: str


@dataclass
class EvalRecord:
    id: str
    domain: str
    locale: str
    text: str
    spans: list[GoldSpan] = field(default_factory=list)

    def as_record(self) -> dict:
        return {"id": self.id, "text": self.text}


@dataclass
class Subject:
    """Everything a record may say about the people and places in it."""

    values: dict[str, str]
    locale: str


def _date_text(rng: random.Random, day: date) -> str:
    fmt = rng.choice(("%m/%d/%Y", "%d/%m/%Y", "%Y-%m-%d", "%B %d, %Y", "%d %B %Y", "%d.%m.%Y", "%b %d, %Y"))
    return day.strftime(fmt)


def _phone(rng: random.Random, faker: Faker) -> str:
    style = rng.random()
    if style < 0.55:
        return faker.phone_number()
    area, mid, end = rng.randint(201, 989), rng.randint(200, 999), rng.randint(1000, 9999)
    return rng.choice((f"({area}) {mid}-{end}", f"{area}.{mid}.{end}x{rng.randint(10, 99999)}",
                       f"+1 {area} {mid} {end}", f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
                       f"+49 {rng.randint(30, 89)} {rng.randint(1000000, 9999999)}",
                       f"{area}-{mid}-{end} ext. {rng.randint(10, 999)}"))


def _subject(rng: random.Random, fakers: dict[str, Faker]) -> Subject:
    locale = rng.choice(LOCALES)
    f = fakers[locale]
    if rng.random() < 0.15:
        first, last = rng.choice(OTHER_NAMES).split(" ", 1)
    else:
        first, last = f.first_name(), f.last_name()
    other = f"{fakers[rng.choice(LOCALES)].first_name()} {fakers[rng.choice(LOCALES)].last_name()}"
    doctor = f"{f.first_name()} {f.last_name()}" if rng.random() < 0.5 else f.last_name()
    email_user = re.sub(r"[^a-z.]", "", f"{first}.{last}".lower()) or "user"
    email = rng.choice((f.email(), f.free_email(), f"{email_user}{rng.randint(1, 99)}@{f.free_email_domain()}"))
    dob = date(1935, 1, 1) + timedelta(days=rng.randrange(365 * 70))
    visit = date(2022, 1, 1) + timedelta(days=rng.randrange(1200))
    city = f.city() if rng.random() < 0.7 else rng.choice(REAL_CITIES)
    org = f.company() if rng.random() < 0.5 else rng.choice(REAL_ORGS)
    mrn = rng.choice((str(rng.randint(1_000_000, 99_999_999)), f"{rng.randint(10, 99)}-{rng.randint(100, 999)}-{rng.randint(100, 999)}",
                      f"A{rng.randint(100000, 999999)}", f"PT{rng.randint(100000, 9999999)}"))
    account = rng.choice((str(rng.randint(10_000_000, 9_999_999_999)), f"{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}-{rng.randint(10, 99)}",
                          f"POL-{rng.randint(100000, 999999)}", f"{f.bothify('??######').upper()}"))
    passport = rng.choice((str(rng.randint(100_000_000, 999_999_999)), f.bothify("?#######").upper(),
                           f.bothify("??#######").upper(), f.bothify("C#?##?##").upper()))
    iban = f.iban() if locale not in ("en_US", "en_IN") else fakers["de_DE"].iban()
    if rng.random() < 0.4:
        iban = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    values = {
        "first": first, "last": last, "name": f"{first} {last}", "other": other, "doctor": doctor,
        "email": email, "phone": _phone(rng, f), "street": f.street_address().replace("\n", ", "),
        "city": city, "zip": f.postcode(), "org": org, "dob": _date_text(rng, dob),
        "date": _date_text(rng, visit), "mrn": mrn, "account": account, "passport": passport,
        "ssn": fakers["en_US"].ssn(), "iban": iban, "card": f.credit_card_number(),
        "ip": f.ipv4_public() if rng.random() < 0.8 else f.ipv6(),
        "state": fakers["en_US"].state_abbr(), "title": rng.choice(("Mr.", "Ms.", "Mrs.", "Dr.")),
        "age": str(rng.randint(19, 91)), "n": str(rng.randint(2, 60)), "ticket": str(rng.randint(10000, 99999)),
        "amount": f"{rng.randint(12, 4800)}.{rng.randint(0, 99):02d}",
    }
    return Subject(values, locale)


def _address(rng: random.Random, s: Subject) -> str:
    """An address line in the subject's national order (templates then fill the slots)."""
    if s.locale == "en_US":
        return "{street}, {city}, {state} {zip}"
    if s.locale in ("en_GB", "en_IN"):
        return rng.choice(("{street}, {city} {zip}", "{street}, {city}, {zip}"))
    return "{street}, {zip} {city}"


# Sentence pools per domain. "@address" expands to the subject's national address order.
TICKET = {
    "open": ["Hi, my name is {name} and I can't log in since {date}.",
             "Hello support, {name} here.",
             "Customer {name} ({email}) reports that the mobile app crashes on start.",
             "From: {name} <{email}>\nSubject: order never arrived",
             "Good morning, this is {first} {last} from {org}.",
             "hi there, {first} here again about ticket {ticket}"],
    "body": ["The order was supposed to ship to @address.",
             "You can reach me at {phone} or by email at {email}.",
             "My account number is {account}.",
             "I work for {org} and we have {n} seats on the business plan.",
             "Please send the replacement to @address.",
             "The failed login attempts came from {ip}.",
             "I already spoke with {other} on the phone last week.",
             "The card on file is {card}, please don't charge it again.",
             "Call me back on {phone} after 5pm.",
             "My colleague {other} has the same problem."],
    "filler": ["The export button does nothing when I click it.",
               "I tried clearing the cache and reinstalling version 4.2.1 but nothing changed.",
               "This is the third time I contact you about this issue.",
               "Ticket {ticket} was closed without a fix.",
               "The invoice shows {n} licences instead of 2.",
               "Please escalate this to the billing team.",
               "It worked fine until the update on Monday.",
               "The refund of ${amount} has still not arrived.",
               "Two-factor codes arrive about 10 minutes late."],
    "close": ["Thanks, {first}", "Best regards,\n{name}\n{org}", "Cheers, {first}", "Kind regards, {name}"],
}
CLINICAL = {
    "open": ["Patient: {name}, DOB {dob}, MRN {mrn}.",
             "{name} is a {age}-year-old seen in clinic on {date}.",
             "Pt {name} (MRN: {mrn}) presented to the ED on {date} with chest pain.",
             "PATIENT NAME: {name}\nDATE OF BIRTH: {dob}\nMEDICAL RECORD NUMBER: {mrn}",
             "Seen today: {first} {last}, date of birth {dob}."],
    "body": ["Referred by Dr. {doctor} from {org}.",
             "Lives at @address with her daughter.",
             "Emergency contact: {other}, phone {phone}.",
             "Insurance: {org}, member ID {account}.",
             "Follow-up with Dr. {doctor} in {n} weeks.",
             "Patient reachable at {phone} or {email}.",
             "Previously treated at {org} in {city}.",
             "Born on {dob}; medical record no. {mrn}."],
    "filler": ["BP 142/88, HR 76, afebrile.",
               "Continue metformin 500 mg twice daily.",
               "No known drug allergies.",
               "Chest X-ray showed no acute findings.",
               "HbA1c 7.2% on last check.",
               "Advised to reduce salt intake and walk 30 minutes a day.",
               "Denies shortness of breath or palpitations.",
               "Wound healing well, sutures removed.",
               "Plan: repeat labs in 3 months."],
    "close": ["Signed: Dr. {doctor}", "Dictated by {doctor}, reviewed {date}.", "Next visit: {date}."],
}
LETTER = {
    "open": ["{name}\n@address\n\nDear {title} {last},",
             "Dear {name},",
             "Re: Policy number {account}\n\nDear {title} {last},",
             "{org}\nClaims Department\n\nDear customer,"],
    "body": ["We received your claim dated {date} regarding the damage at {street}.",
             "The amount of EUR {amount} will be transferred to the account {iban}.",
             "Your passport number {passport} has been verified.",
             "For questions please call {phone} or write to {email}.",
             "Our records show your date of birth as {dob}.",
             "The Social Security number {ssn} on the form does not match our records.",
             "Your new card {card} will arrive within 10 days.",
             "Account {account} has been closed as requested.",
             "Please note our new office address: @address."],
    "filler": ["The claim has been approved in full.",
               "Your premium for 2025 remains unchanged.",
               "Please allow 5 to 7 business days for processing.",
               "This letter confirms the changes to your coverage.",
               "The deductible of $500 applies to this claim.",
               "No further action is required on your part."],
    "close": ["Sincerely,\n{other}\nCustomer Service, {org}", "Yours faithfully,\n{other}",
              "Kind regards,\n{org}"],
}
CHAT = {
    "open": ["hey its {first}", "{first}: hi!!", "yo {first} you there?", "hello {name} here"],
    "body": ["can u call me at {phone}", "did you get the email from {email}?",
             "meet at {street} at 6?", "my new address is {street}, {city}",
             "omg {name} just texted me", "whats ur dob again? mine is {dob}",
             "i moved to {city} last month", "tell {first} i said hi",
             "ask {other} for the keys", "send it to {email} pls"],
    "filler": ["ok sounds good", "running 10 min late", "can we do tomorrow instead", "haha yes",
               "did the package arrive?", "see you at the meeting", "lol no way", "brb"],
    "close": ["ttyl", "thx {first}", "bye!", "k see u"],
}
STRUCTURED = [
    "name,email,phone,city\n{name},{email},{phone},{city}",
    "Name: {name}\nEmail: {email}\nPhone: {phone}\nAddress: @address\nDOB: {dob}",
    "id=4821; customer={name}; acct={account}; ip={ip}; status=active",
    '{"patient": "{name}", "mrn": "{mrn}", "dob": "{dob}", "ward": "B2"}',
    "Employee: {last}, {first} | Employer: {org} | Passport: {passport} | Start: {date}",
    "customer_id,full_name,iban,created\nC-{ticket},{name},{iban},{date}",
    "CONTACT {name} | TEL {phone} | MAIL {email} | ZIP {zip}",
]
POOLS = {"ticket": TICKET, "clinical": CLINICAL, "letter": LETTER, "chat": CHAT}


def _compose(rng: random.Random, domain: str, s: Subject) -> str:
    if domain == "structured":
        template = rng.choice(STRUCTURED)
    else:
        pool = POOLS[domain]
        parts = [rng.choice(pool["open"])]
        middle = rng.sample(pool["body"], rng.randint(2, 4)) + rng.sample(pool["filler"], rng.randint(1, 3))
        rng.shuffle(middle)
        parts += middle
        if rng.random() < 0.8:
            parts.append(rng.choice(pool["close"]))
        joiner = "\n" if domain == "chat" else rng.choice((" ", " ", "\n"))
        template = joiner.join(parts)
    return template.replace("@address", _address(rng, s))


def fill_slots(template: str, values: dict[str, str], entity_of_slot: dict[str, str],
               joins=lambda literal, entity: False) -> tuple[str, list[GoldSpan]]:  # noqa: ANN001
    """Fill the `{slot}`s and record a gold span per slot with an entity type; `joins(literal,
    entity)` says when a value continues the previous span of its type (a street and its number)."""
    out, spans, length, pos = [], [], 0, 0
    for m in _SLOT.finditer(template):
        literal = template[pos:m.start()]
        value, entity = values[m.group(1)], entity_of_slot.get(m.group(1))
        length += len(literal)
        if entity and spans and spans[-1].entity_type == entity and joins(literal, entity):
            spans[-1] = GoldSpan(spans[-1].start, length + len(value), entity)
        elif entity:
            spans.append(GoldSpan(length, length + len(value), entity))
        out += [literal, value]
        length += len(value)
        pos = m.end()
    out.append(template[pos:])
    return "".join(out), spans


def _recase(rng: random.Random, domain: str, text: str) -> str:
    """Chat is often all lowercase; a share of structured snippets is upper case."""
    if domain == "chat" and rng.random() < 0.6:
        lowered = text.lower()
    elif domain == "structured" and rng.random() < 0.2:
        lowered = text.upper()
    else:
        return text
    return lowered if len(lowered) == len(text) else text


def _hash_independent(faker: Faker) -> Faker:
    """Faker's it_IT towns are a list made from a set, so their order (and the seeded draws) changed
    with each process's string hashing: the same seed gave other records in another process."""
    for provider in faker.providers:
        if type(provider).__module__.endswith("address.it_IT"):
            provider.cities = sorted(provider.cities)
    return faker


def generate(n: int, seed: int = HELD_OUT_SEED) -> list[EvalRecord]:
    """`n` labeled records; the same seed gives the same records on every machine."""
    rng = random.Random(seed)
    fakers = {}
    for i, locale in enumerate(sorted(set(LOCALES))):
        fakers[locale] = _hash_independent(Faker(locale))
        fakers[locale].seed_instance(seed * 31 + i)
    records = []
    for i in range(n):
        domain = DOMAINS[i % len(DOMAINS)] if i < len(DOMAINS) else rng.choice(DOMAINS)
        subject = _subject(rng, fakers)
        text, spans = fill_slots(_compose(rng, domain, subject), subject.values, ENTITY_OF_SLOT)
        records.append(EvalRecord(f"E-{i + 1:05d}", domain, subject.locale, _recase(rng, domain, text), spans))
    return records


# --- scoring -------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+")


@dataclass
class EntityScore:
    values: int = 0
    survived: int = 0  # some token of the value (2+ characters) is left entirely uncovered
    covered: int = 0  # every letter and digit of the value is inside a detected span

    @property
    def survive_rate(self) -> float:
        return self.survived / self.values if self.values else 0.0

    @property
    def recall(self) -> float:
        return self.covered / self.values if self.values else 0.0


@dataclass
class Scores:
    by_entity: dict[str, EntityScore]
    words: int  # non-PII words
    words_kept: int

    @property
    def overall(self) -> EntityScore:
        total = EntityScore()
        for score in self.by_entity.values():
            total.values += score.values
            total.survived += score.survived
            total.covered += score.covered
        return total

    @property
    def kept_rate(self) -> float:
        return self.words_kept / self.words if self.words else 1.0


def evaluate(records: list[EvalRecord], detected: list[list[tuple[int, int]]]) -> Scores:
    """Score detected (start, end) spans against the gold spans, record by record."""
    by_entity: dict[str, EntityScore] = {}
    words = kept = 0
    for record, spans in zip(records, detected, strict=True):
        covered = bytearray(len(record.text))
        for start, end in spans:
            covered[start:end] = b"\x01" * (end - start)
        gold = bytearray(len(record.text))
        for span in record.spans:
            gold[span.start:span.end] = b"\x01" * (span.end - span.start)
            score = by_entity.setdefault(span.entity_type, EntityScore())
            score.values += 1
            value = record.text[span.start:span.end]
            tokens = [m for m in _TOKEN.finditer(value) if len(m.group()) > 1]
            if any(not any(covered[span.start + m.start():span.start + m.end()]) for m in tokens):
                score.survived += 1
            if all(covered[span.start + i] for i, c in enumerate(value) if c.isalnum()):
                score.covered += 1
        for m in _TOKEN.finditer(record.text):
            if not any(gold[m.start():m.end()]):
                words += 1
                kept += not any(covered[m.start():m.end()])
    return Scores(dict(sorted(by_entity.items())), words, kept)


def format_scores(scores: Scores) -> list[str]:
    """Plain-text lines: one per entity type, then the totals."""
    lines = [f"{'entity':<24}{'values':>7}{'survive':>9}{'recall':>8}"]
    for name, s in scores.by_entity.items():
        lines.append(f"{name:<24}{s.values:>7}{s.survive_rate:>9.1%}{s.recall:>8.1%}")
    total = scores.overall
    lines.append(f"{'ALL':<24}{total.values:>7}{total.survive_rate:>9.1%}{total.recall:>8.1%}")
    lines.append(f"non-PII words kept: {scores.kept_rate:.1%} of {scores.words}")
    return lines
