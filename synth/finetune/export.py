"""Back to GGUF: the base the adapter is trained on, and the LoRA adapter llama.cpp applies to it.

The adapter is trained on a copy of the base GGUF (`write_base`) whose block weights of a type llama.cpp's
CPU backend decodes slowly (Q4_1, Q5_0, Q5_1) are re-quantized (`base_weights`): to IQ4_NL, a 4-bit type
of the same size that it repacks for fast matrix products, or under DP to Q8_0. Without DP the model is
then two files, that copy and the adapter (`write_adapter`: the LoRA A and B matrices, F32,
`general.type = adapter`), which llama.cpp adds at run time (`Llama(lora_path=…)`): what it runs is
exactly the model that was trained, nothing of the learned delta rounded away. Under DP the adapter is
merged into the copy's weights and written as one Q8_0 file (`merges`, `write_merged`). Every key/value
pair and the tokenizer are copied from the base; other tensors are copied byte for byte. Tensors are named
by the architecture's GGUF layout (`LAYOUTS`), with the rows of B (or of a merged q/k weight) given back
llama.cpp's rotary layout for q/k where the GGUF keeps it (llama: transformers undid it on load, see
`convert_hf_to_gguf.py`'s `LlamaModel.permute`; Gemma 3 is stored unpermuted).

Measured 2026-12-07 (AMD EPYC, 2 cores, one thread, SmolLM2-135M): decoding 114–118 tokens per
CPU-second for the IQ4_NL base with an adapter on all seven projections (the base alone 127–132)
against 85–87 for the weights merged and stored as Q8_0, which is how models were exported before
(Q4_1, the bundled file's own type: 73–84); with other work on the machine the gap narrows (94–101
against 85–91). In the fine-tuned path itself (the same LoRA adapter both ways, dev draw 0, 40
candidates, two rounds, quiet machine) 17.4 / 18.9 kept records per CPU-minute against 16.0 / 15.8.
An F16 adapter decoded slower than F32 (106–110 against 116). Merging into 4-bit weights instead was tried and not kept:
the learned delta is ~2% of a weight matrix's norm and 4-bit rounding adds 3–6 times that much noise
(held-out draw 0 of bench/utility.py with merged Q4_0 weights: TSTR ratio 0.783 against 0.946 for
Q8_0, discriminator AUC 0.755 against 0.486).
"""

from __future__ import annotations

