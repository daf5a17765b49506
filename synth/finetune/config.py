"""What a fine-tuning run is asked to do: one validated object the CLI, the pipeline and tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# The projections of a Llama-style block a LoRA adapter can sit on (Gemma 3 names them alike).
LoraModule = Literal["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
LORA_MODULES: tuple[str, ...] = LoraModule.__args__
LENGTH_CAP, DP_LENGTH_CAP = 512, 128  # default training sequence caps, in tokens (request + record)


class FinetuneConfig(BaseModel):
    """LoRA fine-tuning of a GGUF base model, with differential privacy when `dp` is set.

    Without DP the model is labelled as trained without a guarantee. `delta` defaults to 1/n^1.1
    for n privacy units. `batch_size` is the expected (Poisson) batch under DP. Rendering fields
    (`text_fields`, `label_field`, `id_field`, `noun`) mean what they mean to `airlock synth`.
    """

    model_config = ConfigDict(extra="forbid")

    dp: bool = False
    epsilon: float = Field(8.0, gt=0, le=100)
    delta: float | None = Field(None, gt=0, lt=1)
    accountant: Literal["rdp", "prv"] = "rdp"
    clip_norm: float = Field(1.0, gt=0)
    # 3: on whole records it beat 2 and 4 on both dev draws measured (bench/utility.py docstring).
    epochs: int = Field(3, ge=1, le=1000)
    batch_size: int = Field(8, ge=1, le=1024)
    learning_rate: float = Field(2e-3, gt=0, le=1)
    lora_r: int = Field(8, ge=1, le=256)
    lora_alpha: float | None = Field(None, gt=0)  # None: 2 × lora_r
    lora_targets: list[LoraModule] | None = Field(None, min_length=1)  # None: every projection
    # A cap, not a size: batches are padded to their longest sequence. Longer records are trained on
    # their start only (counted as `records_cut` in the provenance). None: `length_cap` (synth/finetune/data.py).
    max_length: int | None = Field(None, ge=16, le=8192)
    seed: int = 0
    # Which record field names the person a record is about; records of one person then count
    # as one privacy unit (one of them is trained on).
    privacy_unit: str | None = None
    text_fields: list[str] | None = None
    label_field: str | None = None
    id_field: str = "id"
    noun: str = "record"
    # Each request names the record's own keyword, and generation steers by keywords drawn from the
    # real records (synth/finetune/data.py). Never under DP: the keyword list is read from all records.
    hints: bool = True
    checkpoint_dir: Path | None = None  # None: no checkpoints, no resume
    checkpoint_every: int = Field(10, ge=1)
    restart: bool = False  # discard a checkpoint of a different run instead of refusing
    threads: int | None = Field(None, ge=1)  # torch CPU threads; None: torch's default
    # Tests only: DP-SGD noise and sampling drawn from `seed`, so a run can be repeated exactly. Whoever
    # knows the seed (it is in the provenance) can remove the noise: such a model is recorded and
    # reported as NOT differentially private. Never exposed by the CLI or the policy.
    seeded_noise: bool = False

    @property
    def length_cap(self) -> int:
        """`max_length`, or by default whole records up to 512 tokens; under DP the first 128, where whole
        records measured worse (synth/finetune/data.py)."""
        return self.max_length or (DP_LENGTH_CAP if self.dp else LENGTH_CAP)

    @property
    def alpha(self) -> float:
        return self.lora_alpha or 2.0 * self.lora_r

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(self.lora_targets or LORA_MODULES)
