"""Realistic fake values per entity type (Faker, locale-aware).

`fresh_surrogate` draws from a seeded generator (synthesis fills placeholders with it);
the keyed, consistent surrogate operator derives its seed from an HMAC of the value instead.
"""

from __future__ import annotations

import calendar
import random
import re
from collections.abc import Callable
from datetime import date

from faker import Faker

_GENERATORS: dict[str, Callable[[Faker], str]] = {
    "PERSON": lambda f: f.name(),
    "EMAIL_ADDRESS": lambda f: f.email(),
    "PHONE_NUMBER": lambda f: f.phone_number(),
    "LOCATION": lambda f: f.city(),
    "ADDRESS": lambda f: f.street_address(),
    "STREET_ADDRESS": lambda f: f.street_address(),
    "ZIP_CODE": lambda f: f.postcode(),
    "POSTCODE": lambda f: f.postcode(),
    "ORGANIZATION": lambda f: f.company(),
    # one piece: synthesis never inserts a run of pieces that is a source value ("April" of "April 1998"
    # is one in most news manifests, synth/fill.py), so a date of no known shape is an ISO date
    "DATE_TIME": lambda f: f.date(),
    "NRP": lambda f: f.language_name(),  # nationality or group: most ("Welsh", "Dutch") are also languages
    "DATE_OF_BIRTH": lambda f: f.date_of_birth().isoformat(),
    "US_SSN": lambda f: f.ssn(),
    "CREDIT_CARD": lambda f: f.credit_card_number(),
    "IBAN_CODE": lambda f: f.iban(),
    "IP_ADDRESS": lambda f: f.ipv4_public(),
    "URL": lambda f: f.url(),
    "MEDICAL_RECORD_NUMBER": lambda f: f"MRN-{f.random_number(digits=7, fix_len=True)}",
    "ACCOUNT_NUMBER": lambda f: f"ACC-{f.random_number(digits=8, fix_len=True)}",
    "PASSPORT": lambda f: f.bothify("?########").upper(),
    "ID": lambda f: f.bothify("ID-########"),
}


# full names last: "May" is both, and stays a full name
_MONTHS = {name.lower(): "%b" for name in calendar.month_abbr if name} | {
    name.lower(): "%B" for name in calendar.month_name if name}
_WEEKDAYS = {name.lower(): "%a" for name in calendar.day_abbr} | {name.lower(): "%A" for name in calendar.day_name}
_DATE_PART = re.compile(r"[A-Za-z]+|\d+(?:st|nd|rd|th|s)?")
REDRAWS = 8  # a redraw equal to the original, or keeping its year, would leak it
_LONG_NUMBER = re.compile(r"\d{3,}")


def _same_case(value: str, like: str) -> str:
    return value.upper() if like.isupper() and len(like) > 1 else value.lower() if like.islower() else value


def _date_part(part: str, day: date) -> str:
    """One word or number of a date, redrawn from `day` in its own shape; other words unchanged."""
    if (pattern := _MONTHS.get(part.lower()) or _WEEKDAYS.get(part.lower())) is not None:
        return _same_case(day.strftime(pattern), part)
    digits = part.rstrip("stndrh")
    if not digits.isdigit():
        return part
    if len(digits) == 4 and 1000 <= int(digits) <= 2999:
        return f"{day.year // 10 * 10}s" if part.endswith("s") else str(day.year)  # "1990s": a decade
    if len(digits) <= 2 and 1 <= int(digits) <= 31:
        value = day.month if int(digits) <= 12 and part == digits else day.day
        suffix = "th" if 11 <= value <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
        return f"{value:0{len(digits)}d}" + (suffix if part != digits else "")
    return "".join(str((int(d) + day.toordinal() + i) % 10) for i, d in enumerate(digits))  # any other number


def _shapeable(original: str) -> bool:
    """Only lower-case words besides month and weekday names: a capitalised one ("Christmas", a name
    the span caught) is not redrawn, so the shape is not kept."""
    words = re.findall(r"[A-Za-z]+", original)
    return all(w.islower() or w.lower() in _MONTHS or w.lower() in _WEEKDAYS for w in words)


def date_like(faker: Faker, original: str) -> str | None:
    """A fake date in the shape of `original`: its month and weekday names, years and day numbers
    redrawn, its other words kept ("last Tuesday" → "last Friday", "5 March 2004" → "17 October
    1998", "2004-05-12" → "1998-10-17"). None when it holds no such part, a capitalised word that is
    neither, or every redraw equals it."""
    if not _shapeable(original):
        return None
    for _ in range(REDRAWS):
        day = faker.date_object()
        fake = _DATE_PART.sub(lambda m: _date_part(m.group(0), day), original)
        if fake.lower() != original.lower() and not set(_LONG_NUMBER.findall(fake)) & set(_LONG_NUMBER.findall(original)):
            return fake
    return None


# Types whose fake value takes the shape of the value it replaces, where that value is known.
_SHAPED: dict[str, Callable[[Faker, str], str | None]] = {"DATE_TIME": date_like}


SHAPED_TYPES = frozenset(_SHAPED)


def surrogate_types() -> list[str]:
    return sorted(_GENERATORS)


def surrogate_from(faker: Faker, entity_type: str, original: str | None = None) -> str:
    """A fake value of `entity_type` from an already-seeded Faker, in the shape of `original` where
    the type has a shaped generator (dates); unknown types get an ID-like token."""
    if original and (shaped := _SHAPED.get(entity_type)) and (fake := shaped(faker, original)) is not None:
        return fake
    return _GENERATORS.get(entity_type, _GENERATORS["ID"])(faker)


def fresh_surrogate(entity_type: str, seed: int, locale: str = "en_US") -> str:
    """A reproducible fake value for `entity_type` that depends on `seed` only."""
    faker = Faker(locale)
    faker.seed_instance(random.Random(seed).getrandbits(64))
    return surrogate_from(faker, entity_type)
