"""Where batch work runs: this process (the default) or a Ray cluster (`--ray ADDRESS`).

`executor(ray, workers)` gives a context manager yielding an executor for the stages
(privacy.batch.Executor). The Ray one starts `workers` actors; each builds its state (analyzer,
model) once and then runs tasks. Results come back in input order, with at most two tasks in
flight per actor, so memory does not grow with the input and the driver writes in order.

Privacy on Ray: task inputs are kept small (a batch of texts, tens of kB) so Ray passes them
inline in the task call instead of through its object store, which could spill to disk; results
carry no raw values. The runtime started for `--ray local` listens on loopback only and sends no
usage statistics. A cluster's own settings (TLS, spilling) are the site's: see README.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from privacy.batch import Executor, LocalExecutor
from privacy.errors import BadInput, ModelError

LOCAL = "local"
IN_FLIGHT_PER_WORKER = 2
ACTOR_RETRIES = 2  # a worker killed mid-task is restarted and its task rerun (results are deterministic)
LOCAL_OBJECT_STORE_BYTES = 256 * 1024 * 1024


@contextmanager
def executor(ray: str | None, workers: int | None = None) -> Iterator[Executor]:
    """A local executor without `ray`; else Ray actors on `ray` ('local' starts a runtime here)."""
    if not ray:
        yield LocalExecutor()
        return
    workers = workers or 1
    if workers < 1:
        raise BadInput("--workers: give at least 1")
    started = connect(ray, workers)
    try:
        yield RayExecutor(workers)
    finally:
        if started:
            import ray as ray_module

            ray_module.shutdown()


def connect(address: str, workers: int) -> bool:
    """Connect to Ray at `address`, or start a loopback-only local runtime for 'local'.
    True when this call started (and so must stop) the runtime."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # never phone home
    import ray

    if ray.is_initialized():
        return False
    quiet = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address == LOCAL:
        cpus = max(workers, len(os.sched_getaffinity(0)))
        ray.init(num_cpus=cpus, _node_ip_address="127.0.0.1", object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                 **quiet)
    else:
        try:
            ray.init(address=address, **quiet)
        except (ConnectionError, RuntimeError) as error:
            raise BadInput(f"--ray: cannot reach the Ray cluster at {address} ({type(error).__name__})") from None
    return True


class _Worker:
    """One actor: state built once, then one task at a time."""

    def __init__(self, setup: Callable[[Any], Any], setup_arg: Any):
        self.state = setup(setup_arg)

    def run(self, task: Callable[[Any, Any], Any], item: Any) -> Any:
        return task(self.state, item)


class RayExecutor:
    """Ray actors, one CPU each; items go round-robin, results come back in input order."""

    def __init__(self, workers: int):
        self.workers = workers

    def __repr__(self) -> str:
        return f"RayExecutor(workers={self.workers})"

    def map_ordered(self, setup: Callable[[Any], Any], setup_arg: Any,
                    task: Callable[[Any, Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        import ray

        remote = ray.remote(num_cpus=1, max_restarts=ACTOR_RETRIES, max_task_retries=ACTOR_RETRIES)(_Worker)
        actors = [remote.remote(setup, setup_arg) for _ in range(self.workers)]
        pending: deque = deque()
        try:
            for number, item in enumerate(items):
                pending.append(actors[number % len(actors)].run.remote(task, item))
                if len(pending) >= IN_FLIGHT_PER_WORKER * len(actors):
                    yield _result(pending.popleft())
            while pending:
                yield _result(pending.popleft())
        finally:  # also when the caller stops early: killing the actors drops their queued tasks
            for actor in actors:
                ray.kill(actor)


def _result(ref: Any) -> Any:
    """The task's result; its own typed error if it raised (not Ray's wrapper, whose text holds
    the remote traceback), a ModelError if its worker died for good."""
    import ray
    from ray.exceptions import RayActorError, RayTaskError

    try:
        return ray.get(ref)
    except RayTaskError as error:
        cause = getattr(error, "cause", None)
        if isinstance(cause, Exception):
            raise cause.with_traceback(None) from None
        raise ModelError(f"a Ray task failed ({type(error).__name__})") from None
    except RayActorError as error:
        raise ModelError(f"a Ray worker died and could not be restarted ({type(error).__name__})") from None


def synth_worker(setup_arg: tuple) -> Any:
    """A synthesis worker's state (synth.parallel.Generator): the model loaded once, one CPU thread
    (one per actor: llama.cpp threads spin and collapse when they outnumber the cores), and the
    PII filter built from the policy when asked for."""
    from synth.engine import Engine
    from synth.parallel import Generator

    records, model, runtime, policy, pii_filter = setup_arg
    filters = {}
    if pii_filter:
        from api.detector import pii_detector, rescan_ignored
        from privacy.analyzer import build_analyzer

        filters = {"pii_detector": pii_detector(build_analyzer(policy.privacy), policy),
                   "pii_ignore": rescan_ignored(policy)}
    if runtime.n_gpu_layers == 0:
        runtime = runtime.model_copy(update={"n_threads": 1, "n_threads_batch": 1})
    return Generator(records, Engine(model, runtime), filters)
