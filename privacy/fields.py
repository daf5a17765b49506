"""Field roles: which parts of a record are free text, whole-value PII, labels, passed through or
dropped. Nested JSON is addressed by dotted path (`contact.email`); list items share their list's
rule (`contacts.email` applies to every `contacts[i].email`).

Default, with no rule: the id field passes through, strings are free text, numbers, booleans and
nulls pass through, objects and lists are walked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from privacy.errors import BadInput, PolicyError
from privacy.policy import FieldRule, PrivacyPolicy

Path = tuple[str | int, ...]
_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class Unit:
    """One string to anonymize: a free-text value, or a whole PII value of a known type."""

    path: Path
    kind: str  # "text" | "pii"
    text: str
    entity: str | None = None

    @property
    def field(self) -> str:
        return dotted(self.path)


@dataclass
class PlannedRecord:
    """A record with its units cut out: `skeleton` is the output record waiting for their values."""

    number: int
    record_id: str
    skeleton: dict[str, Any]
    units: list[Unit] = field(default_factory=list)

    def fill(self, unit: Unit, value: str) -> None:
        target: Any = self.skeleton
        for part in unit.path[:-1]:
            target = target[part]
        target[unit.path[-1]] = value


def dotted(path: Path) -> str:
    return ".".join(str(part) for part in path)


def rule_key(path: Path) -> str:
    return ".".join(part for part in path if isinstance(part, str))


def check_rules(policy: PrivacyPolicy) -> None:
    """Refuse field rules that cannot be applied, before any record is read."""
    for name, rule in policy.fields.items():
        if rule.kind == "pii" and not rule.entity:
            raise PolicyError(f"privacy.fields.{name}: a pii field needs an entity type")
        if rule.kind != "pii" and rule.entity:
            raise PolicyError(f"privacy.fields.{name}: only a pii field takes an entity type")
    if policy.id_field and policy.id_field in policy.fields:
        raise PolicyError(f"privacy.fields.{policy.id_field}: the id field always passes through")


def plan_record(record: dict[str, Any], number: int, policy: PrivacyPolicy) -> PlannedRecord:
    """Split a record into what passes through and the units to anonymize.

    Raises BadInput naming the record number and field (never a value) for a missing required
    field or a value of the wrong type.
    """
    record_id = _record_id(record, number, policy)
    for name, rule in policy.fields.items():
        if rule.required and _lookup(record, name) is _MISSING:
            raise BadInput(f"record {number}: field {name!r} is missing")
    planned = PlannedRecord(number=number, record_id=record_id, skeleton={})
    for key, value in record.items():
        if key == policy.id_field:
            planned.skeleton[key] = value
            continue
        kept = _walk(value, (key,), policy, planned)
        if kept is not _MISSING:
            planned.skeleton[key] = kept
    return planned


_MISSING = object()


def _record_id(record: dict[str, Any], number: int, policy: PrivacyPolicy) -> str:
    if not policy.id_field:
        return str(number)
    value = record.get(policy.id_field, _MISSING)
    if value is _MISSING or value is None:
        raise BadInput(f"record {number}: field {policy.id_field!r} is missing")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadInput(f"record {number}: field {policy.id_field!r} must be a string or an integer")
    return str(value)


def _lookup(record: dict[str, Any], name: str) -> Any:
    value: Any = record
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _walk(value: Any, path: Path, policy: PrivacyPolicy, planned: PlannedRecord) -> Any:
    rule: FieldRule | None = policy.fields.get(rule_key(path))
    kind = rule.kind if rule else "text"
    where = f"record {planned.number}: field {dotted(path)!r}"
    if kind == "drop":
        return _MISSING
    if kind in ("label", "passthrough"):
        if kind == "label" and not isinstance(value, _SCALARS):
            raise BadInput(f"{where}: a label must be a single value, not a {type(value).__name__}")
        return value
    if value is None:
        return None
    if kind == "pii":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise BadInput(f"{where}: expected a string or a number, got a {type(value).__name__}")
        planned.units.append(Unit(path, "pii", str(value), rule.entity))
        return value
    if isinstance(value, dict):
        return {k: kept for k, v in value.items()
                if (kept := _walk(v, (*path, k), policy, planned)) is not _MISSING}
    if isinstance(value, list):
        return [_walk(v, (*path, i), policy, planned) for i, v in enumerate(value)]  # items share the list's rule
    if isinstance(value, str):
        planned.units.append(Unit(path, "text", value))
        return value
    if rule is not None:  # declared text, but a number or boolean
        raise BadInput(f"{where}: expected text, got a {type(value).__name__}")
    return value
