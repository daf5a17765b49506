"""Base for regex recognizers whose span is a named part of the match.

`(?P<value>...)` marks the part that is PII; the rest of the regex is the cue around it ("address
is", a state code, a postcode). Consuming the cue instead of looking behind for it keeps the regex
engine from re-trying the cue at every character.
"""

from __future__ import annotations

import regex
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, LocalRecognizer, Pattern, RecognizerResult


class SpanPatternRecognizer(LocalRecognizer):
    """Subclasses set ENTITY, PATTERNS, CONTEXT and FLAGS; `invalidate` may veto a value."""

    ENTITY: str
    PATTERNS: list[Pattern]
    CONTEXT: list[str] = []
    FLAGS = regex.DOTALL | regex.MULTILINE

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_entities=[self.ENTITY], supported_language=supported_language,
                         name=type(self).__name__, context=list(self.CONTEXT) or None)
        self._compiled = [(p, regex.compile(p.regex, self.FLAGS)) for p in self.PATTERNS]

    def load(self) -> None:
        pass

    def invalidate(self, value: str) -> bool:
        return False

    def invalidate_match(self, pattern_name: str, value: str) -> bool:
        """`invalidate`, for recognizers whose veto depends on the pattern that matched."""
        return self.invalidate(value)

    def analyze(self, text, entities, nlp_artifacts=None):
        results = []
        for pattern, compiled in self._compiled:
            has_group = "value" in compiled.groupindex
            for match in compiled.finditer(text):
                start, end = match.span("value") if has_group else match.span()
                if start == end or self.invalidate_match(pattern.name, text[start:end]):
                    continue
                results.append(RecognizerResult(
                    self.ENTITY, start, end, pattern.score,
                    analysis_explanation=AnalysisExplanation(self.name, pattern.score, pattern_name=pattern.name,
                                                             pattern=pattern.regex),
                    recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                          RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}))
        return EntityRecognizer.remove_duplicates(results)
