"""Tiny random GGUF models of each architecture the exporter knows, written with gguf-py.

Each is a real model file llama.cpp and transformers both load (a 2-block network of 64 channels,
the donor GGUF's tokenizer), small enough to train and export in seconds. Random weights are enough
to prove a tensor layout: a wrong name or rotary order changes what llama.cpp computes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HIDDEN, FEED_FORWARD, BLOCKS = 64, 128, 2
# Gemma 3 scales attention by 1/√head_dim in llama.cpp and by 1/√256 in transformers: they agree at 256.
HEAD_DIM = {"llama": 32, "gemma3": 256}
HEADS = {"llama": 2, "gemma3": 1}
# Per architecture: its own metadata, and its block tensors beyond the ones every block has.
EXTRA_KEYS = {
    "llama": {"rope.dimension_count": HEAD_DIM["llama"]},
    "gemma3": {"attention.key_length": HEAD_DIM["gemma3"], "attention.value_length": HEAD_DIM["gemma3"],
               "attention.sliding_window": 512},
}
EXTRA_NORMS = {
    "llama": {},
    "gemma3": {"attn_q_norm": HEAD_DIM["gemma3"], "attn_k_norm": HEAD_DIM["gemma3"],
               "post_attention_norm": HIDDEN, "post_ffw_norm": HIDDEN},
}


def tiny_gguf(arch: str, target: Path, donor: Path, seed: int = 0) -> Path:
    """A random `arch` model at `target`, with the tokenizer (and chat template) of the GGUF `donor`."""
    import gguf

    rng = np.random.default_rng(seed)
    reader = gguf.GGUFReader(donor)
    writer = gguf.GGUFWriter(target, arch=arch)
    head_dim, heads = HEAD_DIM[arch], HEADS[arch]
    keys = {"context_length": 512, "embedding_length": HIDDEN, "block_count": BLOCKS,
            "feed_forward_length": FEED_FORWARD, "attention.head_count": heads, "attention.head_count_kv": 1,
            **EXTRA_KEYS[arch]}
    for key, value in keys.items():
        writer.add_uint32(f"{arch}.{key}", value)
    writer.add_float32(f"{arch}.attention.layer_norm_rms_epsilon", 1e-6)
    writer.add_float32(f"{arch}.rope.freq_base", 10000.0)
    for key, field in reader.fields.items():
        if key.startswith("tokenizer."):
            sub_type = field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
            writer.add_key_value(key, field.contents(), field.types[0], sub_type=sub_type)

    def weights(name: str, *shape: int, std: float = 0.05) -> None:
        writer.add_tensor(name, (rng.standard_normal(shape) * std).astype(np.float32))

    def norm(name: str, n: int) -> None:  # Gemma's GGUF stores 1 + w; either way ~1 is a neutral scale
        writer.add_tensor(name, (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32))

    weights("token_embd.weight", len(reader.fields["tokenizer.ggml.tokens"].contents()), HIDDEN, std=0.1)
    norm("output_norm.weight", HIDDEN)
    for block in range(BLOCKS):
        prefix = f"blk.{block}."
        for name, n in {"attn_norm": HIDDEN, "ffn_norm": HIDDEN, **EXTRA_NORMS[arch]}.items():
            norm(f"{prefix}{name}.weight", n)
        weights(f"{prefix}attn_q.weight", heads * head_dim, HIDDEN)
        weights(f"{prefix}attn_k.weight", head_dim, HIDDEN)
        weights(f"{prefix}attn_v.weight", head_dim, HIDDEN)
        weights(f"{prefix}attn_output.weight", HIDDEN, heads * head_dim)
        weights(f"{prefix}ffn_gate.weight", FEED_FORWARD, HIDDEN)
        weights(f"{prefix}ffn_up.weight", FEED_FORWARD, HIDDEN)
        weights(f"{prefix}ffn_down.weight", HIDDEN, FEED_FORWARD)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return target
