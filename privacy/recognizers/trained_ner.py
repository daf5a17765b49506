"""Airlock's own NER (privacy/ner/), run beside en_core_web_sm: trained on gazetteer names, places,
companies and streets of many countries in mixed casing, it catches what the news-trained small
model misses ("sven lindqvist", "Rua Augusta 88", "NORTHWIND TRADING CO.LTD.").

The model's files are checked against their SHA-256 sums before loading; a missing or altered
model is refused (this recognizer then finds nothing, and `python -m privacy.ner.train` rebuilds it).
"""

from __future__ import annotations

from functools import cache

import regex

from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult

from privacy.recognizers import register
from privacy.recognizers.ner import FilteredSpacyRecognizer
from privacy.recognizers.world_name import reads_as_a_person
from privacy.recognizers.street_address import STREET_SUFFIXES, STREET_WORDS_ABROAD

_STREET_WORD = regex.compile(rf"(?i)(?:\b(?:{STREET_SUFFIXES})\b|{STREET_WORDS_ABROAD})")


@cache
def trained_pipeline():
    """The verified trained pipeline, or None when it is absent or does not match its sums."""
    import spacy

    from privacy.ner.train import MODEL_DIR, verified

    return spacy.load(MODEL_DIR) if verified(MODEL_DIR) else None


@register
class TrainedNerRecognizer(LocalRecognizer):
    """Entities of the trained component, filtered like spaCy's (no field labels) and held to
    spans with gazetteer evidence."""

    SCORE = 0.5

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_entities=["PERSON", "LOCATION", "ORGANIZATION", "STREET_ADDRESS"],
                         supported_language=supported_language, name="TrainedNerRecognizer")

    def _evidence(self, entity) -> bool:
        """A small model trained on templates also tags stray words ("I spoke", "spare parts"):
        a name or place must consist of gazetteer words, a street hold a number and a street
        word, a company be in capitals or hold a gazetteer word."""
        words = [t.lower_ for t in entity if t.is_alpha and len(t) > 1]
        if entity.label_ in ("PERSON", "LOCATION"):
            if len(words) == 1 and entity.label_ == "PERSON" and not reads_as_a_person(entity.doc.text, entity.start_char, entity.end_char):
                return False
            return bool(words) and entity[0].lower_ != "i" and all(w in self.known for w in words)
        if entity.label_ == "STREET_ADDRESS":
            return any(t.is_digit for t in entity) and bool(_STREET_WORD.search(entity.text))
        return entity.text.isupper() or any(w in self.known for w in words)

    def load(self) -> None:
        from privacy.gazetteers import names, places
        from privacy.recognizers.uncased_name import common_words

        self.nlp = trained_pipeline()
        gazetteer = names()
        self.known = (gazetteer.first | gazetteer.last | places().folded) - common_words()

    def analyze(self, text, entities, nlp_artifacts=None):
        if self.nlp is None:
            return []
        results = []
        for entity in self.nlp(text).ents:
            value = entity.text
            if entity.label_ != "STREET_ADDRESS" and not FilteredSpacyRecognizer._plausible(entity.label_, value):
                continue
            if not self._evidence(entity):
                continue
            results.append(RecognizerResult(
                entity.label_, entity.start_char, entity.end_char, self.SCORE,
                analysis_explanation=AnalysisExplanation(self.name, self.SCORE, textual_explanation="trained NER"),
                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                      RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}))
        return results
