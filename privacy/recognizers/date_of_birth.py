"""Dates of birth: a date after "DOB", "date of birth", "born", "geb.", "né le"."""

from privacy.recognizers import register
from privacy.recognizers.labelled import LabelledValueRecognizer

_MONTH = (r"(?:jan(?:uary|uar|vier)?|feb(?:ruary|ruar|rero)?|f[ée]vrier|mar(?:ch|s|zo)?|m[äa]rz"
          r"|apr(?:il)?|avril|abril|may|mai|mayo|june?|juni|juin|junio|july?|juli|juillet|julio"
          r"|aug(?:ust)?|ao[uû]t|agosto|sep(?:t(?:ember)?)?|septembre|septiembre|oct(?:ober)?|oktober"
          r"|octobre|octubre|nov(?:ember)?|novembre|noviembre|dec(?:ember)?|dezember|d[ée]cembre"
          r"|diciembre|enero|janvier)\.?")
# A calendar date in the usual written orders; calendar_date uses it too.
DATE = (r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}"
        rf"|\d{{1,2}}(?:st|nd|rd|th|\.)?\s+(?:of\s+|de\s+)?{_MONTH},?\s+(?:de\s+)?\d{{4}}"
        rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})")


@register
class DateOfBirthRecognizer(LabelledValueRecognizer):
    ENTITY = "DATE_OF_BIRTH"
    LABELS = (r"dob|d\.o\.b\.?|date\s+of\s+birth|birth\s*date|birthday|born(?:\s+on)?"
              r"|geb\.|geboren(?:\s+am)?|geburtsdatum|n[ée]e?\s+le|date\s+de\s+naissance"
              r"|fecha\s+de\s+nacimiento|nacid[oa]\s+el")
    VALUE = DATE
    SCORE = 0.85
    MIN_DIGITS = 2
