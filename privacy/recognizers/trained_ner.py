"""Airlock's own NER (privacy/ner/), run beside en_core_web_sm: trained on gazetteer names, places,
companies and streets of many countries in mixed casing, it catches what the news-trained small
model misses ("sven lindqvist", "Rua Augusta 88", "NORTHWIND TRADING CO.LTD.").

The model's files are checked against their SHA-256 sums before loading; a missing or altered
model is refused (this recognizer then finds nothing, and `python -m privacy.ner.train` rebuilds it).
"""

from __future__ import annotations

import calendar

import regex

from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult

from privacy.ner.pipeline import trained_pipeline
from privacy.recognizers import register
from privacy.recognizers.ner import NAME_TYPES, FilteredSpacyRecognizer, name_start
from privacy.recognizers.world_name import CALENDAR_WORDS, reads_as_a_person
from privacy.recognizers.world_place import placed
from privacy.recognizers.street_address import STREET_SUFFIXES, STREET_WORDS_ABROAD

_STREET_WORD = regex.compile(rf"(?i)(?:\b(?:{STREET_SUFFIXES})\b|{STREET_WORDS_ABROAD})")
_PROSE_WORDS = frozenset({"a", "an", "has", "have", "had", "is", "are", "was", "were"})  # lower case only
_MONTH = "|".join(m for m in calendar.month_name if m)
# "12 August 2004", "August 12, 2004": a date, whatever street word follows it ("... that fares would rise")
_FULL_DATE = regex.compile(rf"(?i)\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTH})\s+\d{{4}}\b|\b(?:{_MONTH})\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b")


@register
class TrainedNerRecognizer(LocalRecognizer):
    """Entities of the trained component, filtered like spaCy's (no field labels) and held to
    spans with gazetteer evidence."""

    SCORE = 0.5

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_entities=["PERSON", "LOCATION", "ORGANIZATION", "STREET_ADDRESS"],
                         supported_language=supported_language, name="TrainedNerRecognizer")

    def _evidence(self, entity, text: str) -> bool:
        """A small model trained on templates also tags stray words ("I spoke", "spare parts"):
        a name or place must consist of gazetteer words, a street hold a number and a street
        word, a company be in capitals or hold a gazetteer word. No name holds a lower-case article
        or auxiliary ("a sharp rise", "ran a", "car maker Mercedes has" in news prose)."""
        if any(t.text in _PROSE_WORDS for t in entity):
            return False
        if entity.text.islower() and entity.text.endswith("-"):
            return False  # "peer-" of "peer-to-peer", "anti-" of "anti-war": a piece of a word
        words = [t.lower_ for t in entity if t.is_alpha and len(t) > 1]
        if entity.label_ in ("PERSON", "LOCATION"):
            if len(entity[0]) < 2 or any(t.like_num for t in entity):
                return False  # "a 2 mile", "I met"
            if len(words) == 1 and entity.label_ == "PERSON" and not reads_as_a_person(text, entity.start_char, entity.end_char):
                return False
            if len(words) == 1 and words[0] in CALENDAR_WORDS:
                return False  # "September", "Monday": names in the gazetteer, dates in prose
            if len(words) == 1 and entity.label_ == "PERSON" and entity.text.islower() and words[0] not in self.first:
                return False  # lowercase "sales", "golden", "dollar": surnames in the gazetteer, words in prose
            if len(entity) == 1 and entity.label_ == "LOCATION" and entity.text[0].isupper() \
                    and not placed(text, entity.start_char, entity.end_char):
                return False  # "Welcome to ...": a sentence's first word, not a town
            return bool(words) and all(w in self.known for w in words)
        if entity.label_ == "STREET_ADDRESS":
            if _FULL_DATE.search(entity.text):
                return False  # "12 August 2004 that fares would rise": "Rise" and "Pass" are street words too
            return any(t.is_digit for t in entity) and bool(_STREET_WORD.search(entity.text))
        if any(t.like_num for t in entity) and not entity.text.isupper():
            return False  # "March 3rd": a date beside a word that is also a town, not a company
        return entity.text.isupper() or any(w in self.known for w in words)

    def load(self) -> None:
        from privacy.gazetteers import names, places
        from privacy.recognizers.uncased_name import common_words

        self.nlp = trained_pipeline()
        gazetteer = names()
        self.known = (gazetteer.first | gazetteer.last | places().folded) - common_words()
        self.first = gazetteer.first - common_words()

    def analyze(self, text, entities, nlp_artifacts=None):
        if self.nlp is None:
            return []
        results = []
        # the analyzer's batch already ran the trained model over this text with nlp.pipe
        doc = getattr(nlp_artifacts, "trained_doc", None) or self.nlp(text)
        for entity in doc.ents:
            if "\n" in entity.text:  # the next line of a block is not part of the name
                entity = doc.char_span(entity.start_char, entity.start_char + entity.text.index("\n"),
                                       label=entity.label_, alignment_mode="contract")
                if entity is None or not entity.text.strip():
                    continue
            value = entity.text
            if entity.label_ != "STREET_ADDRESS" and not FilteredSpacyRecognizer._plausible(entity.label_, value):
                continue
            if not self._evidence(entity, text):  # Doc.text rebuilds the string on every call
                continue
            start = entity.start_char
            if entity.label_ in NAME_TYPES:  # "billionaire George Soros": the name starts at "George"
                start = name_start(text, start, entity.end_char)
            results.append(RecognizerResult(
                entity.label_, start, entity.end_char, self.SCORE,
                analysis_explanation=AnalysisExplanation(self.name, self.SCORE, textual_explanation="trained NER"),
                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                      RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}))
        return results
