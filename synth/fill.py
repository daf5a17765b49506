"""Placeholders in generated text become fresh surrogates, with exact character offsets.

Synthesis never holds source values, so a surrogate here is drawn from a seed derived from the
record's seed: the same placeholder in one record gets the same value, and a job is reproducible.
A fake value can still equal a source value by chance (a common surname): given the source values'
keyed fingerprints from the privacy manifest, `SourceValues` recognises such a value without ever
holding the source values, and the filler draws again, so no released record repeats one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from faker import Faker

from privacy.fingerprint import fingerprint
from privacy.placeholders import PLACEHOLDER
from privacy.surrogates import surrogate_from, surrogate_types
from synth.errors import Reject
from synth.seeds import derive_seed

# Types a small model invents for placeholders, mapped to the type the privacy stage uses.
ALIASES = {
    "NAME": "PERSON", "FIRST_NAME": "PERSON", "LAST_NAME": "PERSON", "CUSTOMER": "PERSON", "PATIENT": "PERSON",
    "DATE": "DATE_TIME", "TIME": "DATE_TIME", "EMAIL": "EMAIL_ADDRESS", "PHONE": "PHONE_NUMBER",
    "CITY": "LOCATION", "COMPANY": "ORGANIZATION", "ORG": "ORGANIZATION", "ZIP": "ZIP_CODE", "MRN": "MEDICAL_RECORD_NUMBER",
}


_PIECE = re.compile(r"\S+")
MAX_DRAWS = 20


class SourceValues:
    """Whether a value, or any run of its whitespace-separated pieces, is a source PII value: its
    keyed fingerprint (privacy.fingerprint, same site key) is one of the manifest's. The audit's
    PII replay looks at such runs, so a fake value must not match in any of them."""

    def __init__(self, site_key: bytes, fingerprints: Iterable[str]):
        self._key = site_key
        self._fingerprints = frozenset(fingerprints)

    def __call__(self, value: str) -> bool:
        pieces = _PIECE.findall(value)
        runs = {" ".join(pieces[i:j]) for i in range(len(pieces)) for j in range(i + 1, len(pieces) + 1)}
        return any(fingerprint(self._key, run) in self._fingerprints for run in runs)


def known_type(entity_type: str) -> str | None:
    """The surrogate type for a placeholder type, or None if it is not one we can fill."""
    entity_type = ALIASES.get(entity_type, entity_type)
    return entity_type if entity_type in surrogate_types() else None


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str

    def as_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "label": self.label}


class Filler:
    """Fills placeholders for one record; one Faker per locale, re-seeded per value.

    `filled` lists every inserted value's field (dotted path), span and type, so that later
    checks can tell Airlock's own fake values from anything else in the text.
    """

    def __init__(self, locale: str = "en_US", avoid: Callable[[str], bool] | None = None):
        self._faker = Faker(locale)
        self._avoid = avoid  # e.g. SourceValues: values that must not be inserted
        self.redrawn = 0
        self._values: dict[str, str] = {}
        self._seed = 0
        self._shapes: dict[str, str] = {}
        self.filled: list[dict] = []

    def start_record(self, seed: int, shapes: dict[str, str] | None = None) -> None:
        """Forget the previous record's values; the same placeholder within a record keeps its value.
        `shapes`: placeholder → a value whose shape its surrogate takes (privacy/surrogates.py)."""
        self._values = {}
        self._seed = seed
        self._shapes = shapes or {}
        self.filled = []

    def _value(self, entity_type: str, token: str) -> str:
        if token not in self._values:
            for draw in range(MAX_DRAWS):
                self._faker.seed_instance(derive_seed(self._seed, "fill", token, *([draw] if draw else [])))
                # a shape with few values ("Tuesday": seven) may hold only source values: later draws drop it
                shape = self._shapes.get(token) if draw < MAX_DRAWS // 2 else None
                value = surrogate_from(self._faker, entity_type, original=shape)
                if self._avoid is None or not self._avoid(value):
                    break
                self.redrawn += 1
            else:
                raise Reject("surrogate_matches_source")  # the draft is dropped and counted
            self._values[token] = value
        return self._values[token]

    def fill(self, text: str, field: str = "") -> tuple[str, list[Span]]:
        """The filled text and the span of every inserted value in it."""
        parts: list[str] = []
        spans: list[Span] = []
        length = 0
        last = 0
        for match in PLACEHOLDER.finditer(text):
            before = text[last : match.start()]
            parts.append(before)
            length += len(before)
            entity_type = known_type(match.group(1)) or match.group(1)
            value = self._value(entity_type, match.group(0))
            spans.append(Span(length, length + len(value), entity_type))
            parts.append(value)
            length += len(value)
            last = match.end()
        parts.append(text[last:])
        self.filled += [{"field": field, "start": s.start, "end": s.end, "entity_type": s.label} for s in spans]
        return "".join(parts), spans

    def replace(self, text: str, field: str, start: int, end: int, entity_type: str) -> str:
        """`text` (the filled value at `field`) with text[start:end], widened over any surrogate it
        overlaps, replaced by a fresh surrogate of `entity_type`; the listed spans follow the edit."""
        on_field = sorted((s for s in self.filled if s["field"] == field), key=lambda s: s["start"])
        for span in on_field:
            if span["start"] < end and start < span["end"]:
                start, end = min(start, span["start"]), max(end, span["end"])
        value = self._value(entity_type, f"<{entity_type}_{len(self._values) + 1}>replaced")
        shift = len(value) - (end - start)
        kept = [s if s["field"] != field or s["end"] <= start else {**s, "start": s["start"] + shift, "end": s["end"] + shift}
                for s in self.filled if s["field"] != field or s["end"] <= start or s["start"] >= end]
        kept.append({"field": field, "start": start, "end": start + len(value), "entity_type": entity_type})
        self.filled = sorted(kept, key=lambda s: (s["field"], s["start"]))
        return text[:start] + value + text[end:]

    def fill_all(self, value: object, path: str = "") -> object:
        """Every string inside a JSON value, filled (paths: `text`, `turns.0.text`)."""
        if isinstance(value, str):
            return self.fill(value, path)[0]
        if isinstance(value, dict):
            return {k: self.fill_all(v, f"{path}.{k}" if path else k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill_all(v, f"{path}.{i}") for i, v in enumerate(value)]
        return value
