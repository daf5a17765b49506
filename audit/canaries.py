"""Canaries for the audit mode: records planted in the training split before synthesis, to measure
how much of a single record the synthetic data echoes.

Following Meeus et al., "The Canary's Echo: Auditing Privacy Risks of LLM-Generated Synthetic Text"
(ICML 2025), a canary is an in-distribution prefix (the opening words of a real training record)
followed by a high-perplexity suffix (words drawn at random from the training vocabulary), which a
generator can only reproduce by having seen it. Half the canaries are inserted; the other half are
never shown to the generator and serve as the control.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audit.inputs import guess_text_fields
from audit.text import field_value, tokens
from privacy.errors import BadInput
from privacy.records import atomic_output


@dataclass(frozen=True)
class CanarySet:
    """`inserted` go into the training split (`training_records()` repeats them); `control` never do.
    `suffix_start[id]` is where the random suffix begins in the canary's text."""

    inserted: tuple[dict, ...]
    control: tuple[dict, ...]
    text_field: str
    id_field: str
    repeats: int
    suffix_start: dict[str, int]

    def training_records(self) -> list[dict]:
        """The records to append to the training split before synthesis."""
        return [
            {**record, self.id_field: f"{record[self.id_field]}-{r}"} if self.repeats > 1 else dict(record)
            for record in self.inserted for r in range(self.repeats)
        ]

    def to_json(self) -> str:
        return json.dumps({
            "inserted": list(self.inserted), "control": list(self.control), "text_field": self.text_field,
            "id_field": self.id_field, "repeats": self.repeats, "suffix_start": self.suffix_start,
        }, ensure_ascii=False)


def make_canaries(
    train: list[dict], seed: int, n: int = 50, *, text_field: str | None = None, id_field: str = "id",
    prefix_words: int = 8, suffix_words: int = 12, repeats: int = 1,
) -> CanarySet:
    """`n` canaries to insert and `n` never-inserted controls, built from the training split."""
    if not train:
        raise BadInput("canaries need a non-empty training split")
    field = text_field or next(iter(guess_text_fields(train, exclude={id_field, "label"})), None)
    if field is None:
        raise BadInput("no free-text field to plant canaries in; name the text field")
    rng = np.random.default_rng(seed)
    vocabulary = sorted({w for r in train for w in str(field_value(r, field) or "").split()})
    if len(vocabulary) < suffix_words:
        raise BadInput("the training split has too few distinct words to build canaries")
    made, suffix_start = [], {}
    for i in range(2 * n):
        template = train[int(rng.integers(len(train)))]
        prefix = " ".join(str(field_value(template, field) or "").split()[:prefix_words])
        suffix = " ".join(vocabulary[j] for j in rng.integers(0, len(vocabulary), suffix_words))
        record = json.loads(json.dumps(template))
        record[id_field] = f"canary-{seed}-{i}"
        _set(record, field, f"{prefix} {suffix}" if prefix else suffix)
        suffix_start[record[id_field]] = len(prefix) + 1 if prefix else 0
        made.append(record)
    return CanarySet(tuple(made[:n]), tuple(made[n:]), field, id_field, repeats, suffix_start)


def read_canaries(path: str | Path) -> CanarySet:
    """A canary set written by `write_canaries`."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        return CanarySet(
            tuple(data["inserted"]), tuple(data["control"]), data["text_field"], data["id_field"],
            int(data["repeats"]), {str(k): int(v) for k, v in data["suffix_start"].items()},
        )
    except (OSError, ValueError, KeyError, TypeError):
        raise BadInput(f"{p.name}: not a canary file written by Airlock") from None


def write_canaries(path: str | Path, canaries: CanarySet) -> None:
    with atomic_output(path) as out:
        out.write(canaries.to_json())


def _set(record: dict, path: str, value: str) -> None:
    *parents, last = path.split(".")
    for part in parents:
        record = record.setdefault(part, {})
    record[last] = value


class NgramModel:
    """A word trigram model with Jelinek–Mercer interpolation down to an add-one unigram."""

    def __init__(self, documents: list[list[str]], weights: tuple[float, float, float] = (0.6, 0.3, 0.1)) -> None:
        self.weights = weights
        self.unigrams: Counter = Counter()
        self.bigrams: Counter = Counter()
        self.trigrams: Counter = Counter()
        self.contexts1: Counter = Counter()
        self.contexts2: Counter = Counter()
        for words in documents:
            padded = ["<s>", "<s>", *words]
            self.unigrams.update(words)
            for a, b, c in zip(padded, padded[1:], padded[2:]):
                self.trigrams[a, b, c] += 1
                self.contexts2[a, b] += 1
                self.bigrams[b, c] += 1
                self.contexts1[b] += 1
        self.total = sum(self.unigrams.values())
        self.vocabulary = len(self.unigrams) + 1

    def mean_log_prob(self, words: list[str], context: list[str]) -> float:
        """Average log-probability of `words` following `context`."""
        history = ["<s>", "<s>", *context]
        total = 0.0
        for w in words:
            a, b = history[-2], history[-1]
            p1 = (self.unigrams[w] + 1) / (self.total + self.vocabulary)
            p2 = self.bigrams[b, w] / self.contexts1[b] if self.contexts1[b] else 0.0
            p3 = self.trigrams[a, b, w] / self.contexts2[a, b] if self.contexts2[a, b] else 0.0
            l3, l2, l1 = self.weights
            total += math.log(l3 * p3 + l2 * p2 + l1 * p1)
            history.append(w)
        return total / max(len(words), 1)


def canary_scores(canaries: CanarySet, records: tuple[dict, ...], model: NgramModel) -> np.ndarray:
    """Membership score of each canary: how likely its random suffix is under the synthetic data's model."""
    scores = []
    for record in records:
        text = str(field_value(record, canaries.text_field) or "")
        cut = canaries.suffix_start.get(str(record[canaries.id_field]), 0)
        scores.append(model.mean_log_prob(tokens(text[cut:]), tokens(text[:cut])))
    return np.array(scores)
