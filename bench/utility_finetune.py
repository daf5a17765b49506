"""The fine-tuned paths of bench/utility.py: label-conditioned LoRA, and DP-LoRA at ε = 8 and ε = 4,
trained on the bench's scrubbed training records exactly as `airlock run --finetune [--dp]` trains
(synth.finetune with the records' text and label fields), then generating with no source examples
in the prompt (k = 0), as the pipeline does with a model fine-tuned on the task.

Models go to a bench-only model store (under `--cache`, or a temporary directory), never the
site's: a bench model is not a release candidate. A model trained on the same records with the same
settings is reused from that store across runs; its training CPU seconds are recorded beside it.
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


def _name(train: list[dict], path: str, seed: int, epochs: int = EPOCHS) -> str:
    digest = hashlib.sha256(json.dumps([r["id"] for r in train]).encode()).hexdigest()[:12]
    return f"bench-{path}-{digest}-s{seed}" + ("-hints" if path == "lora" else "") + (f"-e{epochs}" if epochs != EPOCHS else "")


def finetuned_model(train: list[dict], path: str, seed: int, threads: int, store_dir: Path, epochs: int = EPOCHS):
    """(ModelInfo, training CPU seconds, ε spent or None) for one fine-tuned path (`epochs`: an ablation)."""
    from api.settings import Settings
    from synth.finetune import FinetuneConfig, finetune
    from synth.store import ModelStore

    store, name = ModelStore(store_dir), _name(train, path, seed, epochs)
    ledger = Path(store_dir) / f"{name}.json"
    known = {m.name: m for m in store.list()}
    if name in known and ledger.exists():
        saved = json.loads(ledger.read_text())
        return known[name], saved["cpu_seconds"], saved["epsilon"]
    epsilon = FINETUNE_PATHS[path]
    config = FinetuneConfig(dp=epsilon is not None, epsilon=epsilon or 8.0, epochs=epochs, seed=seed,
                            text_fields=["text"], label_field="label", noun="news article", threads=threads,
                            hints=path != "lora-nohints")
    base = ModelStore(Settings().models_dir).get(BASE_MODEL)
    started = time.process_time()

    def progress(step: int, total: int | None) -> None:
        print(f"  {path}: training step {step}/{total}, {time.process_time() - started:.0f} CPU s",
              file=sys.stderr, flush=True)

    model = finetune(train, base, store, config, progress=progress, name=name)
    cpu = round(time.process_time() - started, 1)
    spent = model.provenance.get("epsilon_spent", model.provenance.get("epsilon")) if epsilon else None
    ledger.write_text(json.dumps({"cpu_seconds": cpu, "epsilon": spent}))
    return model, cpu, spent
