"""What the analyzer finds in a text, as the detection tests assert on it."""

from __future__ import annotations

from privacy.analyzer import detect


def found(analyzer, policy, text: str) -> list[tuple[str, str]]:
    """(entity type, text) of each final span."""
    return [(r.entity_type, text[r.start:r.end]) for r in detect(analyzer, text, policy)]


def covered(analyzer, policy, text: str, value: str) -> bool:
    """Every letter and digit of `value` (its first occurrence) lies inside some span."""
    start = text.index(value)
    spans = [(r.start, r.end) for r in detect(analyzer, text, policy)]
    return all(any(s <= i < e for s, e in spans) for i in range(start, start + len(value)) if text[i].isalnum())
