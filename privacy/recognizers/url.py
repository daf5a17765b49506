"""Web addresses: a scheme or `www.`, or a domain followed by a path."""

import regex
from presidio_analyzer import Pattern, PatternRecognizer

from privacy.recognizers import register

PATTERNS = [
    Pattern("scheme_or_www", r"\b(?:https?://|ftp://|www\.)[^\s<>\"'()\[\]{}|]+[^\s<>\"'()\[\]{}|.,;:!?]", 0.6),
    Pattern("domain_with_path", r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/[^\s<>\"'()\[\]{}|]*[^\s<>\"'()\[\]{}|.,;:!?]",
            0.5),
]


@register
class UrlPatternRecognizer(PatternRecognizer):
    """URLs, which may carry names or account ids in their path or query."""

    def __init__(self, supported_language: str = "en"):
        super().__init__(
            supported_entity="URL",
            name="UrlPatternRecognizer",
            supported_language=supported_language,
            patterns=[Pattern(p.name, p.regex, p.score) for p in PATTERNS],
            global_regex_flags=regex.IGNORECASE,
        )
