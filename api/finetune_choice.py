"""Whether `airlock run` fine-tunes before it synthesizes: asked for (`--finetune`), or chosen by
the policy's `finetune_choice` from the training split's size and an estimate of the CPU time.

The estimate is the measured cost of LoRA on the bundled model (bench/utility.py --path lora, BBC
News ledes, 100 records × 3 epochs; 2026-12-06, AMD EPYC: 603 CPU-seconds with whole records, a
median 170 tokens, ~2.0 CPU-s per example; cut at 128 tokens as training was before, 352–364 CPU-s),
scaled by an example's expected length (the request's 93 tokens and the record's text at 4 characters
per token, cut at `max_length`), by the model file's size against the bundled one's and by DP-SGD's
slowdown (the same bench at ε = 8: 415 CPU-s against LoRA's 322, 1.3×; bench/finetune.py at batch 8
measured 1.01×, 2026-12-05). It is a paper estimate, so the policy's budget should leave room. Scaling by
file size held as an upper bound on a larger base: Gemma 3 270M (253 MB, 2.6× the bundled file) is
estimated at 5.2 CPU-s per such example and measured 3.9–4.4 (bench/utility.py --model, 2026-12-07).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from synth.finetune.config import FinetuneConfig

REFERENCE_MODEL_BYTES = 98_362_432  # SmolLM2-135M-Instruct.Q4_1.gguf, on which the cost was measured
REFERENCE_TOKENS = 170  # the measured examples' median length: a 93-token request and a ~78-token lede
REQUEST_TOKENS, CHARS_PER_TOKEN = 93, 4.0  # the bundled request's length; English text in its tokenizer
DP_SLOWDOWN = 1.3


class FinetuneChoice(BaseModel):
    """`never`: few-shot only; `always`: fine-tune every run; `auto`: fine-tune when the training split
    has at least `min_records` records and the estimated training time fits in `cpu_minutes`."""

    model_config = ConfigDict(extra="forbid")
    when: Literal["never", "auto", "always"] = "auto"
    min_records: int = Field(1000, ge=1)
    cpu_minutes: float = Field(240, gt=0)
    cpu_seconds_per_example: float = Field(2.0, gt=0)  # on the reference model, REFERENCE_TOKENS long


@dataclass(frozen=True)
class Decision:
    finetune: bool
    reason: str
    estimated_cpu_minutes: float

    def as_dict(self) -> dict:
        return asdict(self)


def tokens_per_record(records: Iterable[dict], text_fields: list[str] | None) -> float:
    """A training example's expected length: the request and the record's text (all fields' values
    when `text_fields` is None), at the tokenizer's usual characters per token."""
    lengths = [sum(len(str(v)) for k, v in r.items() if text_fields is None or k in text_fields) for r in records]
    return REQUEST_TOKENS + (sum(lengths) / len(lengths) / CHARS_PER_TOKEN if lengths else 0.0)


def estimate_cpu_minutes(records: int, config: FinetuneConfig, choice: FinetuneChoice, model_bytes: int,
                         tokens: float = REFERENCE_TOKENS) -> float:
    """Training CPU-minutes for `records` examples of `tokens` tokens (cut at the config's max_length)
    over the config's epochs on a model of that size."""
    per_example = choice.cpu_seconds_per_example * (model_bytes / REFERENCE_MODEL_BYTES)
    per_example *= min(tokens, config.length_cap) / REFERENCE_TOKENS * (DP_SLOWDOWN if config.dp else 1.0)
    return records * config.epochs * per_example / 60


def decide(records: int, config: FinetuneConfig, choice: FinetuneChoice, model_bytes: int, asked: bool,
           tokens: float = REFERENCE_TOKENS) -> Decision:
    """Fine-tune or not, and why, in words a report can carry (`tokens`: an example's expected length)."""
    minutes = round(estimate_cpu_minutes(records, config, choice, model_bytes, tokens), 1)
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
