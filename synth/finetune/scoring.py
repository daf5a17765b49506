"""Per-record answer loss under a GGUF model in llama.cpp — what the model-level audit compares.

Log-probabilities come from `Llama(logits_all=True)`, `eval(tokens)` and a log-softmax of the
scores (FIELD-NOTES: `create_completion(echo=True, logprobs=…)` is ~10× slower and off by one
token for models without BOS). `logits_all` allocates n_ctx × vocabulary floats, so n_ctx stays
at the training max length.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from privacy.errors import ModelError
from synth.finetune.data import Encoded
from synth.llama_log import binding


def answer_losses(model_path: Path, encoded: list[Encoded], adapter: Path | None = None) -> np.ndarray:
    """Mean negative log-likelihood (nats per token) of each sequence's answer tokens (`adapter`: the
    LoRA adapter of a fine-tuned model, applied to `model_path`)."""
    llama_cpp = binding()

    n_ctx = max(len(e.ids) for e in encoded)
    try:
        llm = llama_cpp.Llama(
            model_path=str(model_path), lora_path=str(adapter) if adapter else None, n_ctx=n_ctx, n_batch=n_ctx, logits_all=True,
            n_threads=1, n_threads_batch=1, verbose=False,
        )
    except (ValueError, RuntimeError, OSError):
        raise ModelError(f"llama.cpp could not load {Path(model_path).name} for scoring") from None
    losses = np.empty(len(encoded))
    previous: list[int] = []
    try:
        # In token order, so consecutive sequences share their longest prefix (the request) and
        # only the rest is evaluated: rows of `scores` before it hold the same context's logits.
        for i in sorted(range(len(encoded)), key=lambda k: encoded[k].ids):
            item = encoded[i]
            shared = min(_common_prefix(previous, item.ids), len(item.ids) - 1)
            llm.n_tokens = shared
            llm.eval(item.ids[shared:])
            previous = item.ids
            logits = np.asarray(llm.scores[item.n_prompt - 1 : len(item.ids) - 1], dtype=np.float64)
            top = logits.max(axis=1, keepdims=True)
            log_norm = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
            targets = np.asarray(item.ids[item.n_prompt :])
            losses[i] = float(np.mean(log_norm - logits[np.arange(len(targets)), targets]))
    finally:
        llm.close()
    return losses


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    return next((i for i in range(n) if a[i] != b[i]), n)
