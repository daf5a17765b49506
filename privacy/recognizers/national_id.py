"""National identity numbers of many countries, accepted only when their checksum holds
(python-stdnum): Danish CPR, Norwegian fødselsnummer, Swedish personnummer, Finnish HETU, Dutch
BSN, Belgian national number, Polish PESEL, Czech/Slovak birth number, Croatian OIB, Romanian CNP,
Brazilian CPF, Turkish T.C. Kimlik, Icelandic kennitala, Estonian isikukood, Spanish DNI/NIE,
Portuguese NIF. A run of 9+ digits passes some checksum by chance, so a bare run needs a context
word ("CPR", "PESEL", "ID") to reach the threshold; a run in the scheme's own layout does not.
"""

from __future__ import annotations

import importlib

import regex
from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult

from privacy.recognizers import register

SCHEMES = ("dk.cpr", "no.fodselsnummer", "se.personnummer", "fi.hetu", "nl.bsn", "be.nn", "pl.pesel",
           "cz.rc", "hr.oib", "ro.cnp", "br.cpf", "tr.tckimlik", "is_.kennitala", "ee.ik", "es.dni", "es.nie",
           "pt.nif")
_CANDIDATE = regex.compile(r"(?<![\w./-])(?:\d[\d .-]{7,16}[\dA-Z]|[XYZ]-?\d{7}-?[A-Z]|\d{6}[-+A]\d{3}[\dA-Z])(?![\w/-]|\.\d)")
_LAYOUT = regex.compile(r"\d{3}\.\d{3}\.\d{3}-\d{2}|\d{6}[-+A]\d{3}[\dA-Z]|\d{6}/\d{3,4}|\d{8}-?[A-Z]|[XYZ]-?\d{7}-?[A-Z]"
                        r"|\d{2}\.\d{2}\.\d{2}-\d{3}\.\d{2}")


@register
class NationalIdRecognizer(LocalRecognizer):
    """Checksummed national ids; the scheme's own layout scores 0.75, a bare digit run 0.3."""

    CONTEXT = ["id", "identity", "national", "personal", "cpr", "personnummer", "fødselsnummer", "hetu", "bsn",
               "rijksregisternummer", "pesel", "rodné", "oib", "cnp", "cpf", "kimlik", "tc", "kennitala",
               "isikukood", "dni", "nie", "nif", "citizen", "number"]

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_entities=["NATIONAL_ID"], supported_language=supported_language,
                         context=self.CONTEXT, name="NationalIdRecognizer")

    def load(self) -> None:
        self.schemes = [importlib.import_module(f"stdnum.{name}") for name in SCHEMES]

    def analyze(self, text, entities, nlp_artifacts=None):
        results = []
        for match in _CANDIDATE.finditer(text):
            value = match.group()
            if sum(c.isdigit() for c in value) < 9 or not any(self._valid(s, value) for s in self.schemes):
                continue
            score = 0.75 if _LAYOUT.fullmatch(value) else 0.3  # its own layout beats a phone shape (0.7)
            results.append(RecognizerResult(
                "NATIONAL_ID", match.start(), match.end(), score,
                analysis_explanation=AnalysisExplanation(self.name, score, textual_explanation="stdnum checksum"),
                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                      RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}))
        return results

    @staticmethod
    def _valid(scheme, value: str) -> bool:
        try:
            return bool(scheme.is_valid(value))
        except Exception:  # noqa: BLE001 - a scheme that cannot parse the value simply does not apply
            return False
