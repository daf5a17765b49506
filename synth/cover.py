"""Make every detection in a filled record land on a surrogate, or say that it cannot.

After placeholders are filled, the PII detector reads the record as the audit's re-scan will.
A detection can still reach past Airlock's own fake values: the detector reads "Port Dillon's" or
"the Wells PLC" as one entity, or a filled name changes the context so that a word next to it
("Grammy", "World Cup") now reads as a place. Such a detection is not excused by widening what the
record claims as a surrogate over words it did not insert (the audit trusts those spans); instead
the whole detected span, together with any surrogate it overlaps, is replaced by a fresh surrogate
of the detected type, and the record is read again. What is still found after that, or is of a type
with no surrogate, rejects the draft as `invented_pii`. Only the possessive "'s" is excused by
widening, since replacing it would change the sentence's grammar.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection

from synth.fill import Filler, known_type
from synth.pii import PiiDetector, uncovered

ROUNDS = 2  # replacement rounds before a draft whose detections move around is given up


def field_text(record: dict, path: str) -> str | None:
    """The string at a dotted path (`text`, `turns.0.text`), or None."""
    value = record
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value if isinstance(value, str) else None


def set_field_text(record: dict, path: str, text: str) -> None:
    *parents, last = path.split(".")
    value = record
    for part in parents:
        value = value[int(part)] if isinstance(value, list) else value[part]
    value[int(last) if isinstance(value, list) else last] = text


def possessive_cover(record: dict, fields: Collection[str], filler: Filler, detector: PiiDetector,
                     ignore: Collection[str]) -> bool:
    """Extend surrogate spans followed by "'s" over it when that clears every detection (the
    record's provenance then says so, for the audit's re-scan too)."""
    extended = []
    for span in filler.filled:
        text = field_text(record, span["field"])
        if text is not None and text[span["end"]:span["end"] + 2] in ("'s", "\u2019s"):
            span = {**span, "end": span["end"] + 2}
        extended.append(span)
    if uncovered(record, fields, extended, detector, ignore):
        return False
    filler.filled[:] = extended
    return True


def resurrogate(record: dict, fields: Collection[str], filler: Filler, detector: PiiDetector,
                ignore: Collection[str], repairs: Counter) -> bool:
    """Replace each detected span not on a surrogate by a fresh surrogate of its type, re-reading
    the record up to ROUNDS times; whether nothing uncovered is left."""
    for _ in range(ROUNDS):
        found = uncovered(record, fields, filler.filled, detector, ignore)
        if not found:
            return True
        if any(known_type(entity_type) is None for _, entity_type, _, _ in found):
            return False  # a type with no surrogate: nothing to put there
        for path in sorted({path for path, *_ in found}):
            text = field_text(record, path)
            spans = [(s, e, t) for p, t, s, e in found if p == path]
            for start, end, entity_type in reversed(_disjoint(spans, filler.filled, path)):
                text = filler.replace(text, path, start, end, known_type(entity_type))
                repairs["invented_pii_resurrogated"] += 1
            set_field_text(record, path, text)
    return not uncovered(record, fields, filler.filled, detector, ignore)


def _disjoint(spans: list[tuple[int, int, str]], surrogates: list[dict], path: str) -> list[tuple[int, int, str]]:
    """Detections widened over the surrogates they overlap and merged where they overlap each
    other (the first, longest one's type wins), in text order."""
    cover = [(s["start"], s["end"]) for s in surrogates if s["field"] == path]
    merged: list[list] = []
    for start, end, entity_type in sorted(spans, key=lambda s: (s[0], -s[1])):
        for lo, hi in cover:
            if lo < end and start < hi:
                start, end = min(start, lo), max(end, hi)
        if merged and start < merged[-1][1]:
            merged[-1][0], merged[-1][1] = min(merged[-1][0], start), max(merged[-1][1], end)
        else:
            merged.append([start, end, entity_type])
    return [tuple(m) for m in merged]
