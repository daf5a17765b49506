"""Passport and travel document numbers after their label."""

from privacy.recognizers import register
from privacy.recognizers.labelled import LabelledValueRecognizer


@register
class PassportRecognizer(LabelledValueRecognizer):
    ENTITY = "PASSPORT"
    LABELS = r"passport|travel\s+document|reisepass(?:nummer)?|passeport|pasaporte"
    VALUE = r"[A-Z0-9]{6,10}"
    MIN_DIGITS = 3
