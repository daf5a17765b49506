"""Values of named fields inside free text: "Name: KALA BOSE", "customer=DMITRI VOLKOV;",
`"patient": "Adam Campbell"`, "Employer: Klemt", and the cells under a CSV-like header line
("name,email,phone,city" then one row per line).
"""

from __future__ import annotations

import regex
from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
from spacy.lang.en.stop_words import STOP_WORDS

from privacy.recognizers import register

# Field names (casefolded; "_" and "-" read as spaces) and the entity type of their value.
FIELDS = {
    "PERSON": ("name", "full name", "first name", "last name", "surname", "given name", "patient",
               "patient name", "customer", "customer name", "client", "client name", "employee",
               "contact", "person", "insured", "policyholder", "account holder", "cardholder",
               "emergency contact", "next of kin", "nok", "guest", "recipient", "attn", "spouse", "passenger"),
    "LOCATION": ("city", "town", "place of birth", "birthplace"),
    "STREET_ADDRESS": ("address", "street", "street address", "home address", "residence"),
    "ORGANIZATION": ("employer", "company", "organisation", "organization", "insurer", "insurance",
                     "bank", "hospital", "clinic", "bill to", "sold to", "consignee"),
    "ZIP_CODE": ("zip", "zip code", "zipcode", "postcode", "postal code", "post code", "plz"),
}
ENTITY_OF_FIELD = {name: entity for entity, names in FIELDS.items() for name in names}
_KEYS = "|".join(sorted((regex.escape(n).replace(r"\ ", r"[ _-]") for n in ENTITY_OF_FIELD), key=len, reverse=True))
_KEY_VALUE = regex.compile(
    rf"""(?:^|(?<=[\s;|,{{]))["']?(?P<key>{_KEYS})["']?[ \t]*[:=][ \t]*"""
    rf"""(?:"(?P<quoted>[^"\n]{{1,80}})"|(?P<value>[^\s;|"{{}}][^\n;|"{{}}]{{0,80}}?))[ \t]*(?=[\n;|}}]|$)""",
    regex.IGNORECASE | regex.MULTILINE,
)
_DELIMITERS = (",", ";", "\t", "|")
_COMMA_FIELDS = ("PERSON", "STREET_ADDRESS")  # "O'Connor, Siobhan"; "12 Main St, Springfield"
MAX_WORDS = 8
MAX_NAME_WORDS = 5
_PARTICLES = frozenset("de da do dos das del della di van von der den le la du bin al el y e".split())


def _prose(value: str) -> bool:
    """Words of a sentence (or an address) rather than a name: a function word that is no name
    particle, only everyday words ("thx bye"), a digit, or more words than a name has."""
    words = [w.casefold() for w in regex.findall(r"[^\W\d_][\w'’-]*", value)]
    from privacy.recognizers.uncased_name import common_words

    return len(words) > MAX_NAME_WORDS or any(c.isdigit() for c in value) or all(w in common_words() for w in words) \
        or any(w in STOP_WORDS and w not in _PARTICLES for w in words)


def _field(cell: str) -> str | None:
    return ENTITY_OF_FIELD.get(regex.sub(r"[_-]+", " ", cell.strip().strip("\"'").casefold()))


@register
class FieldValueRecognizer(LocalRecognizer):
    """The value next to a field name, or the cell under a header, takes the field's entity type."""

    SCORE = 0.6

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_entities=sorted(FIELDS), supported_language=supported_language,
                         name="FieldValueRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        spans = list(self._key_values(text)) + list(self._table_cells(text))
        return [self._result(entity, start, end) for entity, start, end in spans
                if entity in entities and any(c.isalnum() for c in text[start:end])]

    @staticmethod
    def _key_values(text: str):
        for match in _KEY_VALUE.finditer(text):
            group = "quoted" if match.group("quoted") is not None else "value"
            entity = _field(match.group("key"))
            value = match.group(group)
            if entity and value.strip():
                if "," in value and (entity not in _COMMA_FIELDS or len(value.split()) > MAX_WORDS):
                    value = value[:value.index(",")]  # the rest is another field or prose
                if entity == "PERSON":
                    value = value.split("(")[0]  # "NOK: Alex (spouse), tel. ..."
                    if _prose(value) or not value.strip():
                        continue  # "customer: ok so what now" is a speaker's line, not a name
                yield entity, match.start(group), match.start(group) + len(value.rstrip())

    @staticmethod
    def _table_cells(text: str):
        """Rows under a header line whose cells include a known field name."""
        lines, offset = [], 0
        for line in text.split("\n"):
            lines.append((offset, line))
            offset += len(line) + 1
        columns: list[str | None] | None = None
        delimiter = None
        for start, line in lines:
            if columns is not None and delimiter in line and line.count(delimiter) == len(columns) - 1:
                position = start
                for entity, cell in zip(columns, line.split(delimiter)):
                    stripped = cell.strip()
                    if entity and stripped:
                        left = position + cell.index(stripped)
                        yield entity, left, left + len(stripped)
                    position += len(cell) + 1
                continue
            columns = None
            for candidate in _DELIMITERS:
                cells = line.split(candidate)
                if len(cells) > 1 and all(regex.fullmatch(r"\s*[\w \-]{1,30}\s*", c) for c in cells):
                    fields = [_field(c) for c in cells]
                    if any(fields):
                        columns, delimiter = fields, candidate
                        break

    def _result(self, entity: str, start: int, end: int) -> RecognizerResult:
        return RecognizerResult(entity, start, end, self.SCORE,
                                analysis_explanation=AnalysisExplanation(self.name, self.SCORE,
                                                                         textual_explanation="named field"),
                                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                                      RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id})
