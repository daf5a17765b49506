"""Typed placeholders such as `<PERSON_1>`: the shape scrubbed text carries into synthesis."""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"<([A-Z][A-Z0-9_]*?)_(\d+)>")


def placeholder(entity_type: str, number: int) -> str:
    return f"<{entity_type}_{number}>"


def find_placeholders(text: str) -> list[tuple[str, int, int, int]]:
    """(entity_type, number, start, end) for every placeholder in `text`."""
    return [(m.group(1), int(m.group(2)), m.start(), m.end()) for m in PLACEHOLDER.finditer(text)]
