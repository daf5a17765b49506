"""Calendar dates written with a month name or in numeric order ("Sep 16, 2023", "16.09.2023"),
and month-day dates without a year ("Jul 07", "3rd March"); spaCy often keeps only part of them
("16, 2023"), misses them, or calls them LOCATION."""

import regex
from presidio_analyzer import Pattern

from privacy.recognizers import register
from privacy.recognizers.date_of_birth import DATE
from privacy.recognizers.span_pattern import SpanPatternRecognizer

# Without a year a lowercase "may 5" or "mar 3" is too often not a date: the month must be capitalized.
_MONTH_NAME = (r"(?-i:(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?|January|February|March"
               r"|April|May|June|July|August|September|October|November|December)")
_DAY = r"(?:[0-2]?\d|3[01])(?:st|nd|rd|th)?(?!\d|[:.,]\d)"


@register
class CalendarDateRecognizer(SpanPatternRecognizer):
    ENTITY = "DATE_TIME"
    PATTERNS = [Pattern("calendar_date", rf"\b{DATE}\b", 0.6),
                Pattern("month_day", rf"\b(?:{_MONTH_NAME}\s+{_DAY}|{_DAY}\s+(?:of\s+)?{_MONTH_NAME})\b", 0.6)]
    FLAGS = regex.IGNORECASE
