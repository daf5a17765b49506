"""Base for values that are only identifying because of the label in front of them.

"MRN 4455667", "Acct no. 0012-3344", "passport: C01X00T47": the digits alone look like any other
number, the label makes them an identifier. The label stays in the text; only the value is a span.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

_SEPARATOR = r"(?:\s*[:#=.\-]\s*|\s+)"
_FILLER = r"(?:(?:is|was|no\.?|nr\.?|num(?:ber)?|id|ref|reads|on|at|n°|nº)(?:\s*[:#.\-]?\s*|\s+))?"


class LabelledValueRecognizer(PatternRecognizer):
    """A value that follows one of LABELS; subclasses set ENTITY, LABELS, VALUE, SCORE, MIN_DIGITS."""

    ENTITY: str
    LABELS: str
    VALUE = r"[A-Z0-9][A-Z0-9\-/]{2,18}[A-Z0-9]"
    SCORE = 0.7
    MIN_DIGITS = 4

    def __init__(self, supported_language: str = "en"):
        regex = rf"(?<=\b(?:{self.LABELS}){_SEPARATOR}{_FILLER}){self.VALUE}\b"
        super().__init__(
            supported_entity=self.ENTITY,
            name=type(self).__name__,
            supported_language=supported_language,
            patterns=[Pattern(f"{self.ENTITY.lower()}_after_label", regex, self.SCORE)],
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        return sum(c.isdigit() for c in pattern_text) < self.MIN_DIGITS
