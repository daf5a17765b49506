"""Scrubbing: detect PII in each record's fields, replace it with the operator the policy picks
for its entity type, and report every replacement as a Finding (a fingerprint, never the value).

Detection is the expensive part (~99% of the time), so it is what runs in batches and, for large
inputs, in a pool of worker processes. Operators run in the parent, in record order: that keeps
placeholder numbering (`<PERSON_1>` is the first person of the dataset) consistent and the
vault in one place. The single-process path is the same code with an inline executor.
Between the two, in the parent too, a value found once spreads to its undetected repeats in the
record and across the dataset (privacy/coherence.py).
"""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Any

from privacy.coherence import DatasetValues
from privacy.detections import (Detection, detect_in_worker, detect_texts, forget_inherited, forks_cheaply,
                                pool_context)
from privacy.errors import BadInput, PolicyError
from privacy.fields import PlannedRecord, Unit, check_rules, plan_record
from privacy.fingerprint import prefix
from privacy.manifest import Finding, ManifestWriter
from privacy.operators import CONTEXT, OPERATORS, OperatorContext, build_engine
from privacy.policy import OperatorRule, PrivacyPolicy
from privacy.presidio_import import presidio_without_torch
from privacy.records import dataset_format, read_records, records_from_dataframe, write_records
from privacy.vault import Vault, VaultEntry, VaultWriter

with presidio_without_torch():
    from presidio_anonymizer.entities import InvalidParamError, OperatorConfig
    from presidio_anonymizer.entities import RecognizerResult as SpanToReplace

__all__ = ["Finding", "ScrubSummary", "ScrubbedRecord", "Scrubber", "auto_workers", "scrub_dataframe", "scrub_file",
           "text_bytes"]

BATCH_RECORDS = 64
# A spawned worker spends seconds loading spaCy, so a spawned pool pays off only from roughly 3,000
# records (bench/scrub.py, quiet 2-core machine: 1,000 records slower than one process, 3,000 records
# 1.7x); forked workers inherit the parent's analyzer and start in milliseconds: a few batches suffice.
PARALLEL_MIN_BYTES = 768 * 1024
FORKED_PARALLEL_MIN_BYTES = 64 * 1024
# Records held back after detection so that a value found late in the window also covers the
# records before it (privacy/coherence.py); later windows still get every earlier window's values.
COHERENCE_WINDOW_BATCHES = 16
FIELD_RULE_DETECTOR = "field rule"

ProgressFn = Callable[[int, int | None], None]  # same shape as api.progress.ProgressFn


@dataclass
class ScrubbedRecord:
    """A record as it may leave the site, with what was replaced in it."""

    record: dict[str, Any]
    findings: list[Finding]


@dataclass(frozen=True)
class ScrubSummary:
    """Counts for a scrubbed file (no values): records, findings, findings per entity type."""

    records: int
    findings: int
    by_entity: dict[str, int] = field(default_factory=dict)


