"""Names, places, organisations, dates and groups from spaCy's NER, minus its known false hits."""

from __future__ import annotations

import re

from presidio_analyzer.predefined_recognizers import SpacyRecognizer

from privacy.recognizers import register

# Field labels and acronyms the small model tags as ORG/PERSON/GPE ("SSN", "IBAN", "MRN", "Visa").
LABEL_WORDS = frozenset("""
ssn iban mrn dob id ids visa mastercard amex email e-mail phone tel fax mobile cell zip postcode
acct account passport nhs ni nino npi dea pin otp url ip vat tax bic swift sort code ref
patient pt dr mr mrs ms miss prof hr it ceo cfo cto vp rn md er icu ct mri ecg ekg bp hba1c
subject re fwd cc bcc hi hello dear thanks regards ticket case claim policy member invoice order
name customer client employee employer mail social security ed er eur usd gbp chf please status
addr attn nok gp guest date birth sra sr str
""".split())
_BARE_YEAR = re.compile(r"\W*(?:19|20)\d{2}\W*")
_MONTH = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\b", re.I)
_CALENDAR_DIGITS = re.compile(r"\b(?:19|20)\d{2}\b|\d{1,4}[./-]\d{1,2}")
_TOKEN = re.compile(r"[\w'-]+")


@register
class FilteredSpacyRecognizer(SpacyRecognizer):
    """spaCy NER results, dropping spans made of field labels and dates without a calendar anchor.

    A date counts when it has a month name, a year or a numeric date: "yesterday", "20 minutes",
    "two weeks" or a bare year identify nobody, and redacting them costs readability. Field names
    ("customer_id") are labels too.
    """

    ENTITIES = ["PERSON", "LOCATION", "ORGANIZATION", "DATE_TIME", "NRP"]

    def analyze(self, text, entities, nlp_artifacts=None):
        return [r for r in super().analyze(text, entities, nlp_artifacts)
                if self._plausible(r.entity_type, text[r.start:r.end])]

    @staticmethod
    def _plausible(entity_type: str, value: str) -> bool:
        if entity_type == "DATE_TIME":
            return bool(_MONTH.search(value) or _CALENDAR_DIGITS.search(value)) and not _BARE_YEAR.fullmatch(value)
        words = [w.lower() for w in _TOKEN.findall(value)]
        return bool(words) and not any(w in LABEL_WORDS or "_" in w for w in words)
