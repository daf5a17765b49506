"""Turning records into the text and tokens every check compares."""

from __future__ import annotations

import re
from typing import Any

# On lower-cased text: a placeholder such as <person_1> or <person> is one token; otherwise words and
# single punctuation marks.
_TOKEN = re.compile(r"<[a-z][a-z0-9_]*>|\w+|[^\w\s]")
_NUMBERED_PLACEHOLDER = re.compile(r"<([A-Z][A-Z0-9_]*?)_\d+>")
# Whitespace-separated pieces with offsets: candidate spans for PII replay keep the source's shape.
_PIECE = re.compile(r"\S+")
FIELD_SEPARATOR = "\n"


def field_value(record: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (`contact.email`), or None."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def record_text(record: dict[str, Any], text_fields: list[str]) -> str:
    """The record's free text as the comparing checks see it: text fields in policy order, one per line.

    Real records carry placeholders (`<PERSON_3>`), synthetic ones the fake values synthesis put in
    their place: both become `<PERSON>`, so that similarity, memorization and the discriminator
    compare wording, not "placeholder vs fake name" (which would hide near-copies and flag every
    synthetic record as synthetic).
    """
    filled = surrogate_spans(record, text_fields)
    parts = []
    for name in text_fields:
        value = field_value(record, name)
        if value is None:
            continue
        text = value if isinstance(value, str) else str(value)
        for start, end, entity_type in sorted(filled.get(name, []), reverse=True):
            text = f"{text[:start]}<{entity_type}>{text[end:]}"
        parts.append(_NUMBERED_PLACEHOLDER.sub(r"<\1>", text))
    return FIELD_SEPARATOR.join(parts)


def surrogate_spans(record: dict[str, Any], text_fields: list[str]) -> dict[str, list[tuple[int, int, str]]]:
    """Field → (start, end, entity type) of every fresh surrogate the generator says it inserted
    (`_provenance.surrogates`); entries that do not fit the field's text, or overlap, are ignored
    rather than trusted."""
    provenance = record.get("_provenance")
    listed = provenance.get("surrogates") if isinstance(provenance, dict) else None
    spans: dict[str, list[tuple[int, int, str]]] = {}
    for entry in listed if isinstance(listed, list) else []:
        if not isinstance(entry, dict) or entry.get("field") not in text_fields:
            continue
        start, end, text = entry.get("start"), entry.get("end"), field_value(record, entry["field"])
        entity_type = str(entry.get("entity_type") or "ENTITY").upper()
        if isinstance(start, int) and isinstance(end, int) and isinstance(text, str) and 0 <= start < end <= len(text):
            taken = spans.setdefault(entry["field"], [])
            if all(end <= s or start >= e for s, e, _ in taken):
                taken.append((start, end, entity_type))
    return spans


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens, placeholders kept whole."""
    return _TOKEN.findall(text.lower())


def pieces(text: str) -> list[tuple[int, int]]:
    """(start, end) of every whitespace-separated piece of `text`."""
    return [m.span() for m in _PIECE.finditer(text)]