class Scrubber:
    """Scrubs records under one policy and site key. One instance = one dataset: placeholder
    numbers are shared by every record it scrubs. Surrogates, hashes and fingerprints depend only
    on the site key, so they agree across instances and jobs."""

    def __init__(self, policy: PrivacyPolicy, site_key: bytes, analyzer=None, vault_key: bytes | None = None):
        check_rules(policy)
        self.policy = policy
        self.site_key = site_key
        self.vault_key = vault_key
        self._analyzer = analyzer
        self._context = OperatorContext(site_key=site_key, vault_key=vault_key, locale=policy.surrogate_locale)
        self._engine = build_engine()
        self._dataset_values = DatasetValues()
        self._operators = {"DEFAULT": self._operator_config("default_operator", policy.default_operator)}
        for entity_type, rule in policy.operators.items():
            self._operators[entity_type] = self._operator_config(f"operators.{entity_type}", rule)

    def __repr__(self) -> str:
        return f"Scrubber(policy_fields={len(self.policy.fields)})"

    @property
    def analyzer(self):
        """The Presidio analyzer, built on first use (loading spaCy takes seconds)."""
        if self._analyzer is None:
            from privacy.analyzer import build_analyzer

            self._analyzer = build_analyzer(self.policy)
        return self._analyzer

    def scrub(self, records: Iterable[dict[str, Any]], progress: ProgressFn | None = None, *,
              workers: int = 1, total: int | None = None,
              vault: VaultWriter | None = None) -> Iterator[ScrubbedRecord]:
        """Scrub records lazily, in order. `workers` > 1 detects in that many processes;
        `vault` receives the raw value of every finding, sealed."""
        planned = (plan_record(record, number, self.policy) for number, record in enumerate(records, 1))
        detected = self._detect_batches(_batched(planned, BATCH_RECORDS), workers)
        done = 0
        for window in _batched(detected, COHERENCE_WINDOW_BATCHES):
            found = [(record, spans) for batch, detections in window for record, spans in _unit_spans(batch, detections)]
            for record, spans in found:
                self._dataset_values.learn(record.units, spans)
            extended = self._dataset_values.extend_window([(record.units, spans) for record, spans in found])
            for (record, _), spans in zip(found, extended):
                yield self._finish(record, spans, vault)
                done += 1
                if progress:
                    progress(done, total)

    def scrub_text(self, text: str) -> tuple[str, list[Finding]]:
        """Scrub one free text; findings carry an empty record id and field `text`."""
        (spans,) = detect_texts(self.analyzer, [text], self.policy)
        return self._anonymize(text, spans, "", 0, "text", None)

    def _operator_config(self, where: str, rule: OperatorRule) -> OperatorConfig:
        operator = OPERATORS.get(rule.operator)
        if operator is None:
            raise PolicyError(f"privacy.{where}.operator: unknown operator {rule.operator!r} "
                              f"(known: {', '.join(sorted(OPERATORS))})")
        unknown = sorted(set(rule.params) - operator.params)
        if unknown:
            raise PolicyError(f"privacy.{where}.params: unknown policy key {unknown[0]!r}")
        params = {**rule.params, CONTEXT: self._context}
        try:
            operator().validate(params)
        except InvalidParamError as error:
            raise PolicyError(f"privacy.{where}: {error}") from None
        return OperatorConfig(rule.operator, params)

    def _detect_batches(self, batches: Iterator[list[PlannedRecord]], workers: int):
        """(batch, detections of its text units) in input order, inline or from a process pool."""
        if workers <= 1:
            for batch in batches:
                yield batch, detect_texts(self.analyzer, _texts(batch), self.policy)
            return
        context, start = pool_context(lambda: self.analyzer, self.policy)
        pool = ProcessPoolExecutor(workers, mp_context=context, **start)
        pending: deque = deque()
        try:
            for batch in batches:
                pending.append((batch, pool.submit(detect_in_worker, _texts(batch))))
                if len(pending) >= 2 * workers:  # bounded: memory does not grow with the input
                    batch, future = pending.popleft()
                    yield batch, future.result()
            while pending:
                batch, future = pending.popleft()
                yield batch, future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            forget_inherited()

    def _finish(self, planned: PlannedRecord, unit_spans: list[list[Detection]],
                vault: VaultWriter | None) -> ScrubbedRecord:
        findings: list[Finding] = []
        for unit, spans in zip(planned.units, unit_spans):
            text, found = self._anonymize(unit.text, spans, planned.record_id, planned.number, unit.field, vault)
            planned.fill(unit, text)
            findings.extend(found)
        return ScrubbedRecord(planned.skeleton, findings)

    def _anonymize(self, text: str, spans: list[Detection], record_id: str, number: int, field_name: str,
                   vault: VaultWriter | None) -> tuple[str, list[Finding]]:
        if not spans:
            return text, []
        spans = _merge_adjacent(text, spans)
        for span in spans:  # Presidio operates from the end; number instances in reading order
            self._context.number(span.entity_type, text[span.start:span.end])
        result = self._engine.anonymize(
            text, [SpanToReplace(s.entity_type, s.start, s.end, s.score) for s in spans],
            operators=dict(self._operators), merge_entities_with_spaces=False)
        items = sorted(result.items, key=lambda item: item.start)
        if len(items) != len(spans):
            raise RuntimeError("the anonymizer merged spans it was given apart")
        findings = []
        for span, item in zip(spans, items):
            raw = text[span.start:span.end]
            fingerprint = self._context.fingerprint(raw)
            findings.append(Finding(record_id, number, field_name, span.entity_type, span.start, span.end,
                                    span.detector, round(float(span.score), 4), item.operator, fingerprint,
                                    prefix(self.site_key, raw)))
            if vault is not None:
                vault.add(VaultEntry(fingerprint, span.entity_type, item.operator, item.text, raw))
        return result.text, findings


