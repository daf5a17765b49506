"""Presidio's own recognizers that Airlock keeps: checksummed or unambiguous formats.

Left out on purpose: Presidio's phone, email, URL and spaCy recognizers (Airlock has its own:
offline, or cheaper — Presidio's URL regex alone cost a third of the analysis time) and the loose
country formats (US driver licence, bank and passport numbers) that fire on any digit run.
"""

from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    CryptoRecognizer,
    DateRecognizer,
    IbanRecognizer,
    IpRecognizer,
    MacAddressRecognizer,
    MedicalLicenseRecognizer,
    NhsRecognizer,
    UkNinoRecognizer,
    UsItinRecognizer,
    UsSsnRecognizer,
)

from privacy.recognizers import register

for _cls in (CreditCardRecognizer, CryptoRecognizer, DateRecognizer, IbanRecognizer, IpRecognizer,
             MacAddressRecognizer, MedicalLicenseRecognizer, NhsRecognizer, UkNinoRecognizer,
             UsItinRecognizer, UsSsnRecognizer):
    register(_cls)