import ctypes
import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace
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
    if base.adapter is not None:
        raise ModelError(
            f"model {base.name!r} is itself fine-tuned (a LoRA adapter on its base); fine-tune its base model "
            f"{base.provenance.get('base_model', '')!r} on the records instead"
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
        data = tensor.detach().to("cpu").float().numpy() if hasattr(tensor, "detach") else np.asarray(tensor, np.float32)
        if layout.permuted_rotary and name.endswith(("attn_q.weight", "attn_k.weight")):
            data = permute_rotary(data, n_head if name.endswith("attn_q.weight") else n_head_kv)
        yield name, data


# Weight types llama.cpp's CPU backend decodes slowly here (no repacked kernels), re-quantized in the base a
# model is fine-tuned on (`base_weights`); other types (Q4_0, Q4_K, Q6_K, Q8_0, …) are kept as they are.
SLOW_TYPES = ("Q4_1", "Q5_0", "Q5_1")


def base_weights(dp: bool) -> str:
    """The type slow base weights become: IQ4_NL (fast; the adapter, trained on it, makes up for the rounding:
    answer loss 1.295 against 1.304 for the old merged Q8_0 export), or Q8_0 under DP (near-lossless; a DP-SGD
    adapter changes the model too little to make up for a coarser base). On the SmolLM2 training records of
    dev draw 0 (bench/utility.py) the bundled Q4_1 base reads an answer loss of 3.144 nats/token, its IQ4_NL
    copy 3.342; DP-LoRA ε = 8 on the IQ4_NL copy, held-out draw 0: TSTR ratio 0.654 (0.591–0.718) against
    0.778 for the Q8_0 export (2026-12-07, AMD EPYC)."""
    return "Q8_0" if dp else "IQ4_NL"


def merges(dp: bool) -> bool:
    """Is the adapter merged into the weights (one Q8_0 file) rather than applied at run time? Under DP: an
    adapter on a Q8_0 base decodes at 73 tokens per CPU-second against 98–101 for the same model merged (the
    DP-LoRA ε = 8 adapter of held-out draw 1, 2026-12-07, AMD EPYC, one thread), and Q8_0 keeps a DP delta."""
    return dp


def write_base(base: Path, target: Path, weights: str = "IQ4_NL", only: Collection[str] | None = None) -> None:
    """Copy the base GGUF to `target`, its tensors of a `SLOW_TYPES` type re-quantized to `weights` by
    llama.cpp's own quantizer (`only`: those of these names). The adapter is trained on, and runs on,
    this copy."""
    import gguf

    reader = gguf.GGUFReader(base)
    arch = str(reader.fields["general.architecture"].contents())
    fast = gguf.GGMLQuantizationType[weights]
    slow = {gguf.GGMLQuantizationType[name] for name in SLOW_TYPES}
    block = gguf.GGML_QUANT_SIZES[fast][0]
    changed = {t.name for t in reader.tensors
               if t.tensor_type in slow and int(t.shape[0]) % block == 0 and (only is None or t.name in only)}
    writer = gguf.GGUFWriter(target, arch=arch)
    _copy_fields(reader, writer, skip=("general.file_type",) if changed else ())
    if changed:
        writer.add_file_type(gguf.LlamaFileType[f"MOSTLY_{weights}"])
    for tensor in reader.tensors:
        if tensor.name in changed:
            values = gguf.quants.dequantize(tensor.data, tensor.tensor_type)
            writer.add_tensor(tensor.name, ggml_quantize(values, fast), raw_dtype=fast)
        else:
            writer.add_tensor(tensor.name, tensor.data, raw_dtype=tensor.tensor_type)
    _write(writer)


def write_adapter(pairs: dict, base: Path, target: Path, alpha: float, provenance: dict) -> None:
    """Write the LoRA adapter llama.cpp applies to `base`: `pairs` maps each HF weight name to its (A, B)
    matrices (r × in, out × r: torch tensors or arrays); llama.cpp scales B·A by alpha / r, as peft does."""
    import gguf

    reader = gguf.GGUFReader(base)
    arch, layout, n_blocks, n_head, n_head_kv = _layout(reader)
    shapes = {t.name: (int(t.shape[1]), int(t.shape[0])) for t in reader.tensors if len(t.shape) == 2}  # GGUF: (in, out)
    a_side = dict(gguf_tensors({k: a for k, (a, _) in pairs.items()}, replace(layout, permuted_rotary=False), n_blocks,
                               n_head, n_head_kv))
    b_side = dict(gguf_tensors({k: b for k, (_, b) in pairs.items()}, layout, n_blocks, n_head, n_head_kv))
    writer = gguf.GGUFWriter(target, arch=arch)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(alpha))
    writer.add_string(PROVENANCE_KEY, json.dumps(provenance, sort_keys=True, default=str))
    for name, a in a_side.items():
        b = b_side[name]
        if shapes.get(name) != (b.shape[0], a.shape[1]):
            raise ModelError(f"the adapter's {name} does not fit the base model; this model cannot be exported")
        writer.add_tensor(f"{name}.lora_a", np.ascontiguousarray(a, dtype=np.float32))
        writer.add_tensor(f"{name}.lora_b", np.ascontiguousarray(b, dtype=np.float32))
    _write(writer)


