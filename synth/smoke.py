"""The engine smoke test: does the installed llama.cpp build run on this machine?

A build made for the wrong CPU, or one that takes an instruction-set path known to crash (AMX,
ggml-org/llama.cpp#20824), dies with a signal — so the test always runs in a child process and the
parent reads how it ended. The child loads the model, decodes a multi-token prompt (the AMX crash
needs more than one token), runs a chat completion, a JSON-schema-constrained completion and chat
completions decoded together in several KV streams (synth/batch.py), runs
what a fine-tuned model runs (IQ4_NL weights, which llama.cpp repacks for its fast CPU kernels, and a
LoRA adapter: synth/finetune/export.py), and prints one JSON line per step, so a crash names the step
it happened in.

    python -m synth.smoke MODEL.gguf [--gpu-layers N]     # the child; `smoke_test()` runs it
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from synth.llama_log import binding

PROMPT = "The patient was seen on Monday for a follow-up visit and"
SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
STEPS = ("load", "decode", "chat", "json", "batch", "adapter")


@dataclass(frozen=True)
class ChildOutcome:
    """How a child process ended: exit code, or the signal that killed it, or a timeout."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def signal_name(self) -> str | None:
        if self.returncode is None or self.returncode >= 0:
            return None
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return f"signal {-self.returncode}"

    def describe(self) -> str:
        if self.timed_out:
            return "did not finish in time"
        if self.signal_name:
            return f"crashed with {self.signal_name}"
        return f"exited with status {self.returncode}"


