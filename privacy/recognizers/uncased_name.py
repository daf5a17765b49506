"""Person names written in lowercase or capitals ("spoke to maria garcia", "PATIENT: JOHN SMITH").

spaCy's NER relies on capitalisation, so it misses them. Tokens found in Faker's locale name lists
are title-cased in a same-length copy of the text and only that copy gets a second NER pass; texts
without such tokens cost nothing extra. A first-name + surname pair counts even without NER.
"""

from __future__ import annotations

import importlib
from functools import cache

import regex
from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
from spacy.lang.en.stop_words import STOP_WORDS

from privacy.recognizers import register

GAZETTEER_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "nl_NL")
# Names that are everyday words too: never candidates ("i will mark the bill").
_EVERYDAY = frozenset("""
will may mark bill grant rose june hope faith joy summer amber crystal ray dean hunter chase guy
jack frank art don sue pat gene rob sandy dawn page long young king white brown green black hall
wood bell hill park lane street baker cook hunt ward fox price rich love star sky case
weeks days months years hours minutes today monday friday sunday morning evening night
mom mum dad sis bro babe guys team everyone all sir madam haha lol bye ok okay yes yeah hey thx
said told asked met wrote called
""".split())
WINDOW = 80  # characters of context on each side of a candidate for the second NER pass
_WORD = regex.compile(r"\b[^\W\d_][\w'’-]*\b")


@cache
def name_lists() -> tuple[frozenset[str], frozenset[str]]:
    """Casefolded first names and surnames of Faker's locales (built once per process)."""
    firsts: set[str] = set()
    lasts: set[str] = set()
    for locale in GAZETTEER_LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female"):
            firsts.update(n.casefold() for n in getattr(provider, attr, ()))
        lasts.update(n.casefold() for n in getattr(provider, "last_names", ()))
    return frozenset(firsts), frozenset(lasts)


@cache
def common_words() -> frozenset[str]:
    """Everyday English words that must never be taken for a name on their own."""
    from faker.providers.lorem.en_US import Provider as Lorem

    return frozenset(w.casefold() for w in Lorem.word_list) | STOP_WORDS | _EVERYDAY


def _windows(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merged stretches of `text` around `spans`, cut at line breaks: the NER input stays short."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        left = max(text.rfind("\n", 0, start) + 1, start - WINDOW)
        right = text.find("\n", end)
        right = min(len(text) if right == -1 else right, end + WINDOW)
        if merged and left <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], right))
        else:
            merged.append((left, right))
    return merged


@register
class UncasedNameRecognizer(LocalRecognizer):
    """Lowercase or all-caps names: gazetteer candidates confirmed by NER on a case-restored copy."""

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_entities=["PERSON"], supported_language=supported_language,
                         name="UncasedNameRecognizer")

    def load(self) -> None:
        self.first_names, self.last_names = name_lists()
        self.common = common_words()

    def analyze(self, text, entities, nlp_artifacts=None):
        if nlp_artifacts is None or nlp_artifacts.nlp_engine is None:
            return []
        candidates = [m for m in _WORD.finditer(text) if self._candidate(m.group())]
        if not candidates:
            return []
        restored = list(text)
        for m in candidates:
            titled = m.group().capitalize()
            if len(titled) == len(m.group()):
                restored[m.start():m.end()] = titled
        restored_text = "".join(restored)
        windows = _windows(text, [(m.start(), m.end()) for m in candidates])
        nlp = nlp_artifacts.nlp_engine.get_nlp(self.supported_language)
        results = []
        for (offset, _), doc in zip(windows, nlp.pipe(restored_text[a:b] for a, b in windows)):
            for entity in doc.ents:
                if entity.label_ not in ("PERSON", "PER"):
                    continue
                start, end = offset + entity.start_char, offset + entity.end_char
                inside = [m.group().casefold() for m in candidates if m.start() < end and start < m.end()]
                # a lone surname ("branch", "weeks") is too often a word; a first name is not
                if len(inside) > 1 or any(word in self.first_names for word in inside):
                    results.append(self._result(start, end, 0.8))
        for first, last in zip(candidates, candidates[1:]):
            if (text[first.end():last.start()] == " " and first.group().casefold() in self.first_names
                    and last.group().casefold() in self.last_names):
                results.append(self._result(first.start(), last.end(), 0.6))
        return results

    def _candidate(self, word: str) -> bool:
        if not (word.islower() or (word.isupper() and len(word) > 1)):
            return False
        folded = word.casefold()
        return ((folded in self.first_names or folded in self.last_names)
                and folded not in self.common and len(folded) > 2)

    def _result(self, start: int, end: int, score: float) -> RecognizerResult:
        explanation = AnalysisExplanation(self.name, score, textual_explanation="case-restored NER / gazetteer")
        return RecognizerResult("PERSON", start, end, score, analysis_explanation=explanation, recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id})
