"""What a set of scrubbed records looks like to synthesis: which fields are free text to write,
which are categorical conditions (the label, a record kind) to condition on, and example rotation."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from privacy.errors import BadInput

NOUN_FIELDS = ("kind", "type", "category")


@dataclass
class DatasetView:
    records: list[dict]
    text_fields: list[str]
    condition_fields: list[str]
    label_field: str | None = None
    id_field: str = "id"
    noun: str = "record"

    def conditions(self, record: dict) -> dict:
        return {f: record[f] for f in self.condition_fields if f in record}

    def noun_for(self, conditions: dict) -> str:
        for name in NOUN_FIELDS:
            if isinstance(conditions.get(name), str):
                return conditions[name]
        return self.noun

    def text_of(self, record: dict) -> str:
        """The record's free text fields, joined by spaces."""
        return " ".join(v for f in self.text_fields if isinstance(v := record.get(f), str))

    def texts(self) -> list[str]:
        return [self.text_of(r) for r in self.records]

    def shown_conditions(self, conditions: dict) -> dict:
        """Conditions as the prompt states them (the noun field is already in the noun)."""
        return {k: v for k, v in conditions.items() if k not in NOUN_FIELDS}


def describe(
    records: list[dict],
    text_fields: list[str] | None = None,
    label_field: str | None = None,
    id_field: str = "id",
    noun: str = "record",
) -> DatasetView:
    """Infer text and condition fields where the caller did not name them."""
    if not records:
        raise BadInput("no input records to learn from")
    names = list(dict.fromkeys(k for r in records for k in r if not k.startswith("_")))
    if label_field and not any(label_field in r for r in records):
        raise BadInput(f"label field {label_field!r} is in no input record")
    if text_fields:
        for name in text_fields:
            if not any(isinstance(r.get(name), str) for r in records):
                raise BadInput(f"text field {name!r} is in no input record")
    else:
        text_fields = [n for n in names if n not in (id_field, label_field) and _is_text(records, n)]
        if not text_fields:
            raise BadInput("no free-text field found in the input; name one with --text-field")
    conditions = [label_field] if label_field else []
    conditions += [n for n in names if n not in (id_field, label_field, *text_fields) and _is_category(records, n)]
    return DatasetView(records, list(text_fields), conditions, label_field, id_field, noun)


def _is_text(records: list[dict], name: str) -> bool:
    values = [r[name] for r in records if isinstance(r.get(name), str)]
    return len(values) >= len(records) / 2 and sum(map(len, values)) / len(values) >= 25


def _is_category(records: list[dict], name: str) -> bool:
    values = [r.get(name) for r in records]
    if sum(v is not None for v in values) < 0.9 * len(records):
        return False
    if not all(isinstance(v, (str, int, bool)) and len(str(v)) <= 40 for v in values if v is not None):
        return False
    distinct = len(set(values))
    return distinct <= max(2, min(12, len(records) // 3))


def allocate(n: int, weights: dict, rng: random.Random) -> list:
    """n values in proportion to `weights` (largest remainder), in a seeded random order."""
    total = sum(weights.values())
    if total <= 0:
        raise BadInput("label target weights must add up to more than zero")
    exact = {k: n * w / total for k, w in weights.items()}
    counts = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: (counts[k] - exact[k], str(k)))[: n - sum(counts.values())]:
        counts[k] += 1
    plan = [k for k in weights for _ in range(counts[k])]
    rng.shuffle(plan)
    return plan


def label_weights(view: DatasetView, target: str | dict, labels: list[str] | None) -> dict:
    """Target label distribution: 'balanced', 'as-is' (the input's), or explicit weights."""
    if not view.label_field:
        raise BadInput("a label target needs a label field (--label-field)")
    observed = Counter(r.get(view.label_field) for r in view.records if r.get(view.label_field) is not None)
    if isinstance(target, dict):
        weights = {k: float(v) for k, v in target.items()}
    elif target == "balanced":
        weights = {k: 1.0 for k in (labels or sorted(observed, key=str))}
    elif target == "as-is":
        weights = {k: float(c) for k, c in observed.items() if not labels or k in labels}
    else:
        raise BadInput(f"unknown label target {target!r} (use balanced, as-is, or weights per label)")
    missing = [str(k) for k in weights if k not in observed]
    if missing:
        raise BadInput(f"label {missing[0]!r} has no input records to learn from")
    if not weights:
        raise BadInput("none of the requested labels occur in the input")
    return weights


@dataclass
class ExampleRotation:
    """Draws k examples at a time so that no example set repeats while unused sets remain."""

    k: int
    rng: random.Random
    used: set = field(default_factory=set)

    def draw(self, pool: list[int], first: int | None = None) -> list[int]:
        if self.k == 0:
            return []
        k = min(self.k, len(pool))
        chosen: list[int] = []
        rest = [i for i in pool if i != first]
        for _ in range(50):
            chosen = ([first] if first is not None else []) + self.rng.sample(rest, k - (first is not None))
            if frozenset(chosen) not in self.used:
                break
        self.used.add(frozenset(chosen))
        return chosen
