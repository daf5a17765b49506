"""Postcodes and ZIP codes: shapes that are unambiguous (UK, Canada), or digits in a postal position
(after a US state code, before a town name) or next to a context word ("zip", "postcode", "PLZ").
"""

from __future__ import annotations

from presidio_analyzer import Pattern

from privacy.recognizers import register
from privacy.recognizers.span_pattern import SpanPatternRecognizer

_US_STATES = ("AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV"
              "|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR|AA|AE|AP")

# Words before a number that make it a reference, not a postcode ("Invoice 310012", "Booking 224153").
_NOT_A_LABEL = (r"(?!(?i:invoice|booking|order|ticket|ref|no|nr|id|case|claim|account|acct|policy|member|customer"
                r"|room|reference|confirmation|receipt|file)\b)")

# A four-digit year (1800-2099) right after an article, a capitalised "In" or a month: a date in prose
# ("the 1981 Brixton riots", "a 1988 Golden Globe", "In 2004 Apple sold", "March 2006"), where an
# address never puts its postcode.
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
YEAR_IN_PROSE = rf"(?:1[89]|20)\d\d\b(?<=\b(?:[Tt]he|[Aa]n?|In|{_MONTHS})[ \t]\d{{4}})"
_NOT_A_YEAR = rf"(?!{YEAR_IN_PROSE})"

PATTERNS = [
    Pattern("us_zip_after_state", rf"\b(?:{_US_STATES})\.?,?\s{{1,2}}(?P<value>\d{{5}}(?:-\d{{4}})?)\b", 0.7),
    Pattern("zip_plus_four", r"\b\d{5}-\d{4}\b", 0.5),
    Pattern("uk_postcode", r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)\s?\d[A-Z]{2}\b", 0.6),
    Pattern("canada_postcode", r"\b[ABCEGHJ-NPRSTVXY]\d[A-Z]\s?\d[A-Z]\d\b", 0.6),
    Pattern("dutch_postcode", r"\b\d{4}\s?[A-Z]{2}\b(?=\s+[A-Z][a-z])", 0.5),
    # 10115 Berlin, 75008 Paris, 28013 Madrid, D-10115 Berlin; not a year in prose
    Pattern("digits_before_town",
            rf"\b{_NOT_A_YEAR}(?:[A-Z]-)?\d{{4,5}}(?=[ \t]+(?!(?:The|This|It|I|We|My|Please|Thanks|Our|You|Your|He|She|They)\b)"
            r"[A-ZÄÖÜÉ][a-zäöüßéèàç]+)", 0.45),
    # Indian PIN after a town: Hosur, 722248
    Pattern("pin_after_town", rf"\b{_NOT_A_LABEL}[A-Z][\w'-]+,?[ \t]+(?P<value>\d{{6}})\b", 0.45),
    # Kenyan and other East African boxes: "P.O. Box 4-54439" (box number, then the postcode)
    Pattern("postcode_after_box", r"\b(?i:P\.?[ \t]?O\.?[ \t]*Box)[ \t]+\d{1,6}-(?P<value>\d{5})\b", 0.6),
    # digits right after a postal label: "ZIP 373179", "postcode: 1012"
    Pattern("digits_after_label",
            r"(?i:\b(?:zip(?:\s*code)?|postcode|postal\s+code|post\s+code|plz|pin(?:\s*code)?|cp|c\.p\.)"
            r"[\s:#.=-]{1,4}(?:is\s+)?)(?P<value>\d{4,6}(?:-\d{3,4})?)\b", 0.7),
]


@register
class PostcodeRecognizer(SpanPatternRecognizer):
    """ZIP and postal codes; a bare digit run counts only in a postal position or after a label."""

    ENTITY = "ZIP_CODE"
    PATTERNS = PATTERNS
    CONTEXT = ["zip", "postcode", "postal", "plz", "postleitzahl", "código"]
