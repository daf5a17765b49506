"""Fine-tuning of the local model on scrubbed training records: LoRA, optionally with differential
privacy (DP-SGD through Opacus), exported back to GGUF for llama.cpp and registered with its
privacy provenance. Heavy libraries (torch, transformers, peft, opacus) load only when training."""

from synth.finetune.config import FinetuneConfig
from synth.finetune.guarantee import describe_guarantee
from synth.finetune.run import finetune

__all__ = ["FinetuneConfig", "describe_guarantee", "finetune"]
