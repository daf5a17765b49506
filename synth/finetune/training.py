"""LoRA training of a GGUF base model in PyTorch; the same loop with or without DP-SGD.

The base is loaded by transformers straight from its GGUF file (dequantized to fp32). The loss is
each sequence's mean next-token loss over its answer tokens, then the batch mean: one record is
one privacy unit, which per-example clipping needs (HF's `labels=` loss averages over all tokens
of the batch instead). Sequences are left-padded so that every answer ends at the last position
and logits are computed only over the answer span (the vocabulary, 49k tokens, 262k for Gemma 3,
dominates memory).
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Callable
from contextlib import contextmanager, redirect_stderr, suppress
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader

from privacy.errors import BadInput, ModelError
from synth.finetune.config import FinetuneConfig
from synth.finetune.data import Encoded
from synth.finetune.guarantee import DPTraining, PrivacyPlan
from synth.store import ModelInfo

CHECKPOINT_FILE = "checkpoint.pt"
CHECKPOINT_VERSION = 2  # 2: no secret noise state in checkpoints


@dataclass(frozen=True)
class TrainingStep:
    """What the progress display shows after each optimizer step."""

    step: int
    total: int
    loss: float | None  # None for an empty Poisson batch (a noise-only step)
    epsilon: float | None  # ε spent so far; None without DP


@dataclass(frozen=True)
class TrainingOutcome:
    steps: int
    epsilon_spent: float | None
    resumed_from: int  # 0: a fresh run


def load_base(base: ModelInfo):
    """The base model as a trainable fp32 causal LM (`LlamaForCausalLM`, `Gemma3ForCausalLM`), without
    transformers' GGUF quantizer (which would forbid saving and merging)."""
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        with redirect_stderr(io.StringIO()):  # its GGUF loader draws a tqdm bar no setting turns off
            model = AutoModelForCausalLM.from_pretrained(base.path.parent, gguf_file=base.path.name, dtype=torch.float32)
    except (OSError, ValueError, RuntimeError, KeyError, TypeError):
        raise ModelError(f"model {base.name!r}: transformers could not load {base.path.name} for training") from None
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    model.config.use_cache = False
    return model


def add_lora(model, config: FinetuneConfig):
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(r=config.lora_r, lora_alpha=config.alpha, lora_dropout=0.0, target_modules=list(config.targets))
    with warnings.catch_warnings():  # peft asks transformers a deprecated question; nothing for us to change
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return get_peft_model(model, lora)


def adapter_weights(model) -> dict:
    """HF weight name → (A, B) of each projection the peft `model` wraps with LoRA (r × in, out × r)."""
    return {
        name.removeprefix("base_model.model.") + ".weight": (module.lora_A["default"].weight, module.lora_B["default"].weight)
        for name, module in model.named_modules()
        if hasattr(module, "lora_A") and "default" in module.lora_A
    }


