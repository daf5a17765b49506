"""Administrative areas written by their place in an address: state and region codes beside a town
and its postcode ("Blacktown TAS 5738", "Bariri - MG", "57976 Acámbaro, HGO"), Mexican colonias
("Col. San Rafael") and Vietnamese units ("Thành phố Đà Nẵng", "quận 3"). Full region names are in
the gazetteer (privacy/gazetteers.py); the codes are too short to match on their own.
"""

from __future__ import annotations

from presidio_analyzer import Pattern

from privacy.recognizers import register
from privacy.recognizers.span_pattern import SpanPatternRecognizer

PATTERNS = [
    # between a town and its postcode, after a town and a dash, closing a line of postcode and town
    Pattern("region_code_before_postcode", r"\b[A-ZÀ-Ý][\w'’-]+[ \t]+(?P<value>[A-Z]{2,3})[ \t]+\d{4,5}\b", 0.5),
    Pattern("region_code_after_dash", r"\b[A-ZÀ-Ý][\w'’-]+[ \t]+-[ \t]+(?P<value>[A-Z]{2})\b(?=[ \t]*(?:,|\n|$))", 0.5),
    Pattern("region_code_closing_line", r"(?<=\b\d{4,5}[ \t][^\n,]{2,40}),[ \t]*(?P<value>[A-Z]{2,4})(?=[ \t]*(?:\n|$))", 0.5),
    Pattern("colonia", r"\bCol\.[ \t]+(?P<value>[^\W\d_][^\n,;|]{1,40}?)(?=[ \t]*(?:[,\n;|]|$))", 0.5),
    Pattern("vietnamese_unit",
            r"(?i:\b(?:thành phố|thị trấn|thị xã|xã|quận|huyện|phường|tỉnh))[ \t]+[^\W\d_][^\n,.;|]{1,30}?(?=[ \t]*(?:[,\n.;|]|$))", 0.5),
]


@register
class AdministrativeAreaRecognizer(SpanPatternRecognizer):
    """Regions, colonias and districts located by the address around them."""

    ENTITY = "LOCATION"
    PATTERNS = PATTERNS
