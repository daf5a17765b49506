"""`airlock doctor`: one screen about the engine a site admin can paste into a ticket.

What setup built (flags, flavour, the CPU features it was built for) comes from the record setup
writes into the virtualenv; whether it runs comes from the smoke test, run here in a child process
so that a crashing build is reported, never a crashed doctor. Nothing here loads llama.cpp into the
calling process: the service's `/readyz` shows the same facts from the record alone.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from api.settings import Settings
from synth.engine_build import cpu_info, feature_digest


def record_path() -> Path:
    """Setup's record of the installed engine (build flags, CPU, smoke result), inside the venv."""
    return Path(sys.prefix) / "airlock-engine.json"


def engine_record() -> dict | None:
    try:
        return json.loads(record_path().read_text())
    except (OSError, ValueError):
        return None


def save_smoke(result) -> None:  # noqa: ANN001 - synth.smoke.SmokeResult
    """Write a smoke result into the engine record (setup calls this through `doctor --record`)."""
    record = engine_record() or {}
    record["smoke"] = {"passed": result.passed, "detail": result.detail, "steps": result.steps,
                       "cpu_digest": feature_digest(cpu_info()), "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    tmp = record_path().with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2))
    tmp.replace(record_path())


def engine_facts(settings: Settings) -> dict:
    """Everything about the engine that can be known without running it (safe in the server)."""
    from api.policy import load_policy

    record = engine_record()
    cpu = cpu_info()
    runtime = load_policy(settings.policy).synth.runtime
    facts = {
        "cpu": {**cpu, "digest": feature_digest(cpu)},
        "build": None if record is None else {k: record.get(k) for k in ("llama_cpp_python", "flavor", "cmake_args", "compiler")},
        "built_for_this_cpu": None if record is None else record.get("cpu_digest") == feature_digest(cpu),
        "missing_features": None if record is None else sorted(set(record.get("requires", [])) - set(cpu["features"])),
        "setup_smoke": (record or {}).get("smoke"),
        "threads": {"n_threads": runtime.n_threads, "n_threads_batch": runtime.n_threads_batch or runtime.n_threads,
                    "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")},
        "gpu": {"n_gpu_layers": runtime.n_gpu_layers},
        "model_store": _model_store(settings),
    }
    return facts


def _model_store(settings: Settings) -> dict:
    from privacy.errors import AirlockError
    from synth.store import ModelStore

    store = ModelStore(settings.models_dir)
    try:
        default = store.get()
    except AirlockError as error:
        return {"path": str(settings.models_dir), "default": None, "problem": str(error)}
    return {"path": str(settings.models_dir), "default": default.name, "sha256_verified": True,
            "models": [m.name for m in store.list()], "default_file": str(default.path)}


def run_smoke(facts: dict, timeout: float = 180):  # noqa: ANN201 - synth.smoke.SmokeResult
    """The smoke test on the default model, with the policy's GPU offload (all layers if it asks any)."""
    from synth.smoke import SmokeResult, smoke_test

    model = facts["model_store"].get("default_file")
    if not model:
        return SmokeResult(False, "not run: the default model is not in the store (run: airlock models pull)")
    return smoke_test(Path(model), n_gpu_layers=facts["gpu"]["n_gpu_layers"] or -1, timeout=timeout)


def _compiler(named) -> str:  # noqa: ANN001 - dict of CC/CXX, "default", or None (an older record)
    return " ".join(f"{k}={v}" for k, v in named.items()) if isinstance(named, dict) else "the system's default"


def render(facts: dict, smoke) -> str:  # noqa: ANN001 - SmokeResult or None
    """The one screen."""
    cpu, build = facts["cpu"], facts["build"]
    lines = [f"cpu        {cpu['model']} ({cpu['arch']}, {cpu['cpus']} CPUs)",
             f"features   {' '.join(cpu['features']) or 'none seen'}  [digest {cpu['digest']}]"]
    if build is None:
        lines.append("engine     no setup record: llama-cpp-python was not installed by scripts/setup.sh")
    else:
        mark = "yes" if facts["built_for_this_cpu"] else (
            f"no, and this CPU lacks {' '.join(facts['missing_features'])}: run make setup here" if facts["missing_features"]
            else "no, but this CPU has every feature the build uses")
        lines += [f"engine     llama-cpp-python {build['llama_cpp_python']}, {build['flavor']} build",
                  f"flags      {' '.join(build['cmake_args'] or [])}",
                  f"compiler   {_compiler(build.get('compiler'))}",
                  f"built for  this CPU: {mark}"]
    setup_smoke = facts["setup_smoke"]
    lines.append(f"setup      smoke test {setup_smoke['detail']} ({setup_smoke['at']})" if setup_smoke
                 else "setup      no smoke test recorded")
    t = facts["threads"]
    lines.append(f"threads    n_threads {t['n_threads']}, n_threads_batch {t['n_threads_batch']}"
                 + (f", OMP_NUM_THREADS {t['OMP_NUM_THREADS']}" if t["OMP_NUM_THREADS"] else ""))
    lines.append(_gpu_line(facts, smoke))
    store = facts["model_store"]
    lines.append(f"models     {store['path']}: " + (f"default {store['default']} (SHA-256 verified), "
                 f"{len(store['models'])} registered" if store["default"] else store["problem"]))
    if smoke is not None:
        started = smoke.steps.get("started", {})
        if started.get("system_info"):
            lines.append(f"llama.cpp  {started['system_info']}")
        speed = smoke.steps.get("decode", {}).get("tokens_per_s")
        lines.append(f"smoke      {smoke.detail}" + (f" ({speed} tok/s, one thread)" if speed else ""))
    return "\n".join(lines)


def _gpu_line(facts: dict, smoke) -> str:  # noqa: ANN001
    requested = facts["gpu"]["n_gpu_layers"]
    if smoke is None or "load" not in smoke.steps:
        return f"gpu        policy n_gpu_layers {requested} (offload not probed)"
    started, load = smoke.steps.get("started", {}), smoke.steps["load"]
    if not started.get("gpu_offload"):
        return f"gpu        CPU-only build; policy n_gpu_layers {requested}"
    return f"gpu        offload supported: {load['offloaded_layers']}/{load['layers']} layers offloaded in the smoke test"
