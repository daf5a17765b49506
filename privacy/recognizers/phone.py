"""Phone numbers in national and international formats, extensions included (593.964.3900x84745)."""

from __future__ import annotations

import phonenumbers
import regex
from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult

from privacy.recognizers import register

# A run of digits with phone separators, optionally an extension; phonenumbers then decides.
_CANDIDATE = regex.compile(
    r"(?<![\w+/-])(?:\+|00)?\(?\d[\d\s().\-/]{5,20}\d"
    # a label glued on after it ("-Office", "/WhatsApp") ends the number; another digit does not
    r"(?:\s?(?:x|ext\.?|extension|#)\s?\d{1,6})?(?!\w|[/-]\d)",
    regex.IGNORECASE,
)
_DATE_LIKE = regex.compile(r"^\d{1,4}([./-])\d{1,2}\1\d{1,4}$")
_EXTENSION = regex.compile(r"\s?(?:x|ext\.?|extension|#)\s?\d{1,6}$", regex.IGNORECASE)


@register
class InternationalPhoneRecognizer(LocalRecognizer):
    """Checks each phone-shaped candidate against several regions with `phonenumbers`.

    Separated or `+`-prefixed candidates that are possible numbers score 0.7; a bare digit run 0.5
    when it is a valid number of some region, else 0.3, so it needs a context word ("phone", "call")
    to pass the threshold: a bare 8-digit run is as often an account or record number.
    """

    REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "BR", "IN", "AU", "CA", "IE", "CH", "AT", "MX")
    CONTEXT = ["phone", "telephone", "call", "mobile", "cell", "fax", "contact", "reach", "dial",
               "whatsapp", "landline", "handy", "telefon", "téléphone", "teléfono"]

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_entities=["PHONE_NUMBER"], supported_language=supported_language,
                         context=self.CONTEXT, name="InternationalPhoneRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        results = []
        for match in _CANDIDATE.finditer(text):
            candidate = match.group().rstrip(" .")
            digits = sum(c.isdigit() for c in _EXTENSION.sub("", candidate))
            if not 7 <= digits <= 15 or _DATE_LIKE.match(candidate):
                continue
            validity = self._validity(candidate, self.REGIONS) or self._validity(candidate, self._named_regions(text))
            if not validity:
                continue
            separated = candidate[0] in "+(" or any(c in candidate for c in " .-()")
            score = 0.7 if separated else (0.5 if validity == 2 else 0.3)
            results.append(RecognizerResult(
                "PHONE_NUMBER", match.start(), match.start() + len(candidate), score,
                analysis_explanation=AnalysisExplanation(self.name, score, textual_explanation="phonenumbers"),
                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                      RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id},
            ))
        return results

    @staticmethod
    def _named_regions(text: str) -> tuple[str, ...]:
        """Regions of the countries and towns the text names ("Arendal", "Polska"): a national
        number without its country code is valid only in its own country's plan."""
        from privacy.gazetteers import regions_named

        return regions_named(text)

    @staticmethod
    def _validity(candidate: str, regions) -> int:
        """2: a valid number of some region; 1: only a possible one; 0: neither."""
        best = 0
        if candidate.startswith("+"):
            regions = regions[:1]  # the number carries its country code: any region reads it the same
        for region in regions:
            try:
                number = phonenumbers.parse(candidate, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                return 2
            if phonenumbers.is_possible_number(number):
                best = 1
        return best
