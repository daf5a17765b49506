"""Whether `airlock run` fine-tunes before it synthesizes: asked for (`--finetune`), or chosen by
the policy's `finetune_choice` from the training split's size and an estimate of the CPU time.

The estimate is the measured cost of LoRA on the bundled model (bench/utility.py --path lora, BBC
News ledes, 100 records × 3 epochs at up to 128 tokens: 262 and 322 CPU-seconds in two held-out runs,
2026-12-04, ~1.1 CPU-s per example; 1,003 CPU-s before the training loop was sped up), scaled by the
model file's size against the bundled one's and by DP-SGD's slowdown (the same bench at ε = 8: 415
CPU-s against LoRA's 322, 1.3×; bench/finetune.py at batch 8 measured 1.01×, 2026-12-05). It is a paper
estimate, so the policy's budget should leave room.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from synth.finetune.config import FinetuneConfig

REFERENCE_MODEL_BYTES = 98_362_432  # SmolLM2-135M-Instruct.Q4_1.gguf, on which the cost was measured
DP_SLOWDOWN = 1.3


class FinetuneChoice(BaseModel):
    """`never`: few-shot only; `always`: fine-tune every run; `auto`: fine-tune when the training split
    has at least `min_records` records and the estimated training time fits in `cpu_minutes`."""

    model_config = ConfigDict(extra="forbid")
    when: Literal["never", "auto", "always"] = "auto"
    min_records: int = Field(1000, ge=1)
    cpu_minutes: float = Field(240, gt=0)
    cpu_seconds_per_example: float = Field(1.1, gt=0)  # on the reference model, max_length 128


@dataclass(frozen=True)
class Decision:
    finetune: bool
    reason: str
    estimated_cpu_minutes: float

    def as_dict(self) -> dict:
        return asdict(self)


def estimate_cpu_minutes(records: int, config: FinetuneConfig, choice: FinetuneChoice, model_bytes: int) -> float:
    """Training CPU-minutes for `records` examples over the config's epochs on a model of that size."""
    per_example = choice.cpu_seconds_per_example * (model_bytes / REFERENCE_MODEL_BYTES)
    per_example *= config.max_length / 128 * (DP_SLOWDOWN if config.dp else 1.0)
    return records * config.epochs * per_example / 60


def decide(records: int, config: FinetuneConfig, choice: FinetuneChoice, model_bytes: int, asked: bool) -> Decision:
    """Fine-tune or not, and why, in words a report can carry."""
    minutes = round(estimate_cpu_minutes(records, config, choice, model_bytes), 1)
    if asked:
        return Decision(True, "asked for (--finetune)", minutes)
    if choice.when != "auto":
        return Decision(choice.when == "always", f"policy finetune_choice.when: {choice.when}", minutes)
    if records < choice.min_records:
        return Decision(False, f"{records} training records, fewer than the {choice.min_records} that "
                               f"fine-tuning needs (finetune_choice.min_records): few-shot", minutes)
    if minutes > choice.cpu_minutes:
        return Decision(False, f"training would take ~{minutes:g} CPU-minutes, over the budget of "
                               f"{choice.cpu_minutes:g} (finetune_choice.cpu_minutes): few-shot", minutes)
    return Decision(True, f"{records} training records; ~{minutes:g} CPU-minutes of training fit the budget "
                          f"of {choice.cpu_minutes:g}", minutes)
