"""Invented PII: a detection in generated text that is not one of synthesis's own fake values.

Placeholders become fresh surrogates whose spans the record lists (synth/fill.py); a small model
also writes real-looking values of its own outside any placeholder (an email, a name, a city),
perhaps recalled from its pre-training. The audit's re-scan counts those, so generation drops such a
draft and retries. The detector is passed in (the caller builds it from the privacy stage's
analyzer): synthesis does not load Presidio, and the audit's re-scan stays an independent check.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator

from privacy.placeholders import find_placeholders

# A text → (entity_type, start, end) of every PII span a detector finds in it.
PiiDetector = Callable[[str], list[tuple[str, int, int]]]


def covered(start: int, end: int, text: str, cover: list[tuple[int, int]]) -> bool:
    """Whether `cover` overlaps text[start:end] and leaves nothing of it but spaces and punctuation."""
    inside = [False] * (end - start)
    for lo, hi in cover:
        for i in range(max(lo, start), min(hi, end)):
            inside[i - start] = True
    rest = "".join(c for c, on in zip(text[start:end], inside) if not on)
    return any(inside) and not any(c.isalnum() for c in rest)


def _strings(value: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}.{i}")


def invented_pii(
    record: dict, fields: Collection[str], surrogates: list[dict], detector: PiiDetector, ignore: Collection[str]
) -> list[tuple[str, str]]:
    """(field, entity type) of every detection in the record's free-text `fields` (top-level names;
    nested strings included) that is neither inside a placeholder, nor of an `ignore` type, nor on a
    listed surrogate span (`_provenance.surrogates` entries: field, start, end)."""
    return [(path, entity_type) for path, entity_type, _, _ in uncovered(record, fields, surrogates, detector, ignore)]


def uncovered(
    record: dict, fields: Collection[str], surrogates: list[dict], detector: PiiDetector, ignore: Collection[str]
) -> list[tuple[str, str, int, int]]:
    """(field path, entity type, start, end) of each detection `invented_pii` counts."""
    found = []
    for name in fields:
        for path, text in _strings(record.get(name), name):
            cover = [(s["start"], s["end"]) for s in surrogates if s["field"] == path]
            holes = [(start, end) for _, _, start, end in find_placeholders(text)]
            for entity_type, start, end in detector(text):
                if entity_type in ignore or any(lo <= start and end <= hi for lo, hi in holes):
                    continue
                if not covered(start, end, text, cover):
                    found.append((path, entity_type, start, end))
    return found
