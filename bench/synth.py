"""Synthesis speed: Airlock vs raw llama-cpp-python on the same prompts, and structured output.

1. Overhead: a fewshot job through `synthesize` records every model call it makes (messages,
   sampling, seed); the same calls are replayed through a bare `llama_cpp.Llama` with the same
   settings. Same tokens (same seeds) → the time ratio is Airlock's overhead (planning, templates,
   filters, surrogates). Target: ≤ 5%. Times are this process's CPU seconds (llama.cpp runs in
   the calling thread with n_threads=1), which a busy shared machine distorts far less than wall
   time; rounds alternate Airlock and raw and the best of each is kept.
0. Build: tokens/s of the installed llama.cpp build (setup's choice for this CPU) next to the
   portable build (plain AVX2; built into the wheel cache if absent) on the same prompts — few-shot
   prompts from the test records, prompt evaluation and decoding timed apart, each build in its own
   child process with one thread, rounds alternating, best kept.
2. Structured output (JSON Schema): the grammar sampler on every call vs Airlock's fast path
   (unconstrained + strict validation + retry, grammar only on the last attempt), against
   unconstrained text generation. Target: fast path ≥ 0.8× unconstrained speed at 100% validity.
3. Kept records per CPU-minute (issue 12): classify on the BBC News corpus (bench/utility.py, dev
   part, scrubbed by the privacy stage, PII detector on), the path as it stood before issue 12
   (`synth.generate.TODAY`: full prompt per record, no repair, slot given up after max_attempts)
   against today's default few-shot path (shared prompt prefix, repair at the source and after filling,
   steering, label judge, de-duplication) and the fine-tuned path (a LoRA adapter trained on the draw's
   100 training records, bench/utility_finetune.py; four candidates per record, synth/select.py, their
   first tries decoded together, synth/batch.py), same run, same n; and the fine-tuned path with every
   call decoded alone (`n_parallel` 1), the batching's own gain. The adapter's training CPU time is printed apart: it is spent once per dataset (`--cache
   DIR` keeps it between runs). Target: ≥ 5×. `--paths-n 0` skips it; `--no-finetuned` drops the
   fine-tuned path.

    .venv/bin/python bench/synth.py [--n 12] [--structured-n 8] [--n-gpu-layers 0] [--skip-build] [--paths-n 15]
    .venv/bin/python bench/synth.py --only-paths --paths-n 30 --cache DIR
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.settings import Settings  # noqa: E402
from privacy.records import read_records  # noqa: E402
from synth.engine import Engine, RuntimeSettings, Sampling  # noqa: E402
from synth.generate import SynthRequest, synthesize  # noqa: E402
from synth.store import ModelStore  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "tests" / "synth" / "scrubbed.jsonl"
SCHEMA = {
    "type": "object",
    "properties": {
        "label": {"type": "string", "enum": ["billing", "login", "shipping"]},
        "text": {"type": "string", "minLength": 20, "maxLength": 400},
    },
    "required": ["label", "text"],
    "additionalProperties": False,
}


class RecordingEngine(Engine):
    """The Airlock engine, remembering each call so it can be replayed raw."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls: list[tuple] = []

    def complete(self, messages, sampling, seed, schema=None, stop=None):
        self.calls.append((messages, sampling, seed, stop))
        return super().complete(messages, sampling, seed, schema=schema, stop=stop)


def replay_raw(llm, calls: list[tuple]) -> tuple[float, float, int]:
    """The recorded calls through llama-cpp-python alone: (CPU s, wall s, completion tokens)."""
    tokens = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for messages, s, seed, stop in calls:
        llm.reset()
        args = dict(temperature=s.temperature, top_k=s.top_k, top_p=s.top_p, min_p=s.min_p,
                    repeat_penalty=s.repeat_penalty, max_tokens=s.max_tokens, seed=seed, stop=stop or [])
        if isinstance(messages, str):
            out = llm.create_completion(messages, **args)
        else:
            out = llm.create_chat_completion(messages, **args)
        tokens += out["usage"]["completion_tokens"]
    return time.process_time() - cpu, time.perf_counter() - wall, tokens