def scrub_file(input: Path | str, output: Path | str, manifest: Path | None, scrubber: Scrubber,
               progress: ProgressFn | None = None, workers: int | None = None,
               vault: Path | None = None) -> ScrubSummary:
    """Scrub a JSONL/CSV file (`-`: JSONL on stdin/stdout) into `output`, streaming.

    Output, manifest and vault appear together or not at all: a bad record part-way leaves none
    of them behind. `workers=None` picks a process pool for large files.
    """
    if vault is not None and scrubber.vault_key is None:
        raise PolicyError("the vault needs the vault key")
    name = "stdin" if str(input) == "-" else Path(input).name
    workers = _auto_workers(input) if workers is None else workers
    records = read_records(input, scrubber.policy.max_record_bytes)
    by_entity: Counter[str] = Counter()
    count = 0
    with ExitStack() as stack:
        manifest_writer = stack.enter_context(ManifestWriter(manifest, scrubber.site_key)) if manifest else None
        vault_writer = stack.enter_context(Vault(vault, scrubber.vault_key).writer()) if vault else None

        def scrubbed() -> Iterator[dict[str, Any]]:
            nonlocal count
            for item in scrubber.scrub(records, progress, workers=workers, total=_count_records(input),
                                       vault=vault_writer):
                if manifest_writer:
                    manifest_writer.add(item.findings)
                by_entity.update(f.entity_type for f in item.findings)
                count += 1
                yield item.record
            if count == 0:  # raised inside the writer's block, so no output file is left
                raise BadInput(f"{name}: the input holds no records")

        write_records(output, scrubbed())
    return ScrubSummary(records=count, findings=sum(by_entity.values()), by_entity=dict(sorted(by_entity.items())))


def scrub_dataframe(frame: Any, scrubber: Scrubber, progress: ProgressFn | None = None) -> tuple[Any, list[Finding]]:
    """Scrub a pandas DataFrame (one record per row): the scrubbed frame and all findings."""
    import pandas as pd

    rows, findings = [], []
    for item in scrubber.scrub(records_from_dataframe(frame), progress, total=len(frame)):
        rows.append(item.record)
        findings.extend(item.findings)
    return pd.DataFrame(rows, index=frame.index), findings


def auto_workers(size_bytes: int) -> int:
    """Detection processes for `size_bytes` of input: one per core (at most 8) once a pool pays for
    its start, else 1."""
    smallest = FORKED_PARALLEL_MIN_BYTES if forks_cheaply() else PARALLEL_MIN_BYTES
    return 1 if size_bytes < smallest else min(len(os.sched_getaffinity(0)), 8)


def text_bytes(records: Iterable[dict[str, Any]]) -> int:
    """Characters of the string values of records already in memory (a file's size, near enough)."""
    return sum(len(value) for record in records for value in record.values() if isinstance(value, str))


def _auto_workers(input: Path | str) -> int:
    if str(input) == "-" or not Path(input).is_file():
        return 1
    return auto_workers(Path(input).stat().st_size)


def _count_records(input: Path | str) -> int | None:
    """Lines of a JSONL file (for a progress total); unknown for streams and CSV."""
    if str(input) == "-" or dataset_format(input) != "jsonl" or not Path(input).is_file():
        return None
    with Path(input).open("rb") as raw:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: raw.read(1 << 20), b""))


def _batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _texts(batch: list[PlannedRecord]) -> list[str]:
    return [unit.text for record in batch for unit in record.units if unit.kind == "text"]


def _unit_spans(batch: list[PlannedRecord], detections: list[list[Detection]]):
    """(record, spans of each of its units): detections of text units in order, a field rule's
    whole value for PII fields."""
    found = iter(detections)
    for record in batch:
        yield record, [next(found) if unit.kind == "text" else _whole_value(unit) for unit in record.units]


def _whole_value(unit: Unit) -> list[Detection]:
    if not unit.text.strip():
        return []
    return [Detection(unit.entity, 0, len(unit.text), 1.0, FIELD_RULE_DETECTOR)]


def _merge_adjacent(text: str, spans: list[Detection]) -> list[Detection]:
    """One span for neighbours of the same type with only spaces between them ("John" "Smith"),
    and for any overlap the analyzer left (a union: dropping part of a span would leak it)."""
    merged: list[Detection] = []
    for span in sorted((s for s in spans if s.end > s.start), key=lambda s: (s.start, -s.end)):
        last = merged[-1] if merged else None
        if last and (span.start < last.end or (
                span.entity_type == last.entity_type and not text[last.end:span.start].strip(" "))):
            merged[-1] = replace(last, end=max(last.end, span.end), score=max(last.score, span.score))
        else:
            merged.append(span)
    return merged
