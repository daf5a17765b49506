"""Coherence: a value found as PII once is PII wherever else it appears, in its record and in the
other records of the dataset.

Detectors catch a value in one sentence and miss it in the next ("Zara Holm" then "Zara was
there"), and a customer named in one ticket comes back, undetected, in the next ticket. Detection
runs per text, on worker processes or a Ray cluster; this runs in the driver, between detection and
the operators, on detections only, so every executor gives the same output.

What spreads:
- within a record: every detected value of 3+ letters or digits, case-insensitive, and each
  uncommon word of a full person name ("Lovelace" after "Ada Lovelace");
- to the dataset's other records: full person names, case-insensitive, and identifiers (emails,
  phone numbers, national ids, account numbers, ...; exact), specific enough that a repeat is the
  same value. A single word spreads only when it is a known first name or surname (the gazetteer
  of privacy/gazetteers.py) and not an everyday word: one misread "Payment" tagged as a person
  must not take every "Payment" of the dataset with it. Places, organisations, postcodes and dates stay in their record: "Paris" in
  one record's address says nothing about "Paris" in another's prose.
- A single word detected only as written in lower case ("sales", "given", "charity": surnames and first
  names that are everyday words too) spreads to a window's records only while the records detectors
  found it in (so far in the dataset) number at least 1 / `LOWER_WORD_RATIO` of the window's
  records that write it undetected: one misread "sales" in a news lede took
  the word from 33 other ledes of 500 (BBC News); a lower-case chat name found once and repeated in two other
  chats still spreads.

Matches are whole words. Values are indexed by their first word, so a text is scanned once however
many values the dataset holds.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from privacy.detections import Detection
from privacy.fields import Unit

REPEAT_DETECTOR = "repeated in record"
DATASET_DETECTOR = "repeated in dataset"
MIN_CHARS = 3  # shorter values ("Al", "5") would also match unrelated words
# Types that stay in their record; everything else that is not a person is an identifier.
RECORD_ONLY_TYPES = frozenset({"LOCATION", "ORGANIZATION", "DATE_TIME", "NRP", "DATE_OF_BIRTH", "ZIP_CODE",
                               "STREET_ADDRESS"})
LOWER_WORD_RATIO = 3  # see the module docstring
MAX_DATASET_VALUES = 500_000  # bounds memory on huge inputs; later values still spread within their record
_WORD = re.compile(r"\w+")
_NAME_WORD = re.compile(r"[^\W\d_][\w'’-]*")


@dataclass(frozen=True)
class _Known:
    text: str  # lowercase when caseless
    caseless: bool
    lead: int  # characters before its first word: "(" of "(415) 555-0198"
    source: Detection


class ValueIndex:
    """Known PII values, keyed by their first word (lowercase)."""

    def __init__(self, detector: str):
        self.detector = detector
        self.size = 0
        self._by_word: dict[str, list[_Known]] = {}
        self._seen: set[tuple[str, bool]] = set()

    def add(self, raw: str, source: Detection, caseless: bool) -> None:
        first = _WORD.search(raw)
        text = raw.lower() if caseless else raw
        if first is None or len(text) != len(raw) or sum(c.isalnum() for c in raw) < MIN_CHARS \
                or (text, caseless) in self._seen:
            return
        self._seen.add((text, caseless))
        self._by_word.setdefault(first.group().lower(), []).append(_Known(text, caseless, first.start(), source))
        self.size += 1

    def find(self, text: str, words: list[tuple[int, str]]) -> Iterator[Detection]:
        """Every whole-word occurrence of a known value in `text`, typed as where it was found;
        `words` are the text's words (`text_words`), found once for every index."""
        for position, word in words:
            for known in self._by_word.get(word, ()):
                start = position - known.lead
                end = start + len(known.text)
                piece = text[max(start, 0):end]
                if start >= 0 and (piece.lower() if known.caseless else piece) == known.text \
                        and _whole_words(text, start, end):
                    yield Detection(known.source.entity_type, start, end, known.source.score, self.detector)