def prompt_cpu_per_token(llm, calls: list[tuple]) -> float:
    """CPU seconds per prompt token (the recorded prompts, evaluated with one output token), so
    that decode speed can be separated from prompt evaluation in the structured-output runs."""
    cpu, tokens = time.process_time(), 0
    for messages, s, seed, stop in calls:
        llm.reset()
        out = llm.create_chat_completion(messages, max_tokens=1, seed=seed, temperature=s.temperature)
        tokens += out["usage"]["prompt_tokens"]
    return (time.process_time() - cpu) / tokens


def build_prompts(records: list[dict], count: int = 6) -> list[str]:
    """Few-shot-sized raw prompts (~250-400 tokens) from the scrubbed test records."""
    texts = [r["text"] for r in records if r.get("text")]
    return ["Examples of support records:\n" + "\n".join(f"- {t}" for t in texts[i : i + 4]) + "\n- "
            for i in range(0, 4 * count, 4)]


def measure_build(model_path: str, prompts: list[str], max_tokens: int, n_gpu_layers: int) -> dict:
    """In a child: prompt and decode tokens per CPU second of this llama_cpp (one thread, so the
    process's CPU time is the engine's, and a busy machine distorts it far less than wall time)."""
    import llama_cpp

    llm = llama_cpp.Llama(model_path=model_path, n_ctx=1024, n_threads=1, n_threads_batch=1,
                          n_gpu_layers=n_gpu_layers, verbose=False)
    prompt_tokens = decode_tokens = 0
    prompt_s = total_s = 0.0
    for seed, prompt in enumerate(prompts):
        llm.reset()
        began = time.process_time()
        out = llm.create_completion(prompt, max_tokens=1, temperature=0.0, seed=seed)
        prompt_s += time.process_time() - began
        prompt_tokens += out["usage"]["prompt_tokens"]
        llm.reset()
        began = time.process_time()
        out = llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, seed=seed)
        total_s += time.process_time() - began
        decode_tokens += out["usage"]["completion_tokens"]
    decode_s = max(total_s - prompt_s, 1e-9)
    return {"module": llama_cpp.__file__, "prompt_tps": prompt_tokens / prompt_s, "decode_tps": decode_tokens / decode_s,
            "decode_tokens": decode_tokens, "system_info": llama_cpp.llama_print_system_info().decode().strip()}


