"""What every Airlock operator shares: the keyed context it runs under.

Presidio hands an operator only the matched text and its params, so the keys and the dataset-wide
placeholder numbering travel in params as one `OperatorContext`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from faker import Faker
from presidio_anonymizer.entities import InvalidParamError
from presidio_anonymizer.operators import Operator, OperatorType

from privacy.fingerprint import fingerprint

CONTEXT = "context"
ENTITY_TYPE = "entity_type"  # Presidio adds it to params for every span
MAX_REMEMBERED_FINGERPRINTS = 10_000


@dataclass
class OperatorContext:
    """Keys and per-dataset state for one Scrubber run. Never serialized, never logged."""

    site_key: bytes
    vault_key: bytes | None = None
    locale: str = "en_US"
    numbers: dict[tuple[str, str], int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    fakers: dict[str, Faker] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # keys must not end up in a traceback or a log line
        return f"OperatorContext(locale={self.locale!r}, placeholders={len(self.numbers)})"

    def fingerprint(self, value: str) -> str:
        # each span is fingerprinted three times (its number, its operator, its finding): remember
        # the recent ones
        found = self.fingerprints.get(value)
        if found is None:
            if len(self.fingerprints) >= MAX_REMEMBERED_FINGERPRINTS:
                self.fingerprints.clear()
            found = self.fingerprints[value] = fingerprint(self.site_key, value)
        return found

    def faker(self, locale: str) -> Faker:
        """One Faker per locale, reseeded per value: building one per value would dominate the cost."""
        if locale not in self.fakers:
            self.fakers[locale] = Faker(locale)
        return self.fakers[locale]

    def number(self, entity_type: str, value: str) -> int:
        """Instance number of `value` among the `entity_type` values seen so far in this dataset."""
        key = (entity_type, self.fingerprint(value))
        if key not in self.numbers:
            self.counters[entity_type] = self.counters.get(entity_type, 0) + 1
            self.numbers[key] = self.counters[entity_type]
        return self.numbers[key]


class AirlockOperator(Operator):
    """An anonymize operator that needs the keyed context."""

    name: str = ""
    params: frozenset[str] = frozenset()  # the policy may set these, and only these

    def context(self, params: dict) -> OperatorContext:
        return params[CONTEXT]

    def validate(self, params: dict | None = None) -> None:
        if not isinstance((params or {}).get(CONTEXT), OperatorContext):
            raise InvalidParamError(f"operator {self.name}: missing Airlock context")

    def operator_name(self) -> str:
        return self.name

    def operator_type(self) -> OperatorType:
        return OperatorType.Anonymize
