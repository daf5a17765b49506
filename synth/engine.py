"""One engine around `llama_cpp.Llama`: load a model once, complete prompts reproducibly.

Defaults follow FIELD-NOTES: one thread for generation and for batch (prompt) decoding, because
OpenMP threads spin and collapse throughput when another process is busy on the same cores.

GPU: build llama-cpp-python with `CMAKE_ARGS="-DGGML_CUDA=on"` (scripts/setup.sh passes CMAKE_ARGS
through; `-DGGML_NATIVE=OFF` gives a portable CPU build) and set `n_gpu_layers=-1` to offload all
layers. Nothing else changes; without a GPU the same settings run on the CPU.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from privacy.errors import ModelError
from synth.batch import BatchDecoder, Call
from synth.llama_log import binding
from synth.store import ModelInfo


class RuntimeSettings(BaseModel):
    """How the model runs: context size, CPU threads, GPU offload (-1 = all layers), chat format."""

    model_config = ConfigDict(extra="forbid")
    n_ctx: int = Field(2048, ge=256)
    n_threads: int = Field(1, ge=1)
    n_threads_batch: int | None = Field(None, ge=1)
    n_gpu_layers: int = Field(0, ge=-1)
    chat_format: str | None = None
    # Completions decoded together where a job asks for many independent ones (candidate selection):
    # synth/batch.py. 1: one at a time. Each sequence holds its own KV cache (~6 MB for SmolLM2 at 256 tokens).
    n_parallel: int = Field(16, ge=1, le=64)


class Sampling(BaseModel):
    """Sampling settings; recorded in every record's provenance.

    Defaults: min-p sampling at temperature 1 (Nguyen et al. 2024), top-k and top-p off: the model's
    own distribution, cut only below a tenth of its top token's probability. On four dev draws of
    bench/utility.py it raised the TSTR ratio from 0.81 to 0.86 on average (0.70 → 0.84 on the worst
    draw) against temperature 0.7 with top-k 40, top-p 0.9 and min-p 0.05, at the same AUC.

    The repeat penalty of 1.1 against 1.0 and 1.25 (dev draws 0 and 1, two generations each, 2026-12-06,
    Xeon 2 cores, `--set 'sampling={"repeat_penalty": …}'`): TSTR ratio 0.842 / 0.851, AUC 0.818 / 0.825,
    3–5% rejected at 1.1; 0.758 / 0.737, AUC 0.887 / 0.850, 10–12% rejected at 1.0; 0.837 / 0.872, AUC
    0.803 / 0.817, but 12–13% rejected at 1.25 (broken placeholders and truncated replies: the penalty
    falls on a placeholder's repeated "<", "_" and ">" too). 1.1 stays."""

    model_config = ConfigDict(extra="forbid")
    temperature: float = Field(1.0, ge=0, le=2)
    top_k: int = Field(0, ge=0)  # 0: off
    top_p: float = Field(1.0, gt=0, le=1)
    min_p: float = Field(0.1, ge=0, le=1)
    repeat_penalty: float = Field(1.1, ge=1, le=2)
    max_tokens: int = Field(96, ge=1, le=4096)


# The min-p a model fine-tuned on the task without DP samples with instead (synth.generate.finetuned_sampling).
FINETUNED_MIN_P = 0.02


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    prompt_evaluated: int | None = None  # prompt tokens llama.cpp actually evaluated (less with prefix reuse)
    together: bool = False  # decoded beside other calls (Engine.decode_together)


Messages = list[dict[str, str]]


class LogitsStep(Protocol):
    def apply(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray: ...


def _processors(logit_bias: dict[int, float] | None, guard: LogitsStep | None) -> list:
    """One llama.cpp logits processor for the bias and the guard (llama-cpp-python drops both when
    it is given a processor and a logit_bias: it extends one list with the other and keeps the None)."""
    ids = np.fromiter(logit_bias, dtype=np.intc) if logit_bias else None
    values = np.fromiter(logit_bias.values(), dtype=np.single) if logit_bias else None

    def step(input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        scores = np.array(scores, copy=True)
        if ids is not None:
            scores[ids] += values
        return guard.apply(input_ids, scores) if guard is not None else scores

    return [step]


def _call(messages: Messages | str, sampling: Sampling, seed: int, schema: dict | None = None,
          stop: list[str] | None = None, logit_bias: dict[int, float] | None = None,
          guard: LogitsStep | None = None) -> Call | None:
    """A `complete` call as synth/batch.py decodes it; None for one it cannot (a grammar, a Python
    logits step, a raw prompt)."""
    if schema is not None or guard is not None or isinstance(messages, str):
        return None
    return Call(json.dumps(messages, sort_keys=True), sampling.temperature, sampling.top_k, sampling.top_p,
                sampling.min_p, sampling.repeat_penalty, sampling.max_tokens, seed, tuple(stop or ()),
                tuple(sorted((logit_bias or {}).items())))


def _drain(keys: list) -> Iterator:
    while keys:
        yield keys.pop(0)


class Engine:
    """A loaded model. Each call starts from an empty context, so output depends only on
    (prompt, sampling, seed) and never on what the engine did before — unless a caller opens
    `prefix_reuse()`: then a call keeps the evaluated tokens its prompt shares with the previous
    call's (system prompt and examples), and evaluates only the rest."""

    def __init__(self, model: ModelInfo, runtime: RuntimeSettings | None = None):
        self.model = model
        self.runtime = runtime or RuntimeSettings()
        if not model.has_chat_template and not self.runtime.chat_format:
            self.runtime = self.runtime.model_copy(update={"chat_format": "chatml"})
        llama_cpp = binding()

        rt = self.runtime
        try:
            self.llm = llama_cpp.Llama(
                model_path=str(model.path),
                lora_path=str(model.adapter) if model.adapter else None,
                n_ctx=rt.n_ctx,
                n_threads=rt.n_threads,
                n_threads_batch=rt.n_threads_batch or rt.n_threads,
                n_gpu_layers=rt.n_gpu_layers,
                chat_format=rt.chat_format,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError):
            raise ModelError(f"model {model.name!r}: llama.cpp could not load {model.path.name}") from None
        self._grammars: dict[str, Any] = {}
        self._reuse_prefix = False
        self._decoder: BatchDecoder | None = None
        self._decoded: dict[Call, Completion] = {}  # completions decoded together, until `complete` asks

    @contextmanager
    def prefix_reuse(self, enabled: bool = True) -> Iterator[None]:
        """Within the block, calls reuse the shared prompt prefix (llama.cpp's KV cache). Output
        then depends on the order of calls too (a prefix evaluated in another batch can differ in
        the last float bits), so a job that uses it is reproducible as a whole, in the same order."""
        previous, self._reuse_prefix = self._reuse_prefix, enabled
        self.llm.reset()  # the first call evaluates its whole prompt, whatever ran before the block
        try:
            yield
        finally:
            self._reuse_prefix = previous

    def complete(
        self,
        messages: Messages | str,
        sampling: Sampling,
        seed: int,
        schema: dict | None = None,
        stop: list[str] | None = None,
        logit_bias: dict[int, float] | None = None,
        guard: LogitsStep | None = None,
    ) -> Completion:
        """Chat messages (the model's own template) or a raw prompt → text.

        With `schema`, decoding is constrained by a JSON-schema grammar: always valid, but slow.
        `guard` changes the scores at each step (e.g. synth.copyguard.CopyGuard), after `logit_bias`.
        A call decoded beforehand with others (`decode_stream`) returns that completion.
        """
        call = _call(messages, sampling, seed, schema, stop, logit_bias, guard)
        if call is not None and (done := self._decoded.pop(call, None)) is not None:
            return done
        if not self._reuse_prefix:
            self.llm.reset()
        args = dict(
            temperature=sampling.temperature,
            top_k=sampling.top_k,
            top_p=sampling.top_p,
            min_p=sampling.min_p,
            repeat_penalty=sampling.repeat_penalty,
            max_tokens=sampling.max_tokens,
            seed=seed,
            stop=stop or [],
        )
        if schema is not None:
            args["grammar"] = self._grammar(schema)
        if logit_bias or guard:
            args["logits_processor"] = _processors(logit_bias, guard)
        llama_cpp = binding()

        llama_cpp.llama_perf_context_reset(self.llm.ctx)
        try:
            if isinstance(messages, str):
                out = self.llm.create_completion(messages, **args)
                text = out["choices"][0]["text"]
            else:
                out = self.llm.create_chat_completion(messages, **args)
                text = out["choices"][0]["message"]["content"] or ""
        except ValueError as error:  # e.g. the prompt does not fit in n_ctx
            raise ModelError(f"model {self.model.name!r}: generation failed ({error})") from None
        usage = out["usage"]
        return Completion(
            text=text,
            prompt_tokens=usage["prompt_tokens"],
            completion_tokens=usage["completion_tokens"],
            finish_reason=out["choices"][0]["finish_reason"] or "stop",
            prompt_evaluated=int(llama_cpp.llama_perf_context(self.llm.ctx).n_p_eval),
        )

    def decode_together(self, calls: list[dict]) -> None:
        """Decode these `complete` calls (their keyword arguments) together; each completion waits for
        the `complete` call with the same arguments (`decode_stream`, all at once)."""
        for _ in self.decode_stream(enumerate(calls)):
            pass

    def decode_stream(self, calls: Iterable[tuple[Hashable, dict | None]]) -> Iterator[Hashable]:
        """Decode (key, `complete` keyword arguments) pairs together (synth/batch.py), taking the next
        pair only when a sequence frees; yield each key once its completion waits for the `complete`
        call with the same arguments. A call the batch cannot decode (None, a schema, a guard, a raw prompt,
        one longer than the sequences; every call with `n_parallel` 1) is yielded at once, for `complete`."""
        if self.runtime.n_parallel < 2:
            yield from (key for key, _ in calls)
            return
        alone: list[Hashable] = []

        def batchable() -> Iterator[tuple[Hashable, Call]]:
            for key, kw in calls:
                call = _call(**kw) if kw is not None else None
                if call is None or call in self._decoded:
                    alone.append(key)
                else:
                    yield (key, call), call

        try:
            for (key, call), out in self._batch_decoder().stream(batchable()):
                yield from _drain(alone)
                if out is not None:
                    self._decoded[call] = Completion(out.text, out.prompt_tokens, out.completion_tokens,
                                                     out.finish_reason, out.prompt_evaluated, together=True)
                yield key
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"model {self.model.name!r}: generation failed ({error})") from None
        yield from _drain(alone)

    def _batch_decoder(self) -> BatchDecoder:
        if self._decoder is None:
            rt = self.runtime
            self._decoder = BatchDecoder(self.llm, str(self.model.adapter) if self.model.adapter else None,
                                         rt.n_parallel, rt.n_threads, rt.n_threads_batch)
        return self._decoder

    def forget_decoded(self) -> None:
        """Drop completions decoded together that no `complete` call asked for."""
        self._decoded.clear()

    def _grammar(self, schema: dict):
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            from llama_cpp import LlamaGrammar

            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammars[key]

    def tokenize(self, text: str) -> list[int]:
        """The model's tokens for `text` (no beginning-of-sequence token)."""
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def close(self) -> None:
        if self._decoder is not None:
            self._decoder.close()
            self._decoder = None
        self.llm.close()

