"""`finetune`: scrubbed training records in, a registered GGUF model out."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from privacy.errors import BadInput
from synth.finetune.config import FinetuneConfig
from synth.finetune.data import Tokenizer, dataset_fingerprint, render_examples
from synth.finetune.export import base_weights, check_exportable, merges
from synth.finetune.guarantee import plan_privacy, privacy_units, provenance
from synth.scrubbed import require_scrubbed
from synth.store import MODEL_NAME_PATTERN, ModelInfo, ModelStore

ProgressFn = Callable[[int, int | None], None]


def finetune(
    records: list[dict],
    base: ModelInfo,
    store: ModelStore,
    config: FinetuneConfig,
    progress: ProgressFn | None = None,
    on_step: Callable | None = None,
    name: str | None = None,
) -> ModelInfo:
    """LoRA-fine-tune `base` on scrubbed training `records` (with DP-SGD when `config.dp`), export it to
    GGUF (the copy of the base the adapter is trained on, with re-quantized weights, and the adapter; under
    DP the two merged into one file: synth/finetune/export.py), check that llama.cpp runs it, and register
    it in `store` under `name`
    (default: '<base>-ft' or '<base>-dp-ft') with its privacy provenance.

    `progress(step, total)` follows optimizer steps; `on_step(TrainingStep)` also gets the loss and
    the ε spent so far. Only a complete, checked model ever enters the store.
    """
    name = name or f"{base.name}-{'dp-' if config.dp else ''}ft"
    if not MODEL_NAME_PATTERN.match(name):
        raise BadInput(f"model name {name!r}: use letters, digits, '.', '_' or '-' (at most 80)")
    if any(m.name == name for m in store.list()):
        raise BadInput(f"model {name!r} already exists in the model store; choose another name")
    check_exportable(base)
    if not records:
        raise BadInput("no training records")
    require_scrubbed(records)
    examples, prompt_format = render_examples(
        records, config.text_fields, config.label_field, config.id_field, config.noun,
        hints=config.hints and not config.dp,
    )
    keep, unit = (
        privacy_units(records, config.privacy_unit, config.id_field, config.seed)
        if config.dp
        else (list(range(len(records))), "one record")
    )
    chosen = [records[i] for i in keep]
    plan = (
        plan_privacy(
            len(keep),
            epsilon=config.epsilon,
            delta=config.delta,
            batch_size=config.batch_size,
            epochs=config.epochs,
            clip_norm=config.clip_norm,
            accountant=config.accountant,
        )
        if config.dp
        else None
    )
    tokenizer = Tokenizer(base.path)
    try:
        encoded = [tokenizer.encode(examples[i], config.length_cap) for i in keep]
    finally:
        tokenizer.close()
    fingerprint = dataset_fingerprint(chosen)
    run_key = _run_key(config, base, fingerprint, name)

    from synth.finetune.export import check_generates, write_adapter, write_base
    from synth.finetune.training import adapter_weights, add_lora, load_base, remove_checkpoint, train

    def report(step) -> None:
        if progress:
            progress(step.step, step.total)
        if on_step:
            on_step(step)

    record = {
        "base_model": base.name,
        "base_model_sha256": base.sha256,
        "method": _method(config.dp),
        "dataset_size": len(chosen),
        "dataset_records": len(records),
        "dataset_fingerprint": fingerprint,
        "lora_r": config.lora_r,
        "lora_alpha": config.alpha,
        "lora_targets": list(config.targets),
        "learning_rate": config.learning_rate,
        "batch_size": config.batch_size,
        "max_length": config.length_cap,
        "records_cut": sum(1 for e in encoded if e.cut),  # records longer than max_length, trained on their start
        "seed": config.seed,
        "prompt_format": prompt_format,
    }
    with tempfile.TemporaryDirectory(prefix="airlock-finetune-") as tmp:
        staged, adapter = Path(tmp) / f"{name}.gguf", Path(tmp) / f"{name}.lora.gguf"
        write_base(base.path, staged, base_weights(config.dp))
        with _torch_threads(config.threads):
            model = add_lora(load_base(replace(base, path=staged)), config)
            outcome = train(model, encoded, config, plan, run_key, report)
        record.update(provenance(plan, unit, outcome.epsilon_spent, outcome.steps, config.epochs, config.seeded_noise))
        if merges(config.dp):
            staged, adapter = _merged(model, config, staged, record), None
        else:
            write_adapter(adapter_weights(model), staged, adapter, config.alpha, record)
        check_generates(staged, adapter)
        info = store.add(staged, name, record, adapter=adapter)
    remove_checkpoint(config)
    return info


def _method(dp: bool) -> str:
    weights = f"on a copy of the base whose Q4_1/Q5 weights are re-quantized to {base_weights(dp)}"
    if merges(dp):
        return f"LoRA fine-tuning {weights}, merged and exported to GGUF (Q8_0)"
    return f"LoRA fine-tuning {weights}; the adapter (F32) is exported to GGUF beside that copy"


def _merged(model, config: FinetuneConfig, base: Path, provenance: dict) -> Path:
    """The adapter merged into `base` (the copy it was trained on), written beside it: the new file."""
    from synth.finetune.export import write_merged

    merged = model.merge_and_unload()
    changed = {k: v for k, v in merged.state_dict().items() if k.rsplit(".", 2)[-2] in config.targets}
    target = base.with_name(f"{base.stem}.merged.gguf")
    write_merged(changed, base, target, provenance)
    return target


def _run_key(config: FinetuneConfig, base: ModelInfo, fingerprint: str, name: str) -> str:
    """What makes two calls the same run (so a checkpoint of one may resume the other)."""
    settings = config.model_dump(mode="json", exclude={"checkpoint_dir", "checkpoint_every", "restart", "threads"})
    blob = json.dumps({"settings": settings, "base": base.sha256, "trained_on": base_weights(config.dp),
                       "data": fingerprint, "name": name}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


@contextmanager
def _torch_threads(threads: int | None):
    import torch

    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