def write_merged(changed: dict, base: Path, target: Path, provenance: dict) -> None:
    """Write the `base` GGUF with the `changed` HF tensors (weights with the adapter merged in) replaced,
    quantized to Q8_0: one file, no adapter (`merges`)."""
    import gguf

    reader = gguf.GGUFReader(base)
    arch, layout, n_blocks, n_head, n_head_kv = _layout(reader)
    replaced = dict(gguf_tensors(changed, layout, n_blocks, n_head, n_head_kv))
    q8 = gguf.GGMLQuantizationType.Q8_0
    writer = gguf.GGUFWriter(target, arch=arch)
    _copy_fields(reader, writer, skip=("general.file_type",))
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    writer.add_string(PROVENANCE_KEY, json.dumps(provenance, sort_keys=True, default=str))
    for tensor in reader.tensors:
        data = replaced.pop(tensor.name, None)
        if data is None:
            writer.add_tensor(tensor.name, tensor.data, raw_dtype=tensor.tensor_type)
        elif data.shape[-1] % 32 == 0:
            writer.add_tensor(tensor.name, ggml_quantize(data, q8), raw_dtype=q8)
        else:
            writer.add_tensor(tensor.name, data.astype(np.float32))
    if replaced:
        raise ModelError(f"the base GGUF lacks tensors the fine-tuned model has: {', '.join(sorted(replaced))}")
    _write(writer)


def _layout(reader) -> tuple[str, Layout, int, int, int]:
    """(architecture, its Layout, blocks, attention heads, key/value heads) of a GGUF."""
    arch = str(reader.fields["general.architecture"].contents())
    meta = {key: field.contents() for key, field in reader.fields.items() if key.startswith(f"{arch}.")}
    n_head = int(meta[f"{arch}.attention.head_count"])
    return (arch, LAYOUTS[arch], int(meta[f"{arch}.block_count"]), n_head,
            int(meta.get(f"{arch}.attention.head_count_kv", n_head)))


def _copy_fields(reader, writer, skip: tuple[str, ...] = ()) -> None:
    import gguf

    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key in ("general.architecture", PROVENANCE_KEY, *skip):
            continue
        sub_type = field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(key, field.contents(), field.types[0], sub_type=sub_type)


def _write(writer) -> None:
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def ggml_quantize(weights: np.ndarray, qtype) -> np.ndarray:
    """Rows of fp32 `weights` quantized to `qtype` by llama.cpp's own quantizer (ggml_quantize_chunk in the
    engine's libggml-base), which knows every type, IQ4_NL included, where gguf-py does not."""
    import gguf

    quantize = _quantize_chunk()
    data = np.ascontiguousarray(weights, dtype=np.float32).reshape(-1, weights.shape[-1])
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    out = np.zeros((data.shape[0], data.shape[1] // block * size), dtype=np.uint8)
    quantize(int(qtype), data.ctypes.data, out.ctypes.data, 0, data.shape[0], data.shape[1], None)
    return out.reshape(*weights.shape[:-1], -1)


def _quantize_chunk():
    llama_cpp = binding()
    found = sorted((Path(llama_cpp.__file__).parent / "lib").glob("libggml-base.*"))
    if not found:
        raise ModelError("llama.cpp's ggml library was not found beside the binding; reinstall the engine (make setup)")
    function = ctypes.CDLL(str(found[0])).ggml_quantize_chunk
    function.restype = ctypes.c_size_t
    function.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                         ctypes.c_int64, ctypes.c_void_p]
    return function


def check_generates(path: Path, adapter: Path | None = None) -> None:
    """Load the written file in llama.cpp and have it answer a request: ModelError if it cannot.

    The answer may be the end of the turn at once (a model fine-tuned on requests of another shape can
    choose to stop on a bare "write one record"): what must hold is that the request yields finite,
    non-constant scores for the next token — a broken export gives NaNs or a flat row."""
    llama_cpp = binding()

    try:
        llm = llama_cpp.Llama(model_path=str(path), lora_path=str(adapter) if adapter else None, n_ctx=128,
                              n_threads=1, n_threads_batch=1, logits_all=True, verbose=False)
        out = llm.create_chat_completion(
            [{"role": "user", "content": "Write one new record."}], max_tokens=8, temperature=0.0, seed=0
        )
        first = np.array(llm.scores[out["usage"]["prompt_tokens"] - 1], dtype=np.float64)
        llm.close()
    except (ValueError, RuntimeError, OSError):
        raise ModelError("the exported GGUF does not load in llama.cpp; nothing was registered") from None
    if not (np.isfinite(first).all() and first.std() > 0):
        raise ModelError("the exported GGUF loads in llama.cpp but generates nothing; nothing was registered")
