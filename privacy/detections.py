"""Detections as they cross process boundaries, and the worker side of parallel scrubbing.

Kept apart from scrub.py so a fresh worker process can start without importing the anonymizer.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from privacy.policy import PrivacyPolicy
from privacy.presidio_import import presidio_without_torch


@dataclass(frozen=True)
class Detection:
    """A span found by the analyzer, small enough to send between processes."""

    entity_type: str
    start: int
    end: int
    score: float
    detector: str


def detect_texts(analyzer, texts: list[str], policy: PrivacyPolicy) -> list[list[Detection]]:
    """`detect_batch` (nlp.pipe) for many texts, as Detections."""
    from privacy.analyzer import detect_batch

    if not texts:
        return []
    return [[Detection(r.entity_type, r.start, r.end, float(r.score),
                       (r.recognition_metadata or {}).get("recognizer_name", "unknown")) for r in results]
            for results in detect_batch(analyzer, texts, policy)]


# One analyzer per worker process: inherited from the parent (fork) or built by the initializer (spawn).
_worker: dict[str, Any] = {}


def forks_cheaply() -> bool:
    """Whether a detection pool would fork (see pool_context): it then costs milliseconds to start."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def pool_context(analyzer_of: Callable[[], Any], policy: PrivacyPolicy) -> tuple[Any, dict[str, Any]]:
    """The multiprocessing context and initializer arguments for a detection pool.

    Where the platform forks and this process runs no other thread (a fork copies only the calling
    thread, so a lock another thread holds would stay held in the child), workers are forked after
    the parent has built its analyzer: they start in milliseconds and share its pages. Otherwise they
    are spawned and each builds its own analyzer (seconds)."""
    if forks_cheaply():
        _worker.clear()
        _worker.update(policy=policy, analyzer=analyzer_of())
        return multiprocessing.get_context("fork"), {"initializer": exit_with_parent, "initargs": (os.getpid(),)}
    return multiprocessing.get_context("spawn"), {"initializer": start_worker,
                                                  "initargs": (policy.model_dump(), os.getpid())}


def forget_inherited() -> None:
    """Drop the parent's reference to what forked workers inherited, once the pool is gone, so the
    analyzer is freed with its Scrubber (a job goes on to synthesis in the same process)."""
    _worker.clear()


def exit_with_parent(parent_pid: int) -> None:
    """Linux: the kernel kills this process when `parent_pid`, which started it, dies, even by
    SIGKILL, so a killed job or scrub leaves no process behind holding raw records."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def start_worker(policy_data: dict[str, Any], parent_pid: int) -> None:
    exit_with_parent(parent_pid)
    # An exception here would only break the pool ("terminated abruptly"); keep it for the first
    # task to raise, so the caller sees the real, typed error (e.g. ModelError).
    try:
        with presidio_without_torch():
            from privacy.analyzer import build_analyzer

            _worker["policy"] = PrivacyPolicy.model_validate(policy_data)
            _worker["analyzer"] = build_analyzer(_worker["policy"])
    except Exception as error:  # noqa: BLE001 - re-raised by detect_in_worker
        _worker["error"] = error


def detect_in_worker(texts: list[str]) -> list[list[Detection]]:
    if "error" in _worker:
        raise _worker["error"]
    return detect_texts(_worker["analyzer"], texts, _worker["policy"])
