"""Calendar dates written with a month name or in numeric order ("Sep 16, 2023", "16.09.2023");
spaCy often keeps only part of them ("16, 2023")."""

import regex
from presidio_analyzer import Pattern

from privacy.recognizers import register
from privacy.recognizers.date_of_birth import DATE
from privacy.recognizers.span_pattern import SpanPatternRecognizer


@register
class CalendarDateRecognizer(SpanPatternRecognizer):
    ENTITY = "DATE_TIME"
    PATTERNS = [Pattern("calendar_date", rf"\b{DATE}\b", 0.6)]
    FLAGS = regex.IGNORECASE