class DatasetValues:
    """Values that spread across one dataset's records: learn from every record's detections
    first (`learn`), then add their undetected repeats to each record (`extend`)."""

    def __init__(self) -> None:
        self.index = ValueIndex(DATASET_DETECTOR)
        self._lower_found = Counter()  # lower-case single-word names: records a detector found them in
        self._cased: set[str] = set()  # single-word names also found written with a capital

    def learn(self, units: list[Unit], found: list[list[Detection]]) -> None:
        if self.index.size >= MAX_DATASET_VALUES:
            return
        words: set[str] = set()  # this record's single-word names and name parts, counted once per record
        for raw, span in _values(units, found):
            if span.entity_type in RECORD_ONLY_TYPES or "\n" in raw:
                continue  # a detection across lines is a misread ("Ibrahim Joseph\nPayment")
            if span.entity_type != "PERSON":
                self.index.add(raw, span, caseless=False)
                continue
            parts = name_parts(span.entity_type, raw)
            words.update([raw] if _single_word(raw) else parts)
            if len(_NAME_WORD.findall(raw)) > 1 or _known_name(raw):
                self.index.add(raw, span, caseless=True)
            for part in parts:
                if _known_name(part):
                    self.index.add(part, span, caseless=True)
        self._lower_found.update({w for w in words if w.islower()})
        self._cased.update(w.lower() for w in words if not w.islower())

    def extend_window(self, records: list[tuple[list[Unit], list[list[Detection]]]]) -> list[list[list[Detection]]]:
        """`extend` for each record of a window, less the spread of lower-case words that the window
        writes in far more records than detectors found them in (the module docstring)."""
        extended = [self.extend(units, found) for units, found in records]
        spread = Counter()
        for (units, _), unit_spans in zip(records, extended):
            spread.update({word for unit, spans in zip(units, unit_spans) for span in spans
                           if (word := self._lower_word(unit.text, span)) is not None})
        everyday = {word for word, count in spread.items() if count > LOWER_WORD_RATIO * self._lower_found[word]}
        if not everyday:
            return extended
        return [[[s for s in spans if self._lower_word(unit.text, s) not in everyday]
                 for unit, spans in zip(units, unit_spans)] for (units, _), unit_spans in zip(records, extended)]

    def _lower_word(self, text: str, span: Detection) -> str | None:
        """The spread single word `span` matched, when it was only ever found in lower case."""
        if span.detector != DATASET_DETECTOR:
            return None
        word = text[span.start:span.end].lower()
        return word if word in self._lower_found and word not in self._cased else None

    def extend(self, units: list[Unit], found: list[list[Detection]]) -> list[list[Detection]]:
        """Each unit's spans plus the repeats, in its free text, of values found in its record
        (any type) and of values the dataset spreads; a record's own value types its repeat."""
        record = ValueIndex(REPEAT_DETECTOR)
        for raw, span in _values(units, found):
            record.add(raw, span, caseless=True)
            for part in name_parts(span.entity_type, raw):
                record.add(part, span, caseless=True)
        extended = []
        for unit, spans in zip(units, found):
            extra: list[Detection] = []
            if unit.kind == "text" and (record.size or self.index.size):
                taken = {(s.start, s.end) for s in spans}
                words = text_words(unit.text)
                for match in (*record.find(unit.text, words), *self.index.find(unit.text, words)):
                    if (match.start, match.end) not in taken:
                        taken.add((match.start, match.end))
                        extra.append(match)
            extended.append(spans + extra)
        return extended


def text_words(text: str) -> list[tuple[int, str]]:
    """(start, lowercase word) of every word, the keys ValueIndex.find looks values up by."""
    return [(m.start(), m.group().lower()) for m in _WORD.finditer(text)]


def name_parts(entity_type: str, raw: str) -> list[str]:
    """The words of a full person name: "Mele Tupou" found once makes "Dr. Tupou" elsewhere hers
    too. Everyday words, short particles ("de", "van") and, in a name written with capitals, its
    lower-case words are left out."""
    words = _NAME_WORD.findall(raw)
    if entity_type != "PERSON" or len(words) < 2:
        return []
    if not raw.islower():  # "singer Ray Charles": the lower-case word describes, it names no one
        words = [w for w in words if not w.islower()]
    from privacy.recognizers.uncased_name import common_words

    common = common_words()
    return [w for w in words if len(w) >= MIN_CHARS and w.casefold() not in common]


def _single_word(raw: str) -> bool:
    return _NAME_WORD.fullmatch(raw) is not None


def _known_name(word: str) -> bool:
    from privacy.gazetteers import names
    from privacy.recognizers.uncased_name import common_words

    folded = word.casefold()
    gazetteer = names()
    return (folded in gazetteer.first or folded in gazetteer.last) and folded not in common_words()


def _values(units: list[Unit], found: list[list[Detection]]) -> Iterable[tuple[str, Detection]]:
    for unit, spans in zip(units, found):
        for span in spans:
            yield unit.text[span.start:span.end], span


def _whole_words(text: str, start: int, end: int) -> bool:
    """No word character right before or after (the value is not part of a longer word)."""
    return not (start > 0 and _is_word(text[start - 1])) and not (end < len(text) and _is_word(text[end]))


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"
