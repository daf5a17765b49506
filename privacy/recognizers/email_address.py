"""Email addresses, with the domain checked against tldextract's bundled suffix list only."""

from presidio_analyzer.predefined_recognizers import EmailRecognizer
from tldextract import TLDExtract

from privacy.recognizers import register


@register
class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's email recognizer minus its first-use download of the Public Suffix List."""

    def __init__(self, **kwargs):
        self._tld = TLDExtract(suffix_list_urls=(), cache_dir=None)
        super().__init__(**kwargs)

    def load(self) -> None:
        self._tld("example.com")  # builds the suffix trie now, not inside the first record

    def validate_result(self, pattern_text: str) -> bool:
        return self._tld(pattern_text).fqdn != ""