def run_child(argv: list[str], timeout: float) -> ChildOutcome:
    """Run `argv`, never raising for how it ends: a crash is a result, not an exception."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        out = expired.stdout.decode() if isinstance(expired.stdout, bytes) else (expired.stdout or "")
        return ChildOutcome(None, out, "", timed_out=True)
    return ChildOutcome(done.returncode, done.stdout, done.stderr)


@dataclass(frozen=True)
class SmokeResult:
    passed: bool
    detail: str  # one line a site admin can paste into a ticket
    steps: dict = field(default_factory=dict)  # step → its figures (tokens/s, offloaded layers …)


def smoke_test(model_path: Path, n_gpu_layers: int = 0, timeout: float = 180) -> SmokeResult:
    """Run the smoke test on `model_path` in a child process and say how it went."""
    argv = [sys.executable, "-m", "synth.smoke", str(model_path), "--gpu-layers", str(n_gpu_layers)]
    outcome = run_child(argv, timeout)
    steps: dict = {}
    for line in outcome.stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        steps[event.pop("step")] = event
    if outcome.returncode == 0 and all(steps.get(s, {}).get("ok") for s in STEPS):
        return SmokeResult(True, "passed: load, multi-token decode, chat, JSON-schema completion, batched decoding "
                                 "and a fine-tuned model's weights and adapter", steps)
    failed = next((s for s in STEPS if not steps.get(s, {}).get("ok")), "exit")
    why = steps.get(failed, {}).get("error") or (
        "its output was not what the step expects" if outcome.returncode == 0 else f"the engine {outcome.describe()}")
    return SmokeResult(False, f"failed at {failed}: {why}", steps)


def _step(name: str, **figures) -> None:
    print(json.dumps({"step": name, **figures}), flush=True)


def _child(model_path: str, n_gpu_layers: int) -> int:
    llama_cpp = binding()

    _step("started", ok=True, system_info=llama_cpp.llama_print_system_info().decode(errors="replace").strip(),
          gpu_offload=bool(llama_cpp.llama_supports_gpu_offload()))
    began = time.perf_counter()
    llm = llama_cpp.Llama(model_path=model_path, n_ctx=512, n_threads=1, n_threads_batch=1,
                          n_gpu_layers=n_gpu_layers, verbose=False)
    _step("load", ok=True, seconds=round(time.perf_counter() - began, 3), **_offload(llm, n_gpu_layers))
    began = time.perf_counter()
    out = llm.create_completion(PROMPT, max_tokens=16, temperature=0.0, seed=1)
    usage, seconds = out["usage"], time.perf_counter() - began
    _step("decode", ok=usage["completion_tokens"] >= 1, prompt_tokens=usage["prompt_tokens"],
          completion_tokens=usage["completion_tokens"],
          tokens_per_s=round((usage["prompt_tokens"] + usage["completion_tokens"]) / max(seconds, 1e-9), 1))
    chat = llm.create_chat_completion([{"role": "user", "content": "Name one colour."}], max_tokens=12,
                                      temperature=0.0, seed=1)
    _step("chat", ok=isinstance(chat["choices"][0]["message"]["content"], str))
    constrained = llm.create_chat_completion(
        [{"role": "user", "content": "Answer in JSON: is the sky blue?"}], max_tokens=48, temperature=0.0, seed=1,
        response_format={"type": "json_object", "schema": SCHEMA})
    _step("json", **_json_ok(constrained["choices"][0]["message"]["content"] or ""))
    _step("batch", **_batch_ok(llm))
    llm.close()
    _step("adapter", **_adapter_ok(Path(model_path), n_gpu_layers))
    return 0


def _batch_ok(llm) -> dict:  # noqa: ANN001 - llama_cpp.Llama
    """Five chat completions through three KV streams (synth/batch.py): each writes a token or more."""
    from synth.batch import BatchDecoder, Call

    decoder = BatchDecoder(llm, None, n_seq=3, n_threads=1)
    try:
        calls = [Call(json.dumps([{"role": "user", "content": f"Name colour number {i}."}]), 0.0, 0, 1.0, 0.0,
                      1.0, 8, i) for i in range(5)]
        done = decoder.decode(calls)
    finally:
        decoder.close()
    ok = all(d.completion_tokens >= 1 for d in done)
    return {"ok": ok} if ok else {"ok": False, "error": "batched decoding wrote nothing"}


def _adapter_ok(model_path: Path, n_gpu_layers: int) -> dict:
    """A copy of the model with block 0's first projections in IQ4_NL, run with an all-zero LoRA adapter
    on its query projection: the prompt's logits must equal the copy's own, finite and not flat."""
    import gguf
    import numpy as np

    from synth.finetune.export import EXPORTABLE, write_adapter, write_base

    arch = str(gguf.GGUFReader(model_path).fields["general.architecture"].contents())
    if arch not in EXPORTABLE:
        return {"ok": True, "skipped": f"Airlock does not fine-tune {arch} models"}
    with tempfile.TemporaryDirectory(prefix="airlock-smoke-") as tmp:
        base, adapter = Path(tmp) / "base.gguf", Path(tmp) / "adapter.gguf"
        write_base(model_path, base, only={"blk.0.attn_q.weight", "blk.0.ffn_up.weight"})
        shapes = {t.name: [int(n) for n in t.shape] for t in gguf.GGUFReader(base).tensors}
        n_in, n_out = shapes["blk.0.attn_q.weight"]
        zero = (np.zeros((1, n_in), np.float32), np.zeros((n_out, 1), np.float32))
        write_adapter({"model.layers.0.self_attn.q_proj.weight": zero}, base, adapter, 1.0, {"smoke": True})
        rows = [_prompt_logits(base, lora, n_gpu_layers) for lora in (None, adapter)]
    ok = bool(np.isfinite(rows[1]).all() and rows[1].std() > 0 and np.abs(rows[1] - rows[0]).max() < 1e-3)
    return {"ok": ok} if ok else {"ok": False, "error": "a model with a LoRA adapter computed other logits than without it"}


def _prompt_logits(model_path: Path, adapter: Path | None, n_gpu_layers: int):
    import numpy as np

    llama_cpp = binding()
    llm = llama_cpp.Llama(model_path=str(model_path), lora_path=str(adapter) if adapter else None, n_ctx=128,
                          n_threads=1, n_threads_batch=1, n_gpu_layers=n_gpu_layers, logits_all=True, verbose=False)
    try:
        ids = llm.tokenize(PROMPT.encode())
        llm.eval(ids)
        return np.array(llm.scores[len(ids) - 1], dtype=np.float64)
    finally:
        llm.close()


def _offload(llm, requested: int) -> dict:  # noqa: ANN001 - llama_cpp.Llama
    llama_cpp = binding()

    arch = llm.metadata.get("general.architecture", "")
    total = int(llm.metadata.get(f"{arch}.block_count", 0)) + 1  # the blocks plus the output layer
    if not llama_cpp.llama_supports_gpu_offload() or requested == 0:
        return {"offloaded_layers": 0, "layers": total}
    return {"offloaded_layers": total if requested < 0 else min(requested, total), "layers": total}


def _json_ok(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        return {"ok": False, "error": "the JSON-schema-constrained completion was not valid JSON"}
    return {"ok": isinstance(value, dict) and isinstance(value.get("ok"), bool)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--gpu-layers", type=int, default=0)
    args = parser.parse_args()
    if not Path(args.model).is_file():
        _step("load", ok=False, error="the model file does not exist")
        return 2
    return _child(args.model, args.gpu_layers)


if __name__ == "__main__":
    sys.exit(main())
