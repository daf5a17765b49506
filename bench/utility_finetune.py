"""The fine-tuned paths of bench/utility.py: label-conditioned LoRA, and DP-LoRA at ε = 8 and ε = 4,
trained on the bench's scrubbed training records exactly as `airlock run --finetune [--dp]` trains
(synth.finetune with the records' text and label fields), then generating with no source examples
in the prompt (k = 0), as the pipeline does with a model fine-tuned on the task.

Models go to a bench-only model store (under `--cache`, or a temporary directory), never the
site's: a bench model is not a release candidate. A model trained on the same records with the same
settings is reused from that store across runs; its training CPU seconds are recorded beside it.

DP-LoRA settings tried at ε = 8 (dev draw 0, `--path dp8 --train-set ...`, 2026-12-05, Xeon 2 cores; each
run draws fresh noise): the defaults (rank 8 on every projection, clip 1, batch 8, lr 2e-3) TSTR ratio 0.54;
rank 2 on q/v, batch 25, lr 5e-3: 0.57 (the same adapter without DP: 0.75); rank 1 on q/v, clip 0.1
(below the per-record gradient norms, ~0.45), batch 25, lr 5e-3: 0.69 and, with another init seed, 0.51;
the same at lr 1e-2: 0.55; at batch 50 over 6 epochs: 0.61. The base model with no fine-tuning (k = 0):
0.46. Between DP runs of one setting the ratio moves by ±0.09, more than any setting moved it, so the
defaults were kept; on 100 records the noise ε = 8 needs outweighs what the records teach.
Keyword steering under DP from a list read from no record (tried 2026-12-06, Xeon 2 cores, dev draw 0, two
generations; the code was not kept): per label, the words the base model ranks after "List ten keywords
of a news article (label: …). Keywords:", weighted p · log(lift) against the other labels (e.g. sport:
football, cricket, soccer; tech: blockchain, cybersecurity), named in the DP model's training requests and
drawn at generation. DP-LoRA ε = 8 with them: TSTR ratio 0.568 (0.544–0.592), AUC 0.945; the base model with
no fine-tuning (k = 0) with them 0.585, AUC 0.956, without them 0.610, AUC 0.973. The model's idea of a topic
(2020s technology, film genres) is not the records'; not kept.
How far the records' own keywords could carry it (2026-12-06, Xeon 2 cores, dev draw 0, one generation; code not
kept, an upper bound only, as such a list is read from every record outside DP-SGD's guarantee): DP-LoRA ε = 8
trained and steered with the non-private keyword list of synth/steer.py: TSTR ratio 0.70 [0.63, 0.77], AUC 0.931;
the base model with no fine-tuning (k = 0) steered by it: 0.64 [0.56, 0.72], AUC 0.950. Even exact keywords leave
ε = 8 under 0.75, and a keyword list released under DP (a noisy histogram over a public vocabulary) would carry
less: by a rough estimate (not measured), with 20 records per label and a word in a handful of them, its count
would not clear the largest noise among thousands of candidate words at the noise ε = 8 allows. Not pursued.
Why ε = 8 on 100 records teaches so little: DP-SGD adds noise of std σ·C/B to every coordinate of the averaged
clipped gradient (guarantee.py's effective noise σ/(q·n), in clip norms). Rank-8 LoRA on every projection of the
30 blocks has 2,442,240 parameters, so at the defaults (σ 0.57, batch 8, 39 steps: 0.074 per coordinate) the
noise vector's norm is ~116 clip norms per step against an averaged gradient of at most one; full-batch steps
(batch 100, 6 epochs: 0.011) still leave ~18. Even rank 1 on the value projections only (23,040 parameters)
at full batch leaves ~1.7. The signal-to-noise of the summed updates does not grow with more steps (σ grows as
their square root), only with more records or fewer trained parameters: the ε = 8 goal needs more data than
100 records, or an adapter far smaller than one LoRA rank per block.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

# path → ε (None: LoRA without differential privacy). `lora-nohints`: LoRA trained without the keyword
# in its requests and generating without keyword steering (the LoRA path before 2026-12-04), an ablation.
FINETUNE_PATHS = {"lora": None, "lora-nohints": None, "dp8": 8.0, "dp4": 4.0}
EPOCHS = 3  # the protocol: "3 epochs on the 100 scrubbed records"
BASE_MODEL = "smollm2-135m-instruct"


def _name(train: list[dict], path: str, seed: int, epochs: int = EPOCHS, settings: dict | None = None,
          base: str = BASE_MODEL) -> str:
    digest = hashlib.sha256(json.dumps([r["id"] for r in train]).encode()).hexdigest()[:12]
    name = f"bench-{path}-{digest}-s{seed}" + ("" if base == BASE_MODEL else f"-{base}")
    name += ("-hints" if path == "lora" else "") + (f"-e{epochs}" if epochs != EPOCHS else "")
    # Exported as a base + LoRA adapter since 2026-12-07 (before: merged Q8_0 weights); a DP model's base in Q8_0
    # since later that day (before: IQ4_NL).
    name += "-adapter" + ("-q8" if FINETUNE_PATHS.get(path) is not None else "")
    if settings:
        name += "-t" + hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]
    return name


def finetuned_model(train: list[dict], path: str, seed: int, threads: int, store_dir: Path, epochs: int = EPOCHS,
                    settings: dict | None = None, base=None):
    """(ModelInfo, training CPU seconds, ε spent or None) for one fine-tuned path (`epochs`, `settings`:
    FinetuneConfig fields for an ablation; `base`: the model fine-tuned, default the bundled SmolLM2)."""
    from api.settings import Settings
    from synth.finetune import FinetuneConfig, finetune
    from synth.store import ModelStore

    base = base or ModelStore(Settings().models_dir).get(BASE_MODEL)
    store, name = ModelStore(store_dir), _name(train, path, seed, epochs, settings, base.name)
    ledger = Path(store_dir) / f"{name}.json"
    known = {m.name: m for m in store.list()}
    if name in known and ledger.exists():
        saved = json.loads(ledger.read_text())
        return known[name], saved["cpu_seconds"], saved["epsilon"]
    epsilon = FINETUNE_PATHS[path]
    config = FinetuneConfig(**{"dp": epsilon is not None, "epsilon": epsilon or 8.0, "epochs": epochs, "seed": seed,
                               "text_fields": ["text"], "label_field": "label", "noun": "news article",
                               "threads": threads, "hints": path != "lora-nohints", **(settings or {})})
    started = time.process_time()

    def progress(step: int, total: int | None) -> None:
        print(f"  {path}: training step {step}/{total}, {time.process_time() - started:.0f} CPU s",
              file=sys.stderr, flush=True)

    model = finetune(train, base, store, config, progress=progress, name=name)
    cpu = round(time.process_time() - started, 1)
    spent = model.provenance.get("epsilon_spent", model.provenance.get("epsilon")) if epsilon else None
    ledger.write_text(json.dumps({"cpu_seconds": cpu, "epsilon": spent}))
    return model, cpu, spent
