"""Realistic fake values per entity type (Faker, locale-aware).

`fresh_surrogate` draws from a seeded generator (synthesis fills placeholders with it);
the keyed, consistent surrogate operator derives its seed from an HMAC of the value instead.
"""

from __future__ import annotations

import random
from collections.abc import Callable

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


def surrogate_types() -> list[str]:
    return sorted(_GENERATORS)


def surrogate_from(faker: Faker, entity_type: str) -> str:
    """A fake value of `entity_type` from an already-seeded Faker; unknown types get an ID-like token."""
    return _GENERATORS.get(entity_type, _GENERATORS["ID"])(faker)


def fresh_surrogate(entity_type: str, seed: int, locale: str = "en_US") -> str:
    """A reproducible fake value for `entity_type` that depends on `seed` only."""
    faker = Faker(locale)
    faker.seed_instance(random.Random(seed).getrandbits(64))
    return surrogate_from(faker, entity_type)
