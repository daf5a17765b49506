"""Payment card numbers of 13 to 19 digits (2-series Mastercard and 19-digit Visa included),
spaced or dashed, accepted only when the Luhn checksum holds."""

from presidio_analyzer import Pattern, PatternRecognizer

from privacy.recognizers import register


@register
class PaymentCardRecognizer(PatternRecognizer):
    CONTEXT = ["card", "credit", "debit", "visa", "mastercard", "amex", "payment"]

    def __init__(self, supported_language: str = "en"):
        super().__init__(
            supported_entity="CREDIT_CARD",
            name="PaymentCardRecognizer",
            supported_language=supported_language,
            patterns=[Pattern("card_digits", r"\b(?:\d[ -]?){12,18}\d\b", 0.3)],
            context=self.CONTEXT,
        )

    def validate_result(self, pattern_text: str) -> bool:
        digits = [int(c) for c in pattern_text if c.isdigit()]
        checksum = sum(digits[-1::-2]) + sum(sum(divmod(2 * d, 10)) for d in digits[-2::-2])
        return checksum % 10 == 0
