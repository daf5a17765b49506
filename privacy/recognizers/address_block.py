"""International address blocks, read by layout rather than by one national pattern.

An address is a run of lines (or comma-separated parts of one line) around a *postal part*: a
postcode-shaped token beside a known town or country ("2100 København", "Sydney NSW 2000",
"05-012 Jaworzno"), or a postcode alone next to a town's line. Parts next to it that hold a number
and a word are the street ("Vestergade 12", "Rua Augusta 88", "P.O. Box 1563"), whatever the order
of street word and number; a short part with a number right after the street is its unit
("2. tv.", "Suite 400"). Towns come from the gazetteer (privacy/gazetteers.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import regex
from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult

from privacy.gazetteers import places
from privacy.recognizers import register
from privacy.recognizers.ner import LABEL_WORDS
from privacy.recognizers.postcode import YEAR_IN_PROSE
from privacy.recognizers.street_address import STREET_SUFFIXES, STREET_WORDS_ABROAD
from privacy.recognizers.uncased_name import common_words

_PART = regex.compile(r"[^\n,;|]+")
# Postcode shapes of many countries: 4-6 digits, "111 36", "05-012", "1100-053", "01310-200",
# "1015 CJ", "M5R 2A5", "D30 40XV", "H-1133", "HR-10000", "C1425DKA".
_POSTCODE = regex.compile(
    r"(?<![\w-])(?:[A-Z]{1,2}-)?(?:\d{3}\s\d{2}|\d{2}-\d{3}|\d{4,5}-\d{3}|\d{4}\s?[A-Z]{2}(?![a-z])|\d{3,6}"
    r"|[A-Z]\d[A-Z]\s?\d[A-Z]\d|[A-Z]\d{2}\s?[A-Z0-9]{4}|[A-Z]\d{4}[A-Z]{3})(?![\w-])")
# A street word with a house number: a postcode alone beside such a part closes its address.
_STREET_WORD = regex.compile(rf"(?i)(?:\b(?:{STREET_SUFFIXES})\b|{STREET_WORDS_ABROAD}|\b(?:utca|út|tér)\b)(?=.*\d)")
_STREETISH = regex.compile(r"^(?=.*\d)(?=.*[^\W\d_]{3})[^@:=]{3,60}$")
_UNIT = regex.compile(r"^(?=.*\d)[^@:=]{1,14}$")
_WORD = regex.compile(r"[^\W\d_][\w'’.-]*(?<![.-])")
# Sentences are not street lines: money, percentages, or two everyday lowercase words in a row.
_SENTENCE = regex.compile(r"[$€£%]|\b(?:the|of|for|to|in|on|about|within|days|weeks|hours|is|are|was|with|and|or)\s+[a-z]{2,}\b")
_FIELD_LABEL = regex.compile(r"^[^\W\d_][\w ]{1,20}:[ \t]*")  # "ADDR: Strømberget 07", "customer: 221 Jan Smuts"
_PROSE_LEAD = regex.compile(r"^.*\b(?:at|is|to|in|on|still|now|address)[ \t]+(?=\S)")
_YEAR = regex.compile(YEAR_IN_PROSE)  # "the 1981 Brixton riots": a year, though a town follows
_AGE = regex.compile(r"(?i)\b\d{1,3}[- ](?:years?|months?|weeks?|days?)[- ]old\b")  # "57-year-old" is no street
_LOWER_WORD = regex.compile(r"\b[a-z]{3,}\b")
_LABEL_START = regex.compile(r"(?i)^(?:tel|phone|fax|mobile|contact|weight|invoice|booking|order|amount|ref|id|vat)\b")


@dataclass(frozen=True)
class _Part:
    start: int
    end: int
    text: str
    line: int


@register
class AddressBlockRecognizer(LocalRecognizer):
    """Postcodes and streets located by a postal part (postcode + known town) near them."""

    SCORE = 0.55

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_entities=["ZIP_CODE", "STREET_ADDRESS"], supported_language=supported_language,
                         name="AddressBlockRecognizer")

    def load(self) -> None:
        self.places = places()
        self.common = common_words() | LABEL_WORDS

    def analyze(self, text, entities, nlp_artifacts=None):
        if not any(c.isdigit() for c in text):
            return []
        parts = _parts(text)
        town_only = [self._town_at(p.text.strip(), 0) == len(p.text.strip()) for p in parts]
        results = []
        for i, part in enumerate(parts):
            near = [k for k in (i - 1, i + 1) if 0 <= k < len(parts) and abs(parts[k].line - part.line) <= 1]
            codes = [(s, e) for s, e, code in self._postcodes(part)
                     if self._beside_town(part.text, s, e) or (part.text.strip().rstrip(".") == code and any(
                         town_only[k] or _STREET_WORD.search(parts[k].text) for k in near))]
            if codes:
                results += [self._result("ZIP_CODE", part.start + s, part.start + e) for s, e in codes]
                results += self._streets_around(parts, i)
        return results

    def _streets_around(self, parts: list[_Part], i: int) -> list[RecognizerResult]:
        """Street parts up to three before and two after the postal part `i`, walking outward and
        stopping at the first part that reads as prose: a block does not run across a sentence, so
        "Jo Roe, 57-year-old, seen for a cough for days at 5 Elm Rd, Leeds LS1 4AP" stops before the age."""
        found = []
        for step, reach in ((-1, 3), (1, 2)):
            for k in range(i + step, i + step * (reach + 1), step):
                if not 0 <= k < len(parts):
                    break
                street = self._street(parts, k, parts[i])
                found += street
                if _prose(parts[k].text):
                    break
        return found

    def _beside_town(self, text: str, start: int, end: int) -> bool:
        """A town right after the postcode ("2100 København") or right before it, with at most a
        region code between ("Sydney NSW 2000", "Toronto ON M5R 2A5", "Lisboa 1100")."""
        after = len(text) - len(text[end:].lstrip(" \t"))
        if after > end and self._town_at(text, after):
            return True
        before = regex.search(r"(?:[ \t]+[A-Z]{2,3})?[ \t,]+$", text[:start])
        if not before:
            return False
        head = text[:before.start()]
        words = list(_WORD.finditer(head))
        return any(self._town_at(head, words[i].start()) == len(head) - words[i].start()
                   for i in range(max(0, len(words) - 3), len(words)))

    def _town_at(self, text: str, start: int) -> int:
        """Length of the longest capitalised gazetteer place (up to three words) at `start`, or 0."""
        words = list(_WORD.finditer(text, start))[:3]
        if not words or words[0].start() != start or not (words[0].group()[0].isupper() or text.islower()):
            return 0  # a town is capitalised, unless the whole text is lowercase ("12608 berrechid")
        for j in range(len(words) - 1, -1, -1):
            name = text[start:words[j].end()]
            folded = name.casefold()
            if folded in self.places.folded and folded not in self.common and len(folded) > 2:
                return len(name)
        return 0

    def _street(self, parts: list[_Part], k: int, postal: _Part) -> list[RecognizerResult]:
        """The street part at index k of a block whose postal part is `postal` (and a unit after it).
        A part on another line counts only when it is its line's only part (a block layout)."""
        if not (0 <= k < len(parts)) or abs(parts[k].line - postal.line) > 3:
            return []
        part = parts[k]
        body = _FIELD_LABEL.sub("", part.text.strip())  # "ADDR: Strømberget 07"
        alone = sum(p.line == part.line for p in parts) == 1
        if (not _STREETISH.match(body) or _LABEL_START.match(body) or _POSTCODE.fullmatch(body)
                or len(body.split()) > 6 or _prose(body) or _AGE.search(body)
                or (part.line != postal.line and not alone)):
            return []
        offset = part.start + part.text.index(body)
        if lead := _PROSE_LEAD.match(body):  # "Lives alone at Nielsenstien 4": the street starts after "at"
            offset, body = offset + lead.end(), body[lead.end():]
        found = [self._result("STREET_ADDRESS", offset, offset + len(body))]
        after = parts[k + 1] if k + 1 < len(parts) else None
        if after and after is not postal and after.line == part.line and _UNIT.match(after.text.strip()):
            unit = after.text.strip()
            start = after.start + after.text.index(unit)
            found.append(self._result("STREET_ADDRESS", start, start + len(unit)))
        return found

    def _postcodes(self, part: _Part) -> list[tuple[int, int, str]]:
        return [(m.start(), m.end(), m.group()) for m in _POSTCODE.finditer(part.text)
                if not _YEAR.match(part.text, m.start())]

    def _result(self, entity: str, start: int, end: int) -> RecognizerResult:
        return RecognizerResult(entity, start, end, self.SCORE,
                                analysis_explanation=AnalysisExplanation(self.name, self.SCORE,
                                                                         textual_explanation="address layout"),
                                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                                      RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id})


def _prose(text: str) -> bool:
    """A sentence rather than an address line: long, money or a percentage, everyday wording."""
    body = text.strip()
    return len(body) > 60 or bool(_SENTENCE.search(body)) or len(_LOWER_WORD.findall(body)) >= 3


def _parts(text: str) -> list[_Part]:
    """Comma-, semicolon- or bar-separated parts of each line, with their line number."""
    parts = []
    line = 0
    position = 0
    for match in _PART.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        if match.group().strip():
            parts.append(_Part(match.start(), match.end(), match.group(), line))
    return parts
