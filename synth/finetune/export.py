"""Back to GGUF: merge the LoRA adapter into the base weights and write a file llama.cpp runs.

Every key/value pair and the tokenizer are copied from the base GGUF; tensors the adapter did not
touch are copied byte for byte in their original quantization; merged tensors are mapped to their
GGUF names by the architecture's layout (`LAYOUTS`), given back llama.cpp's rotary layout for q/k
where the GGUF keeps it (llama: transformers undid it on load, see `convert_hf_to_gguf.py`'s
`LlamaModel.permute`; Gemma 3 is stored unpermuted) and quantized to Q8_0, which keeps a small
DP-LoRA delta that re-quantizing to 4 bits would partly erase. Norm weights, which Gemma's GGUF
stores shifted by one, are never trained and so never rewritten.

Q4_0 was tried for models trained without DP (2026-12-07, AMD EPYC 2 cores, four candidates per record;
not kept): it decodes 131 tokens per CPU-second against Q8_0's 94 and wrote 1.2–1.35× the kept records
per CPU-minute (bench/synth.py section 3: 6.1× the path before issue 12 against 4.7×). On dev draw 0 (the
same adapter, the Q4_0 file requantized by llama.cpp) the TSTR ratio fell a little (0.814 against 0.836);
on held-out draw 0 (a fresh adapter, merged weights quantized to Q4_0 by gguf-py) it fell to 0.783 against
0.946, with the discriminator AUC at 0.755 against 0.486 and eight times the malformed placeholder types.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from privacy.errors import ModelError
from synth.llama_log import binding
from synth.store import ModelInfo


@dataclass(frozen=True)
class Layout:
    """How one architecture's HF tensors become GGUF tensors."""

    gguf_arch: str  # the `gguf.MODEL_ARCH` member whose tensor-name map applies
    permuted_rotary: bool  # q/k rows stored in llama.cpp's interleaved rotary order


# Architectures whose tensor layout this writer knows, each checked end to end (tests/finetune).
LAYOUTS = {"llama": Layout("LLAMA", permuted_rotary=True), "gemma3": Layout("GEMMA3", permuted_rotary=False)}
EXPORTABLE = tuple(LAYOUTS)
PROVENANCE_KEY = "airlock.provenance"


def check_exportable(base: ModelInfo) -> None:
    """Refuse before training a base that could not be written back to GGUF."""
    if base.architecture not in EXPORTABLE:
        raise ModelError(
            f"model {base.name!r} has architecture {base.architecture or 'unknown'!r}, which Airlock cannot "
            f"export back to GGUF after fine-tuning (supported: {', '.join(EXPORTABLE)}); choose a "
            "base of one of those, such as the default SmolLM2"
        )


def permute_rotary(weights: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's interleaved rotary layout of q/k projection rows."""
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def gguf_tensors(
    state: dict, layout: Layout, n_blocks: int, n_head: int, n_head_kv: int
) -> Iterator[tuple[str, np.ndarray]]:
    """(GGUF name, fp32 array in llama.cpp layout) for each HF tensor in `state`."""
    import gguf

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH[layout.gguf_arch], n_blocks)
    for hf_name, tensor in state.items():
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise ModelError(f"tensor {hf_name} has no GGUF counterpart; this model cannot be exported")
        data = tensor.detach().to("cpu").float().numpy()
        if layout.permuted_rotary and name.endswith(("attn_q.weight", "attn_k.weight")):
            data = permute_rotary(data, n_head if name.endswith("attn_q.weight") else n_head_kv)
        yield name, data


def write_gguf(changed: dict, base: ModelInfo, target: Path, provenance: dict) -> None:
    """Write the base GGUF with the `changed` HF tensors (merged weights) replaced."""
    import gguf

    reader = gguf.GGUFReader(base.path)
    arch = str(reader.fields["general.architecture"].contents())
    meta = {key: field.contents() for key, field in reader.fields.items() if key.startswith(f"{arch}.")}
    n_head = int(meta[f"{arch}.attention.head_count"])
    n_head_kv = int(meta.get(f"{arch}.attention.head_count_kv", n_head))
    layout = LAYOUTS[arch]
    replaced = dict(gguf_tensors(changed, layout, int(meta[f"{arch}.block_count"]), n_head, n_head_kv))

    writer = gguf.GGUFWriter(target, arch=arch)
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key in ("general.architecture", "general.file_type", PROVENANCE_KEY):
            continue
        sub_type = field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(key, field.contents(), field.types[0], sub_type=sub_type)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    writer.add_string(PROVENANCE_KEY, json.dumps(provenance, sort_keys=True, default=str))
    for tensor in reader.tensors:
        data = replaced.pop(tensor.name, None)
        if data is None:
            writer.add_tensor(tensor.name, tensor.data, raw_dtype=tensor.tensor_type)
        elif data.shape[-1] % 32 == 0:
            writer.add_tensor(tensor.name, gguf.quants.quantize(data, gguf.GGMLQuantizationType.Q8_0),
                              raw_dtype=gguf.GGMLQuantizationType.Q8_0)
        else:
            writer.add_tensor(tensor.name, data.astype(np.float32))
    if replaced:
        raise ModelError(f"the base GGUF lacks tensors the fine-tuned model has: {', '.join(sorted(replaced))}")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def check_generates(path: Path) -> None:
    """Load the written file in llama.cpp and have it answer a request: ModelError if it cannot.

    The answer may be the end of the turn at once (a model fine-tuned on requests of another shape can
    choose to stop on a bare "write one record"): what must hold is that the request yields finite,
    non-constant scores for the next token — a broken export gives NaNs or a flat row."""
    llama_cpp = binding()

    try:
        llm = llama_cpp.Llama(model_path=str(path), n_ctx=128, n_threads=1, n_threads_batch=1, logits_all=True,
                              verbose=False)
        out = llm.create_chat_completion(
            [{"role": "user", "content": "Write one new record."}], max_tokens=8, temperature=0.0, seed=0
        )
        first = np.array(llm.scores[out["usage"]["prompt_tokens"] - 1], dtype=np.float64)
        llm.close()
    except (ValueError, RuntimeError, OSError):
        raise ModelError("the exported GGUF does not load in llama.cpp; nothing was registered") from None
    if not (np.isfinite(first).all() and first.std() > 0):
        raise ModelError("the exported GGUF loads in llama.cpp but generates nothing; nothing was registered")
