"""A cheap guard that synthesis input went through the privacy stage.

Not a detector: scrubbed data carries typed placeholders; data with no placeholder anywhere but
with e-mail addresses or phone numbers in it was almost certainly never scrubbed. E-mails at the
reserved example domains (which surrogates use) do not count.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from privacy.errors import BadInput
from privacy.placeholders import PLACEHOLDER

EMAIL = re.compile(r"\b[\w.+-]+@([\w-]+\.)+[A-Za-z]{2,}\b")
PHONE = re.compile(r"(?<![\w-])(\+\d{1,3}[\s.-]?)?(\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w-])")
_RESERVED = re.compile(r"@([\w-]+\.)*(example\.(com|org|net)|[\w-]+\.(example|test|invalid|localhost))$", re.I)


def _strings(value: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _strings(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner, path)


def _contact_kind(text: str) -> str | None:
    for match in EMAIL.finditer(text):
        if not _RESERVED.search(match.group(0)):
            return "an e-mail address"
    if PHONE.search(text):
        return "a phone number"
    return None


def require_scrubbed(records: list[dict]) -> None:
    """BadInput unless the records look like the privacy stage's output."""
    first_hit = None
    for number, record in enumerate(records, 1):
        for path, text in _strings(record, ""):
            if PLACEHOLDER.search(text):
                return
            if first_hit is None and (kind := _contact_kind(text)):
                first_hit = (number, path, kind)
    if first_hit:
        number, path, kind = first_hit
        raise BadInput(
            f"input does not look scrubbed: record {number} field {path!r} holds {kind} and no record "
            "has placeholders; run `airlock scrub` first"
        )
