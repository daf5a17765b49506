"""Names, places, organisations, dates and groups from spaCy's NER, minus its known false hits."""

from __future__ import annotations

import re

import regex

from presidio_analyzer.predefined_recognizers import SpacyRecognizer

from privacy.recognizers import register
from privacy.recognizers.street_address import STREET_SUFFIXES, STREET_WORDS_ABROAD

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
# Titles and verbs the small model takes into a name ("Herr Oksanen", "Seen Kiss András").
_TITLES = frozenset("mr mrs ms miss mx dr prof herr frau fru hr sr sra srta mme mlle dott sig pt seen".split())
NAME_TYPES = ("PERSON", "LOCATION", "ORGANIZATION", "NRP")  # types whose spans start where the name does (`name_start`)
# Words that open a name's span but are never part of the name ("the Bank of Israel", "of Ireland").
_FUNCTION_WORDS = frozenset("the a an of in on at for from to by with and or his her its their our my your this that"
                           .split())
# Lowercase particles inside names: kept at a span's start ("van Dijk", "de Gaulle", "bin Laden").
_PARTICLES = frozenset("van von de der den da di du del della des la le al el bin ibn abu ter ten dos das mac st"
                       .split())
_STREET_WORD = regex.compile(rf"(?i)(?:{STREET_SUFFIXES})\b|{STREET_WORDS_ABROAD}")  # "rue Timothée Bodin"
_EDGE_WORD = re.compile(r"[^\W\d_][\w'’-]*\.?")


def trim_to_line(text: str, result):
    """A span of a statistical model ends at its first line break: the small model reads a block's
    next line as part of the name ("Ibrahim Joseph\nPayment", "Valby\nDenmark\nFragile")."""
    cut = text.find("\n", result.start, result.end)
    if cut != -1:
        result.end = len(text[:cut].rstrip())
    return result


def trim_person(text: str, result):
    """A person span without the titles and everyday words (that are nobody's name) at its edges;
    nothing left when it holds only such words, or is a field label ("Bill to:", "Arrival")."""
    words = list(_EDGE_WORD.finditer(text, result.start, result.end))
    while words and _not_a_name(words[0].group()):
        words.pop(0)
    while words and _not_a_name(words[-1].group()):
        words.pop()
    if not words or (len(words) == 1 and _LABEL_AFTER.match(text, words[0].end())):
        result.end = result.start
    else:
        result.start, result.end = words[0].start(), words[-1].end()
    return result


def trim_lead(text: str, result):
    """`result` starting where its name starts (`name_start`)."""
    result.start = name_start(text, result.start, result.end)
    return result


def name_start(text: str, start: int, end: int) -> int:
    """Where a name in cased text starts: at its first capitalised word, past the lowercase words the
    small models take in before it ("the European Union", "won France", "billionaire George Soros").
    Only function words and words that are nobody's first name are passed over, never a name particle
    ("van Dijk"), a street word ("rue Timothée Bodin"), a number ("the 10 Downing Street") or a span
    written all in lowercase (uncased text, where a name is lowercase too)."""
    words = list(_EDGE_WORD.finditer(text, start, end))
    lead = 0
    while lead < len(words) - 1 and words[lead].group().islower() and _before_a_name(words[lead].group()):
        lead += 1
    if lead and words[lead].group()[:1].isupper() and not any(c.isdigit() for c in text[start:words[lead].start()]):
        return words[lead].start()
    return start


def _before_a_name(word: str) -> bool:
    from privacy.gazetteers import names

    folded = word.rstrip(".")
    if folded in _FUNCTION_WORDS:
        return True
    return folded not in names().first and folded not in _PARTICLES and not _STREET_WORD.match(f"{folded} ")


def _opens_a_sentence(text: str, result) -> bool:
    """One unknown capitalised word opening a sentence of prose ("Breakfast included", "Contact
    +32 ..."): the small model's place there is a misread."""
    from privacy.gazetteers import places
    from privacy.recognizers.world_place import placed

    value = text[result.start:result.end]
    return " " not in value and value.casefold() not in places().folded and not placed(text, result.start, result.end)


def _unit_of_a_number(text: str, result) -> bool:
    """A lowercase word glued to the number before it ("$280bn", "10kg") is its unit, not a name."""
    return result.start > 0 and text[result.start - 1].isdigit() and text[result.start:result.end].islower()


_LABEL_AFTER = re.compile(r"(?:[ \t]+to)?[ \t]*:")


def _not_a_name(word: str) -> bool:
    from privacy.gazetteers import names
    from privacy.recognizers.uncased_name import common_words

    folded = word.rstrip(".").casefold()
    if folded in _TITLES or folded in LABEL_WORDS:
        return True
    return folded in common_words() and folded not in names().first and folded not in names().last


@register
class FilteredSpacyRecognizer(SpacyRecognizer):
    """spaCy NER results, dropping spans made of field labels and dates without a calendar anchor.

    A date counts when it has a month name, a year or a numeric date: "yesterday", "20 minutes",
    "two weeks" or a bare year identify nobody, and redacting them costs readability. Field names
    ("customer_id") are labels too.
    """

    ENTITIES = ["PERSON", "LOCATION", "ORGANIZATION", "DATE_TIME", "NRP"]

    def analyze(self, text, entities, nlp_artifacts=None):
        results = [trim_to_line(text, r) for r in super().analyze(text, entities, nlp_artifacts)]
        results = [trim_person(text, r) if r.entity_type == "PERSON" else r for r in results]
        results = [trim_lead(text, r) if r.entity_type in NAME_TYPES else r for r in results]
        return [r for r in results if r.end > r.start and self._plausible(r.entity_type, text[r.start:r.end])
                and not (r.entity_type == "LOCATION" and _opens_a_sentence(text, r))
                and not (r.entity_type != "DATE_TIME" and _unit_of_a_number(text, r))]

    @staticmethod
    def _plausible(entity_type: str, value: str) -> bool:
        if entity_type == "DATE_TIME":
            return bool(_MONTH.search(value) or _CALENDAR_DIGITS.search(value)) and not _BARE_YEAR.fullmatch(value)
        words = [w.lower() for w in _TOKEN.findall(value)]
        return bool(words) and not any(w in LABEL_WORDS or "_" in w for w in words)
