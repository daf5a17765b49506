"""Batch work through an executor: the same chunked code on one process or on a Ray cluster.

An executor runs `task(state, item)` over items, where `state = setup(setup_arg)` is built once per
worker (the analyzer, a model), and gives the results back in input order. `LocalExecutor` does it
in this process; `api.execution.RayExecutor` does it on Ray actors. Stage code takes either and never
knows which: `api/` owns the wiring.

Scrubbing through an executor only moves detection (~99% of the time). Operators still run here,
in record order, so placeholder numbers, surrogates, fingerprints and the manifest come out exactly
as from a single-process run, whatever the number of workers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from privacy.detections import Detection, detect_texts
from privacy.fields import PlannedRecord
from privacy.policy import PrivacyPolicy
from privacy.presidio_import import presidio_without_torch
from privacy.scrub import Scrubber

__all__ = ["BatchScrubber", "Executor", "LocalExecutor", "detection_setup", "detection_task"]


class Executor(Protocol):
    """Runs `task(state, item)` for each item, `state = setup(setup_arg)` once per worker; yields
    results in input order, consuming items lazily (memory does not grow with the input)."""

    workers: int

    def map_ordered(self, setup: Callable[[Any], Any], setup_arg: Any,
                    task: Callable[[Any, Any], Any], items: Iterable[Any]) -> Iterator[Any]: ...


class LocalExecutor:
    """The executor of a single process: today's path, no pool, no cluster."""

    workers = 1

    def map_ordered(self, setup: Callable[[Any], Any], setup_arg: Any,
                    task: Callable[[Any, Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        state = setup(setup_arg)
        for item in items:
            yield task(state, item)


def detection_setup(policy_data: dict[str, Any]) -> tuple[Any, PrivacyPolicy]:
    """A worker's analyzer, built once from the policy (sent as plain data, not as an object)."""
    with presidio_without_torch():
        from privacy.analyzer import build_analyzer

        policy = PrivacyPolicy.model_validate(policy_data)
        return build_analyzer(policy), policy


def detection_task(state: tuple[Any, PrivacyPolicy], texts: list[str]) -> list[list[Detection]]:
    """Detections for one batch of texts, on the worker that holds the analyzer."""
    analyzer, policy = state
    return detect_texts(analyzer, texts, policy)


class BatchScrubber(Scrubber):
    """A Scrubber whose detection runs through an executor; everything else is the Scrubber's."""

    def __init__(self, policy: PrivacyPolicy, site_key: bytes, executor: Executor, **kwargs: Any):
        super().__init__(policy, site_key, **kwargs)
        self.executor = executor

    def __repr__(self) -> str:
        return f"BatchScrubber(policy_fields={len(self.policy.fields)}, workers={self.executor.workers})"

    def _detect_batches(self, batches: Iterator[list[PlannedRecord]], workers: int):
        """(batch, detections of its text units) in input order; `workers` is the executor's."""
        waiting: deque[list[PlannedRecord]] = deque()

        def texts() -> Iterator[list[str]]:
            for batch in batches:
                waiting.append(batch)
                yield [unit.text for record in batch for unit in record.units if unit.kind == "text"]

        results = self.executor.map_ordered(detection_setup, self.policy.model_dump(), detection_task, texts())
        for detections in results:
            yield waiting.popleft(), detections