def compare_builds(model_path: Path, records: list[dict], args) -> None:  # noqa: ANN001
    """Installed build vs the portable build, same prompts, alternating child processes."""
    import subprocess
    import tempfile

    from api.doctor import engine_record

    root = Path(__file__).resolve().parents[1]
    wheel_dir = Path(subprocess.run([str(root / "scripts" / "engine-wheel.sh"), "portable"], check=True,
                                    capture_output=True, text=True).stdout.strip())
    portable = Path(tempfile.mkdtemp(prefix="airlock-portable-"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(portable),
                    *map(str, wheel_dir.glob("llama_cpp_python-*.whl"))], check=True)
    prompts = json.dumps(build_prompts(records))
    runs: dict[str, list[dict]] = {"installed": [], "portable": []}
    for _ in range(args.rounds):
        for name, path in (("installed", None), ("portable", portable)):
            env = {**os.environ, "PYTHONPATH": str(path)} if path else dict(os.environ)
            out = subprocess.run([sys.executable, __file__, "--measure-build", str(model_path), prompts,
                                  str(args.max_tokens), str(args.n_gpu_layers)], env=env, check=True,
                                 capture_output=True, text=True).stdout
            runs[name].append(json.loads(out.splitlines()[-1]))
    best = {name: {k: max(r[k] for r in rs) for k in ("prompt_tps", "decode_tps")} for name, rs in runs.items()}
    flavor = (engine_record() or {}).get("flavor", "unknown")
    print(f"\n[build] installed ({flavor}) vs portable (AVX2), {len(json.loads(prompts))} prompts, one thread, "
          f"best of {args.rounds}")
    for name in ("installed", "portable"):
        print(f"  {name:9s}: prompt {best[name]['prompt_tps']:7.1f} tok/CPU-s, decode {best[name]['decode_tps']:6.1f} tok/CPU-s"
              f"  [{runs[name][0]['system_info'][:90]}]")
    print(f"  ratio installed/portable: prompt {best['installed']['prompt_tps'] / best['portable']['prompt_tps']:.2f}×, "
          f"decode {best['installed']['decode_tps'] / best['portable']['decode_tps']:.2f}×")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--measure-build":
        model_path, prompts, max_tokens, gpu = sys.argv[2:6]
        print(json.dumps(measure_build(model_path, json.loads(prompts), int(max_tokens), int(gpu))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8, help="records in the overhead run")
    parser.add_argument("--rounds", type=int, default=2, help="alternating Airlock/raw rounds (best kept)")
    parser.add_argument("--structured-n", type=int, default=8, help="records per structured-output run")
    parser.add_argument("--n-gpu-layers", type=int, default=0)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--skip-build", action="store_true", help="skip the installed-vs-portable build comparison")
    parser.add_argument("--build-only", action="store_true", help="run only the installed-vs-portable build comparison")
    parser.add_argument("--paths-n", type=int, default=15, help="records per path in section 3 (0: skip)")
    parser.add_argument("--only-paths", action="store_true", help="run section 3 alone")
    parser.add_argument("--no-finetuned", action="store_true", help="section 3 without the fine-tuned path")
    parser.add_argument("--cache", type=Path, help="section 3: keep scrubbed records and the adapter here between runs")
    args = parser.parse_args()
    if args.only_paths:
        compare_paths(args.paths_n, not args.no_finetuned, args.cache)
        return

    store = ModelStore(Settings().models_dir)
    model = store.pull()
    runtime = RuntimeSettings(n_gpu_layers=args.n_gpu_layers)
    records = list(read_records(DATA))
    sampling = Sampling(max_tokens=args.max_tokens)
    print(f"model {model.name} ({model.sha256[:12]}), n_threads={runtime.n_threads}, n_gpu_layers={runtime.n_gpu_layers}")

    if not args.skip_build:
        compare_builds(model.path, records, args)
    if args.build_only:
        return

    # 1. overhead
    import llama_cpp

    engine = RecordingEngine(model, runtime)
    raw = llama_cpp.Llama(model_path=str(model.path), n_ctx=runtime.n_ctx, n_threads=runtime.n_threads,
                          n_threads_batch=runtime.n_threads, n_gpu_layers=runtime.n_gpu_layers, verbose=False)
    # Prefix reuse off: the raw replay starts every call from an empty context, so only then do both
    # sides evaluate the same tokens and the ratio is Airlock's overhead (section 3 measures the reuse).
    request = SynthRequest(mode="fewshot", n=args.n, seed=11, label_field="label", sampling=sampling,
                           reuse_prefix=False)
    airlock_runs, raw_runs = [], []
    for _ in range(args.rounds):
        engine.calls.clear()
        cpu, wall = time.process_time(), time.perf_counter()
        result = synthesize(records, request, engine)
        airlock_runs.append((time.process_time() - cpu, time.perf_counter() - wall, result.summary["completion_tokens"]))
        raw_runs.append(replay_raw(raw, engine.calls))
    prompt_cost = prompt_cpu_per_token(raw, engine.calls)
    engine.close()
    raw.close()
    a_cpu, a_wall, a_tokens = min(airlock_runs)
    r_cpu, r_wall, r_tokens = min(raw_runs)
    print(f"\n[overhead] fewshot, {len(engine.calls)} model calls, {result.summary['generated']}/{args.n} records kept, "
          f"best of {args.rounds} rounds")
    print(f"  raw llama-cpp-python : {r_tokens:5d} tokens, {r_cpu:7.2f} CPU s = {r_tokens / r_cpu:6.1f} tok/CPU-s "
          f"(wall {r_wall:.2f} s)")
    print(f"  Airlock synthesize   : {a_tokens:5d} tokens, {a_cpu:7.2f} CPU s = {a_tokens / a_cpu:6.1f} tok/CPU-s "
          f"(wall {a_wall:.2f} s)")
    print(f"  ratio Airlock/raw    : {(a_tokens / a_cpu) / (r_tokens / r_cpu):.3f}  "
          f"(overhead {100 * (a_cpu / r_cpu - 1):+.1f}% CPU, {100 * (a_wall / r_wall - 1):+.1f}% wall; "
          f"target ≤ +5%; same tokens: {a_tokens == r_tokens})")

    # 2. structured output
    engine = Engine(model, runtime)
    rows = {}
    for name, schema, path in (("unconstrained text", None, "fast"), ("grammar every call", SCHEMA, "grammar"),
                               ("fast path", SCHEMA, "fast")):
        request = SynthRequest(mode="classify", n=args.structured_n, seed=5, label_field="label",
                               sampling=sampling, schema=schema, structured_path=path, max_attempts=3)
        cpu = time.process_time()
        result = synthesize(records, request, engine)
        seconds = time.process_time() - cpu
        s = result.summary
        valid = sum(_valid(r, schema) for r in result.records) if schema else len(result.records)
        decode = s["completion_tokens"] / max(seconds - s["prompt_tokens"] * prompt_cost, 1e-9)
        rows[name] = (s["completion_tokens"] / seconds, decode, len(result.records), valid, s, seconds)
    engine.close()
    base, base_decode = rows["unconstrained text"][:2]
    print(f"\n[structured] classify, {args.structured_n} records, schema {{label enum, text}}; "
          f"prompt eval {1 / prompt_cost:.0f} tok/CPU-s")
    print("  (end-to-end = completion tokens / all CPU s; decode = the same without prompt evaluation)")
    for name, (tps, decode, kept, valid, s, seconds) in rows.items():
        print(f"  {name:20s}: end-to-end {tps:5.1f} tok/CPU-s ({tps / base:4.2f}×), decode {decode:6.1f} tok/CPU-s "
              f"({decode / base_decode:4.2f}×), {valid}/{kept} valid of {args.structured_n}, {s['attempts']} attempts, "
              f"{s['constrained_calls']} grammar calls, {seconds / max(kept, 1):5.2f} CPU s/record, "
              f"rejected {json.dumps(s['rejected'])}")
    if args.paths_n:
        compare_paths(args.paths_n, not args.no_finetuned, args.cache)


def compare_paths(n: int, finetuned: bool = True, cache: Path | None = None) -> None:
    """Section 3: kept records per CPU-minute, the pre-issue-12 path against today's few-shot path and
    (`finetuned`) the fine-tuned path (LoRA on the draw's training records, four candidates per record),
    same run. The adapter's training is timed apart (`cache`: trained once, reused by later runs)."""
    from bench import utility
    from bench.utility_finetune import finetuned_model

    train_raw, _ = utility.draw_task(utility.load_corpus(), "dev", 0)
    scrubbing = utility.Scrubbing(cache)
    train = scrubbing.scrub_cached(train_raw)
    rows, training, model = {}, None, None
    for path in ("today", "new") + (("lora", "lora-alone") if finetuned else ()):
        if path == "lora":
            store = (cache or Path(tempfile.mkdtemp(prefix="airlock-bench-"))) / "models"
            model, training, _ = finetuned_model(train, "lora", 0, 1, store)
        records, summary = utility.synthesize_for(train, scrubbing, n, path.removesuffix("-alone"), seed=3, threads=1,
                                                  model=model, n_parallel=1 if path == "lora-alone" else None)
        rows[path] = (len(records), summary)
    print(f"\n[paths] classify on BBC News ledes (dev part), n={n}, one thread, kept records per CPU-minute")
    names = {"today": "before issue 12", "new": "few-shot now", "lora": "fine-tuned now",
             "lora-alone": "fine-tuned, calls one at a time"}
    for path, (kept, s) in rows.items():
        chosen = f", best of {c['per_record']} candidates ({c['relabelled']} relabelled)" if (c := s.get("candidates")) else ""
        print(f"  {names[path]:31s}: {kept:3d}/{n} kept, {s['attempts']:3d} attempts ({s['rejection_rate']:.0%} rejected{chosen}), "
              f"{s['prompt_tokens_evaluated']:6d} of {s['prompt_tokens']:6d} prompt tokens evaluated, {s['cpu_seconds']:6.1f} CPU s "
              f"(model {s['model_cpu_seconds']:.1f}) = {kept / (s['cpu_seconds'] / 60):5.1f} kept/CPU-min; "
              f"rejected {json.dumps(s['rejected'])}")
    old_kept, old = rows["today"]
    for path in [p for p in rows if p != "today"]:
        kept, s = rows[path]
        speedup = (kept / s["cpu_seconds"]) / max(old_kept / old["cpu_seconds"], 1e-9)
        print(f"  ratio {names[path]} / before: {speedup:.1f}× (target ≥ 5×)")
    if training is not None:
        print(f"  the fine-tuned path's adapter: {training:.0f} CPU s of training, once per dataset (not counted above)")


def _valid(record: dict, schema: dict) -> bool:
    from jsonschema import validators

    body = {k: v for k, v in record.items() if k in schema["properties"]}
    return validators.validator_for(schema)(schema).is_valid(body)


if __name__ == "__main__":
    main()
