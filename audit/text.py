"""Turning records into the text and tokens every check compares."""

from __future__ import annotations

import re
from typing import Any

# On lower-cased text: a placeholder such as <person_1> is one token; otherwise words and single
# punctuation marks.
_TOKEN = re.compile(r"<[a-z][a-z0-9_]*_\d+>|\w+|[^\w\s]")
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
    """The record's free text: its text fields in policy order, one per line."""
    parts = []
    for name in text_fields:
        value = field_value(record, name)
        if value is not None:
            parts.append(value if isinstance(value, str) else str(value))
    return FIELD_SEPARATOR.join(parts)


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens, placeholders kept whole."""
    return _TOKEN.findall(text.lower())


def pieces(text: str) -> list[tuple[int, int]]:
    """(start, end) of every whitespace-separated piece of `text`."""
    return [m.span() for m in _PIECE.finditer(text)]