def collate(batch: list[tuple[torch.Tensor, int]]) -> dict[str, torch.Tensor]:
    """Left-pad a batch; mark the answer tokens the loss is taken over."""
    width = max(len(ids) for ids, _ in batch)
    input_ids = torch.zeros((len(batch), width), dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    target = torch.zeros((len(batch), width), dtype=torch.bool)
    for row, (ids, n_prompt) in enumerate(batch):
        start = width - len(ids)
        input_ids[row, start:] = ids
        attention[row, start:] = 1
        target[row, start + n_prompt :] = True
    positions = (attention.cumsum(1) - 1).clamp(min=0)
    return {"input_ids": input_ids, "attention_mask": attention, "position_ids": positions, "target_mask": target}


def sequence_losses(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Each sequence's mean next-token loss over its answer tokens (shape: batch)."""
    target = batch["target_mask"]
    keep = int(target.sum(1).max())
    out = model(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        position_ids=batch["position_ids"],
        logits_to_keep=keep + 1,
    )
    logits = out.logits[:, :-1]  # position t predicts token t+1: these predict the last `keep` tokens
    labels = batch["input_ids"][:, -keep:]
    mask = target[:, -keep:].float()
    nll = F.cross_entropy(logits.transpose(1, 2), labels, reduction="none")
    return (nll * mask).sum(1) / mask.sum(1)


def train(
    model,
    encoded: list[Encoded],
    config: FinetuneConfig,
    plan: PrivacyPlan | None,
    run_key: str,
    on_step: Callable[[TrainingStep], None] | None = None,
) -> TrainingOutcome:
    """Train the LoRA parameters of `model` in place; with `plan`, under DP-SGD.

    With `config.checkpoint_dir`, state (adapter, optimizer, the data order's generator, and the
    accountant's history) is saved every `checkpoint_every` steps and when the run is interrupted;
    a later call with the same run resumes there, so the privacy budget recorded is the budget spent.
    Under DP the noise and sampling generator is secret: it is never saved, and a resumed run draws
    a fresh one (each Poisson batch and each noise draw is independent, so nothing is lost).
    """
    torch.manual_seed(config.seed)  # LoRA initialisation and data order: public, as DP-SGD allows
    data_rng = torch.Generator().manual_seed(config.seed)
    lora = {name: p for name, p in model.named_parameters() if p.requires_grad}
    optimizer = torch.optim.AdamW(lora.values(), lr=config.learning_rate, weight_decay=0.0)
    dataset = [(torch.tensor(e.ids, dtype=torch.long), e.n_prompt) for e in encoded]
    loader = DataLoader(dataset, batch_size=config.batch_size, shuffle=True, collate_fn=collate, generator=data_rng)
    total = config.epochs * len(loader)
    dp = None
    if plan is not None:
        dp = DPTraining(plan, seeded_noise=config.seed + 1 if config.seeded_noise else None)
        model, optimizer, loader = dp.make_private(model, optimizer, loader)

    checkpoint = _Checkpoint(config, run_key)
    resumed = checkpoint.restore(lora, optimizer, dp, data_rng)
    step, pass_state, into_pass = resumed or (0, None, 0)
    batches = None
    updating = False
    model.train()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Full backward hook is firing")  # Opacus, frozen inputs: harmless
        try:
            while step < total:
                if batches is None:  # a pass over the loader; resuming replays its draws up to `into_pass`
                    if pass_state is not None:
                        data_rng.set_state(pass_state)
                    pass_state = data_rng.get_state()
                    batches = iter(loader)
                    for _ in range(into_pass):
                        next(batches)
                batch = next(batches, None)
                if batch is None:
                    batches, pass_state, into_pass = None, None, 0
                    continue
                into_pass += 1
                with _memory_errors(batch, config):
                    loss = _backward(model, batch, lora.values())
                    updating = True  # parameters, noise and accountant change together: never save halfway
                    optimizer.step()
                    optimizer.zero_grad(set_to_none=True)
                    if dp is not None:
                        dp.step_done()
                    updating = False
                step += 1
                checkpoint.step_done(step, pass_state, into_pass)
                if step % config.checkpoint_every == 0 or step == total:
                    checkpoint.save(lora, optimizer, dp)
                if on_step:
                    on_step(TrainingStep(step, total, loss, dp.spent() if dp else None))
        except KeyboardInterrupt:
            if not updating:
                checkpoint.save(lora, optimizer, dp)
            raise
    return TrainingOutcome(step, dp.spent() if dp else None, resumed[0] if resumed else 0)


def _backward(model, batch, parameters) -> float | None:
    """Gradients of the batch's loss; an empty Poisson batch (DP only) leaves zero per-example gradients."""
    if _size(batch) == 0:
        DPTraining.noise_only(parameters)
        return None
    loss = sequence_losses(model, batch).mean()
    loss.backward()
    return float(loss.detach())


def _size(batch) -> int:
    return batch["input_ids"].shape[0] if isinstance(batch, dict) else 0


@contextmanager
def _memory_errors(batch, config: FinetuneConfig):
    try:
        yield
    except (MemoryError, RuntimeError) as error:
        if isinstance(error, MemoryError) or "memory" in str(error).lower():
            raise ModelError(
                f"ran out of memory training a batch of {_size(batch)} sequences of up to {config.length_cap} "
                "tokens; lower --batch-size or --max-length"
            ) from None
        raise


class _Checkpoint:
    """The last completed step's state, written atomically; none when no checkpoint_dir is set."""

    def __init__(self, config: FinetuneConfig, run_key: str):
        self.path = config.checkpoint_dir / CHECKPOINT_FILE if config.checkpoint_dir else None
        self.restart = config.restart
        self.run_key = run_key
        self.position: tuple[int, object, int] | None = None
        self.saved_step = -1

    def restore(self, lora, optimizer, dp, data_rng) -> tuple[int, torch.Tensor, int] | None:
        if self.path is None or not self.path.is_file():
            return None
        state = torch.load(self.path, weights_only=False)
        if state.get("version") != CHECKPOINT_VERSION or state.get("run_key") != self.run_key:
            if self.restart:
                return None
            raise BadInput(
                f"{self.path.parent.name}: holds a checkpoint of a different fine-tuning run (other data, "
                "base model or settings); pass --restart to discard it"
            )
        with torch.no_grad():
            for name, tensor in state["adapter"].items():
                lora[name].copy_(tensor)
        optimizer.load_state_dict(state["optimizer"])
        if dp is not None:
            dp.load_state_dict(state["accountant"])
            if dp.seeded and state.get("noise_rng") is not None:  # test mode only: its seed is public anyway
                dp.generator.set_state(state["noise_rng"])
        data_rng.set_state(state["pass_rng"])
        self.saved_step = state["step"]
        return state["step"], state["pass_rng"], state["into_pass"]

    def step_done(self, step: int, pass_state, into_pass: int) -> None:
        self.position = (step, pass_state, into_pass)

    def save(self, lora, optimizer, dp) -> None:
        if self.path is None or self.position is None or self.position[0] == self.saved_step:
            return
        step, pass_state, into_pass = self.position
        state = {
            "version": CHECKPOINT_VERSION,
            "run_key": self.run_key,
            "step": step,
            "pass_rng": pass_state,
            "into_pass": into_pass,
            # The secure generator's state would let anyone holding the checkpoint regenerate the noise.
            "noise_rng": dp.generator.get_state() if dp is not None and dp.seeded else None,
            "adapter": {name: p.detach().clone() for name, p in lora.items()},
            "optimizer": optimizer.state_dict(),
            "accountant": dp.state_dict() if dp is not None else None,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".part")
        torch.save(state, partial)
        os.replace(partial, self.path)
        self.saved_step = step


def remove_checkpoint(config: FinetuneConfig) -> None:
    """After the model is registered the run is over: nothing is left to resume."""
    if config.checkpoint_dir is not None:
        (Path(config.checkpoint_dir) / CHECKPOINT_FILE).unlink(missing_ok=True)
        with suppress(OSError):
            Path(config.checkpoint_dir).rmdir()  # only if empty
