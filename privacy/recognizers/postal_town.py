"""Towns in postal positions: after a 5-digit postcode (10115 Berlin), before a UK, US or Indian
postcode (Leeds LS1 4AP; Austin, TX 78701; Pune 411001), after a street line, or after a moving
cue in any case ("i moved to huesca"). spaCy misses most small or generated town names.
"""

from __future__ import annotations

from presidio_analyzer import Pattern

from privacy.recognizers import register
from privacy.recognizers.ner import LABEL_WORDS
from privacy.recognizers.span_pattern import SpanPatternRecognizer
from privacy.recognizers.street_address import STREET_SUFFIXES

_TOWN_WORD = r"(?:[A-ZÀ-Ý][\w'’]*(?:-(?:[a-zà-ý]{1,4}-)?[A-ZÀ-Ý]?[\w'’]+)*)"
_LINK = r"(?:[ \t]+(?:am|an|der|de|del|di|la|le|sur|en|upon|on|im)[ \t]+|[ \t]+)"
_NOT_A_TOWN = (r"(?!(?i:the|a|an|another|other|some|any|each|every|its|my|your|our|his|her|their|this|that|it"
               r"|there|here|last|next|new|with|and|to"
               r"|please|thanks|i|we|you|he|she|they|two-factor|invoice|booking|order|ticket|ref|receipt)\b)")
_TOWN = rf"\b{_NOT_A_TOWN}{_TOWN_WORD}(?:{_LINK}{_TOWN_WORD}){{0,2}}"
_UK_POSTCODE = r"(?:[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})"
_STREET_END = rf"(?:{STREET_SUFFIXES})\.?"
_MOVE_CUE = (r"(?i:moved\s+to|move\s+to|moving\s+to|relocated\s+to|lives?\s+in|living\s+in|based\s+in"
             r"|born\s+in|treated\s+at\s+[^\n,.]{2,60}?\s+in|from\s+the\s+town\s+of)")

PATTERNS = [
    Pattern("town_after_postcode", rf"\b(?:[A-Z]-)?\d{{5}}[ \t]+(?P<value>{_TOWN})", 0.55),
    Pattern("town_before_uk_postcode", rf"{_TOWN}(?=,?\s+{_UK_POSTCODE}\b)", 0.55),
    Pattern("town_before_us_state_zip", rf"{_TOWN}(?=,\s*[A-Z]{{2}}\s+\d{{5}}\b)", 0.6),
    Pattern("town_before_pin", rf"{_TOWN}(?=,?\s+\d{{6}}\b)", 0.5),
    Pattern("town_after_street_line",
            rf"\b{_STREET_END}(?:[ \t]+(?:Apt\.?|Suite|Unit|Flat)[ \t]*\w+)?,[ \t]+(?P<value>{_TOWN})(?=[ \t]*(?:,|\n|$|\.|[ \t]+\d))", 0.5),
    Pattern("town_after_move_cue", rf"\b{_MOVE_CUE}\s+{_NOT_A_TOWN}(?P<value>{_TOWN}|[^\W\d_][\w'’-]+)", 0.5),
]


@register
class PostalTownRecognizer(SpanPatternRecognizer):
    """Town names located by the postal structure around them rather than by a gazetteer."""

    ENTITY = "LOCATION"
    PATTERNS = PATTERNS

    def invalidate(self, value: str) -> bool:
        return value.casefold() in LABEL_WORDS
