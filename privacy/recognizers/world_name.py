"""Person names of many countries (names-dataset's per-country top names, privacy/gazetteers.py).

A first name followed by surnames ("Dragan Petrović", "ana maría quispe mamani", "LARS ØSTERGAARD")
or a "Surname, First" pair counts in any case. A capitalised first name on its own ("Zara was
there", "ms. Ingrid") counts when it is not an everyday word, a field label or a place.
"""

from __future__ import annotations

import calendar

import regex
from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult

from privacy.gazetteers import names, places
from privacy.recognizers import register
from privacy.recognizers.ner import LABEL_WORDS
from privacy.recognizers.uncased_name import common_words, name_lists

_WORD = regex.compile(r"[^\W\d_][\w'’-]*(?<![-'’])")
_PARTICLES = frozenset("de da do dos das del della di van von der den le la du bin binti ibn al el ní nic mac mc".split())
MAX_WORDS = 4
# Month and weekday names are first names in the gazetteer ("July", "June") but dates in prose.
CALENDAR_WORDS = frozenset(w.casefold() for w in (*calendar.month_name[1:], *calendar.day_name))
# After a lone first name that opens a sentence, what shows it is a person ("Zara was there"):
# "Welcome to", "Bill to:" and "Grace period" open sentences too.
_PERSON_NEXT = regex.compile(r"\s+(?:was|is|said|says|called|phoned|has|had|will|and|took|wrote|asked|went|told|came"
                             r"|left|met|reported|replied|from|agreed|thinks|wants|needs)\b|,\s")


@register
class WorldNameRecognizer(LocalRecognizer):
    """Gazetteer names: full names in any case, lone capitalised first names with a lower score."""

    FULL_SCORE = 0.6
    SINGLE_SCORE = 0.45

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_entities=["PERSON"], supported_language=supported_language,
                         name="WorldNameRecognizer")

    def load(self) -> None:
        gazetteer = names()
        faker_first, faker_last = name_lists()
        self.common = common_words() | LABEL_WORDS
        self.first = (gazetteer.first | faker_first) - self.common
        self.last = (gazetteer.last | faker_last) - self.common
        self.places = places().folded

    def analyze(self, text, entities, nlp_artifacts=None):
        words = list(_WORD.finditer(text))
        results, i = [], 0
        while i < len(words):
            end = self._full_name(text, words, i)
            if end is not None:
                results.append(self._result(words[i].start(), words[end].end(), self.FULL_SCORE))
                i = end + 1
                continue
            if self._single(words[i].group()) and reads_as_a_person(text, words[i].start(), words[i].end()):
                results.append(self._result(words[i].start(), words[i].end(), self.SINGLE_SCORE))
            i += 1
        return results

    def _full_name(self, text: str, words: list, i: int) -> int | None:
        """Index of the last word of a full name starting at word i, or None."""
        word = words[i].group()
        if not self._same_case_shape(word):
            return None
        folded = word.casefold()
        if (folded in self.last and i + 1 < len(words) and text[words[i].end():words[i + 1].start()] == ", "
                and words[i + 1].group().casefold() in self.first and _same_shape(word, words[i + 1].group())):
            return i + 1  # "Kowalska, Grazyna"
        if folded not in self.first:
            return None
        end = None
        for j in range(i + 1, min(len(words), i + MAX_WORDS)):
            following = words[j].group()
            lowered = following.casefold()
            if text[words[j - 1].end():words[j].start()] != " ":
                break
            if lowered in _PARTICLES:
                continue
            if not _same_shape(word, following) or not (lowered in self.last or (lowered in self.first and j == i + 1)):
                break
            end = j
        return end

    def _single(self, word: str) -> bool:
        folded = word.casefold()
        return (word[0].isupper() and not word.isupper() and len(word) > 2 and folded in self.first
                and folded not in self.places and folded not in CALENDAR_WORDS)

    @staticmethod
    def _same_case_shape(word: str) -> bool:
        return word.islower() or word.isupper() or word[0].isupper()

    def _result(self, start: int, end: int, score: float) -> RecognizerResult:
        return RecognizerResult("PERSON", start, end, score,
                                analysis_explanation=AnalysisExplanation(self.name, score, textual_explanation="gazetteer"),
                                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                                      RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id})


def _same_shape(first: str, other: str) -> bool:
    """Both lowercase, both capitals, or both capitalised: "Ingrid said" is not a full name."""
    if first.islower() or other.islower():
        return first.islower() and other.islower()
    if first.isupper() and len(first) > 1:
        return other.isupper()
    return other[0].isupper()


def reads_as_a_person(text: str, start: int, end: int) -> bool:
    """A lone first name inside a sentence, or opening one and followed by a verb of a person."""
    before = text[:start].rstrip(" \t\"'(")
    if text[end:end + 1] == ":":
        return False  # a field label ("Guest:", "Attn:")
    if before and before[-1] not in ".!?\n:;":
        return True
    return bool(_PERSON_NEXT.match(text, end))
