"""A realistic fake value that is the same for the same normalized value under the same site key.

The Faker seed is derived from the value's keyed fingerprint, so without the site key the mapping
can be neither predicted nor reversed. Phone numbers and identifiers keep their format: each digit
(and each letter after the first digit) is redrawn, separators and prefixes such as `MRN-` stay.
"""

from __future__ import annotations

import random

from faker.config import AVAILABLE_LOCALES
from presidio_anonymizer.entities import InvalidParamError

from privacy.operators.base import ENTITY_TYPE, AirlockOperator
from privacy.surrogates import surrogate_from

LOCALE = "locale"
FORMAT_PRESERVING = "format_preserving"
FORMAT_PRESERVING_TYPES = frozenset({
    "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "MEDICAL_RECORD_NUMBER", "ACCOUNT_NUMBER", "PASSPORT",
    "ID", "US_DRIVER_LICENSE", "US_BANK_NUMBER", "US_PASSPORT", "US_ITIN", "UK_NHS", "ZIP_CODE",
    "POSTCODE",
})


def reshape(value: str, rng: random.Random, keep_country_code: bool = False) -> str:
    """Redraw digits (and letters after the first digit) keeping every separator in place.

    Draws follow the value's letters and digits only, so "(212) 555-0147" and "212-555-0147"
    (one normalized value) get the same new digits.
    """
    out, seen_digit = [], False
    in_code = keep_country_code and value.startswith("+")
    for c in value:
        if in_code and (c.isdigit() or c == "+"):
            out.append(c)
            continue
        in_code = False
        if c.isdigit():
            out.append(str(rng.randrange(0 if seen_digit else 1, 10)))  # no new leading zero
            seen_digit = True
        elif c.isalpha() and seen_digit and c.isascii():
            letter = chr(ord("a") + rng.randrange(26))
            out.append(letter.upper() if c.isupper() else letter)
        else:
            out.append(c)
    return "".join(out)


def _luhn_fix(number: str) -> str:
    """Make the last digit the Luhn check digit, so a fake card number looks like a card number."""
    positions = [i for i, c in enumerate(number) if c.isdigit()]
    if len(positions) < 2:
        return number
    digits = [int(number[i]) for i in positions[:-1]]
    total = 0
    for k, d in enumerate(reversed(digits)):
        d = d * 2 if k % 2 == 0 else d
        total += d - 9 if d > 9 else d
    check = (10 - total % 10) % 10
    last = positions[-1]
    return number[:last] + str(check) + number[last + 1 :]


class Surrogate(AirlockOperator):
    name = "surrogate"
    params = frozenset({LOCALE, FORMAT_PRESERVING})

    def operate(self, text: str, params: dict | None = None) -> str:
        context = self.context(params)
        entity_type = params[ENTITY_TYPE]
        seed = int(context.fingerprint(text)[:16], 16)
        preserve = params.get(FORMAT_PRESERVING, entity_type in FORMAT_PRESERVING_TYPES)
        if preserve and any(c.isdigit() for c in text):
            rng = random.Random(seed)
            for _ in range(8):  # a redraw equal to the original would leak it
                fake = reshape(text, rng, keep_country_code=entity_type == "PHONE_NUMBER")
                if entity_type == "CREDIT_CARD":
                    fake = _luhn_fix(fake)
                if fake != text:
                    return fake
        faker = context.faker(params.get(LOCALE, context.locale))
        faker.seed_instance(seed)
        return surrogate_from(faker, entity_type, original=text)

    def validate(self, params: dict | None = None) -> None:
        super().validate(params)
        locale = params.get(LOCALE, self.context(params).locale)
        if locale not in AVAILABLE_LOCALES:
            raise InvalidParamError(f"operator surrogate: unknown locale {locale!r}")
        if not isinstance(params.get(FORMAT_PRESERVING, True), bool):
            raise InvalidParamError(f"operator surrogate: {FORMAT_PRESERVING} must be true or false")
