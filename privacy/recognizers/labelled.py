"""Base for values that are only identifying because of the label in front of them.

"MRN 4455667", "Acct no. 0012-3344", "passport: C01X00T47": the digits alone look like any other
number, the label makes them an identifier. The label stays in the text; only the value is a span.
"""

from __future__ import annotations

import regex
from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult

_SEPARATOR = r"[\s:#=.\-\"']{1,6}"
_FILLER = r"(?:(?:is|was|as|no\.?|nr\.?|num(?:ber)?|id|ref|reads|on|at|n°|nº)(?:\s*[:#.\-]?\s*|\s+))?"


class LabelledValueRecognizer(LocalRecognizer):
    """A value that follows one of LABELS; subclasses set ENTITY, LABELS, VALUE, SCORE, MIN_DIGITS.

    One regex matches label and value together and only the value group becomes the span: a
    look-behind for the label would be tried at every character and costs ten times more.
    """

    ENTITY: str
    LABELS: str
    VALUE = r"[A-Z0-9][A-Z0-9\-/]{2,18}[A-Z0-9]"
    SCORE = 0.7
    MIN_DIGITS = 4

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_entities=[self.ENTITY], supported_language=supported_language,
                         name=type(self).__name__)
        self._regex = regex.compile(
            rf"\b(?:{self.LABELS}){_SEPARATOR}{_FILLER}(?P<value>{self.VALUE})\b", regex.IGNORECASE)

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        results = []
        for match in self._regex.finditer(text):
            value = match.group("value")
            if sum(c.isdigit() for c in value) < self.MIN_DIGITS:
                continue
            results.append(RecognizerResult(
                self.ENTITY, match.start("value"), match.end("value"), self.SCORE,
                analysis_explanation=AnalysisExplanation(self.name, self.SCORE,
                                                         textual_explanation="value after its label"),
                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                      RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}))
        return results
