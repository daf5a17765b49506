"""Where batch work runs: this process (the default) or a Ray cluster (`--ray ADDRESS`).

`executor(ray, workers)` gives a context manager yielding an executor for the stages
(privacy.batch.Executor). The Ray one starts `workers` actors; each builds its state (analyzer,
model) once and then runs tasks. Results come back in input order, with at most two tasks in
flight per actor, so memory does not grow with the input and the driver writes in order.

Privacy on Ray: task inputs are kept small (a batch of texts, tens of kB) so Ray passes them
inline in the task call instead of through its object store, which could spill to disk; results
carry no raw values. The runtime started for `--ray local` listens on loopback only and sends no
usage statistics. A cluster's own settings (TLS, spilling) are the site's: see README.

`placement(...)` says where: the command's `--ray/--workers`, else the policy's `execution` key, whose
address defaults to the site's AIRLOCK_RAY_ADDRESS. The CLI and the service's jobs both go through it
(the pipeline calls it), so a job runs where the same policy would run on the command line.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

from api.policy import RAY_ADDRESS, RAY_ADDRESS_HINT, ExecutionPolicy
from privacy.errors import BadInput, ModelError, PolicyError

if TYPE_CHECKING:  # the server process validates placements without importing the stages
    from privacy.batch import Executor

LOCAL = "local"
IN_FLIGHT_PER_WORKER = 2
ACTOR_RETRIES = 2  # a worker killed mid-task is restarted and its task rerun (results are deterministic)
LOCAL_OBJECT_STORE_BYTES = 256 * 1024 * 1024
CONNECT_TIMEOUT_S = 10.0


IN_PROCESS = "none"  # `--ray none`: this process, whatever the policy's execution key says


class Placement(NamedTuple):
    """Where a batch stage runs: `ray` is a Ray address (None: this process); `workers` its actors
    (without ray: the local process count a command may use, None for its default)."""

    ray: str | None
    workers: int | None


def placement(execution: ExecutionPolicy, ray: str | None = None, workers: int | None = None,
              site_address: str | None = None) -> Placement:
    """Resolve where batch work runs: flags beat the policy's `execution`, whose address beats the
    site's (AIRLOCK_RAY_ADDRESS). A policy without `engine: ray` and no `--ray` stays in this process,
    as does any command given `--ray none` (e.g. to try a policy of the site's on one machine)."""
    if ray == IN_PROCESS:
        return Placement(None, workers)
    if ray:
        return Placement(_checked(ray, "--ray"), workers or execution.workers or 1)
    if execution.engine != "ray":
        return Placement(None, workers)
    if execution.address:
        return Placement(execution.address, workers or execution.workers or 1)
    if not site_address:
        raise PolicyError("execution: engine ray needs an address: set execution.address in the policy "
                          "or AIRLOCK_RAY_ADDRESS for the site")
    return Placement(_checked(site_address, "AIRLOCK_RAY_ADDRESS"), workers or execution.workers or 1)


def _checked(address: str, source: str) -> str:
    if not RAY_ADDRESS.match(address):
        raise BadInput(f"{source}: {RAY_ADDRESS_HINT}")
    return address


@contextmanager
def executor(ray: str | None, workers: int | None = None) -> Iterator[Executor]:
    """A local executor without `ray`; else Ray actors on `ray` ('local' starts a runtime here)."""
    if not ray:
        from privacy.batch import LocalExecutor

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
    with _own_sigterm():
        if address == LOCAL:  # address "local": a new runtime, even where `ray start` left one to join
            cpus = max(workers, len(os.sched_getaffinity(0)))
            ray.init(address=LOCAL, num_cpus=cpus, _node_ip_address="127.0.0.1",
                     object_store_memory=LOCAL_OBJECT_STORE_BYTES, **quiet)
            return True
        try:
            _listening(address)
            ray.init(address=address, **quiet)
        except (OSError, RuntimeError, ValueError) as error:  # ConnectionError is an OSError
            raise BadInput(f"cannot reach the Ray cluster at {address} ({type(error).__name__}): check --ray, "
                           "the policy's execution.address or AIRLOCK_RAY_ADDRESS") from None
    return True


def _listening(address: str) -> None:
    """Raise OSError at once when nothing listens at host:port: ray.init would retry it for many
    minutes, holding a job at its scrub stage. ('auto' is found by Ray itself.)"""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()


@contextmanager
def _own_sigterm() -> Iterator[None]:
    """Keep this process's SIGTERM handling across ray.init, which installs one that raises SystemExit:
    a job process stopped by its worker then ends at once, as without Ray, instead of unwinding through
    the stage it is in. A runtime it started dies with it (Ray's kernel fate-sharing); a cluster drops
    the actors of a driver that is gone."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


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
    from api.synthesis import pii_filters
    from synth.engine import Engine
    from synth.parallel import Generator

    records, model, runtime, policy, pii_filter = setup_arg
    filters = pii_filters(policy) if pii_filter else {}
    if runtime.n_gpu_layers == 0:
        runtime = runtime.model_copy(update={"n_threads": 1, "n_threads_batch": 1})
    return Generator(records, Engine(model, runtime), filters)
