"""Several completions decoded together: one llama.cpp decode call advances every sequence by a token.

On a CPU a small model's decode step reads all of its weights for one token; given several sequences
the same read serves them all. Measured 2026-12-07 (AMD EPYC, 2 cores, one thread, SmolLM2 135M on
its IQ4_NL copy with a rank-16 LoRA adapter on every projection, `llama_decode` with one token and its
logits per sequence): 98–110 tokens per CPU-second for one sequence, 137–146 for 4, 190–198 for 8,
251–258 for 16, 278–281 for 32 (the Q4_1 base alone: 82–85, 109–112, 117–134, 141–146).

`BatchDecoder` keeps its own llama.cpp context beside the engine's (the same loaded weights and LoRA
adapter, one KV stream per sequence) and decodes chat completions exactly as `Llama.create_chat_completion`
would one at a time: the same prompt tokens and stop strings (taken from llama-cpp-python's own chat
handler), the same sampler chain (logit bias, repeat penalty over the last 64 tokens, top-k, typical,
top-p, min-p, temperature, a distribution seeded per call), the same end-of-generation tokens and
`max_tokens`. Only float rounding differs: a token's logits computed beside others can differ from
the same token's alone in the last bits, so a sampled text can differ from the sequential one at the
same seed (the same job decodes the same batches, so it is reproducible as a whole).
"""

from __future__ import annotations

import ctypes
import json
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, field

from synth.llama_log import binding

PENALTY_LAST_N = 64  # llama-cpp-python's default last_n_tokens_size: the window of the repeat penalty
BATCH = 512  # tokens per llama_decode call
MIN_SHARED = 8  # prompts sharing fewer first tokens evaluate them in each stream
SLACK = 64  # KV cells per stream beyond the first call's prompt and max_tokens (later prompts run longer)
SEQUENCE_CTX = 256  # KV cells per sequence at least (a call needing more: its prompt + max_tokens, rounded up to 256)


@dataclass(frozen=True)
class Call:
    """One chat completion: what `Engine.complete` is given, hashable (the chat messages as JSON, the
    logit bias as sorted (token, bias) pairs)."""

    messages: str
    temperature: float
    top_k: int
    top_p: float
    min_p: float
    repeat_penalty: float
    max_tokens: int
    seed: int
    stop: tuple[str, ...] = ()
    logit_bias: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True)
class Decoded:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    prompt_evaluated: int  # prompt tokens decoded for this call (a shared prefix counts for the first)


@dataclass
class _Sequence:
    prompt: list[int]
    stops: list[bytes]
    max_tokens: int
    sampler: object
    tokens: list[int] = field(default_factory=list)
    finish: str | None = None
    evaluated: int = 0  # prompt tokens this call evaluated (the shared prefix counts for the first call)


class _Captured(Exception):
    def __init__(self, prompt: list[int], stop: list[str]):
        self.prompt, self.stop = prompt, stop


class BatchDecoder:
    """Chat completions of one loaded `llama_cpp.Llama` (and its LoRA adapter file), decoded together."""

    def __init__(self, llm, adapter: str | None, n_seq: int, n_threads: int, n_threads_batch: int | None = None):  # noqa: ANN001
        """`llm`: a loaded `llama_cpp.Llama`; `adapter`: the LoRA adapter file it was loaded with, if any.
        A step of several sequences is a batch to llama.cpp: it runs on `n_threads_batch` threads."""
        self.llm, self.n_seq = llm, n_seq
        self.n_threads, self.n_threads_batch = n_threads, n_threads_batch or n_threads
        llama_cpp = binding()
        self.vocab = llama_cpp.llama_model_get_vocab(llm.model)
        self.n_vocab = llm.n_vocab()
        self.ctx = None
        self.seq_ctx = 0
        self.prefix: list[int] | None = None  # the prefix stream's tokens while a stream runs
        self.adapter = None
        if adapter:
            self.adapter = llama_cpp.llama_adapter_lora_init(llm.model, adapter.encode("utf-8"))
            if self.adapter is None:
                raise RuntimeError("llama.cpp could not load the LoRA adapter")

    def decode(self, calls: list[Call]) -> list[Decoded | None]:
        """The completions of `calls`, in order (None for a call the streams are too short for)."""
        done = dict(self.stream(enumerate(calls)))
        return [done[i] for i in range(len(calls))]

    def stream(self, calls: Iterable[tuple[Hashable, Call]]) -> Iterator[tuple[Hashable, Decoded | None]]:
        """Decode (key, call) pairs, `n_seq` at a time, and yield each key with its completion as it
        ends. The next call is taken only when a stream frees, so a caller can make each call from what
        the completions before it gave. The first call's prompt (all but its last token) is evaluated
        once in a stream of its own; a call starting in a stream gets a copy of it (llama.cpp copies a
        whole stream: `llama_memory_seq_cp`) cut to the tokens its own prompt shares, and evaluates only
        the rest. A call longer than the streams (sized from the first call) is yielded with None, for
        the caller to decode alone."""
        llama_cpp = binding()
        source = iter(calls)
        slots: list[tuple[Hashable, _Sequence] | None] = [None] * self.n_seq
        self.prefix = None
        try:
            while True:
                rows, outputs, refused = self._start_calls(source, slots)
                if not any(slots):
                    yield from refused
                    return
                self._run_and_sample(rows, outputs)
                yield from refused
                for stream, held in enumerate(slots):
                    if held is not None and held[1].finish is not None:
                        slots[stream] = None
                        llama_cpp.llama_sampler_free(held[1].sampler)
                        llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(self.ctx), stream, -1, -1)
                        yield held[0], self._decoded(held[1])
        finally:
            for held in slots:
                if held is not None:
                    llama_cpp.llama_sampler_free(held[1].sampler)
            if self.ctx is not None:
                llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(self.ctx), True)
            self.prefix = None

    def _start_calls(self, source: Iterator, slots: list) -> tuple[list, list, list]:
        """This step's rows: the next token of each running call and the prompt of each call a free
        stream takes; the (row, sequence) pairs to sample; the (key, None) of calls too long to take."""
        rows, outputs, refused = [], [], []
        for stream in range(self.n_seq):
            if slots[stream] is None:
                while (taken := next(source, None)) is not None:
                    sequence = self._sequence(taken[1])
                    if self._fits(sequence):
                        slots[stream] = (taken[0], sequence)
                        rows += self._prompt_rows(stream, sequence)
                        break
                    binding().llama_sampler_free(sequence.sampler)
                    refused.append((taken[0], None))
            else:
                sequence = slots[stream][1]
                rows.append((stream, len(sequence.prompt) + len(sequence.tokens) - 1, sequence.tokens[-1]))
            if slots[stream] is not None:
                outputs.append((len(rows) - 1, slots[stream][1]))
        return rows, outputs, refused

    def _fits(self, sequence: _Sequence) -> bool:
        """Whether the streams hold the call (made for the first call, with the prefix evaluated)."""
        needed = len(sequence.prompt) + sequence.max_tokens
        if self.prefix is None:  # the stream's first call
            self._ensure_context(needed + SLACK)
            self._evaluate_prefix(sequence)
        return needed <= self.seq_ctx

    def _evaluate_prefix(self, sequence: _Sequence) -> None:
        llama_cpp = binding()
        llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(self.ctx), self.n_seq, -1, -1)
        self.prefix = sequence.prompt[:-1]
        if len(self.prefix) < MIN_SHARED:
            self.prefix = []  # nothing worth sharing: every call evaluates its whole prompt
            return
        rows = [(self.n_seq, pos, token) for pos, token in enumerate(self.prefix)]
        for at in range(0, len(rows), BATCH):
            self._run(rows[at:at + BATCH], set())
        sequence.evaluated += len(self.prefix)

    def _prompt_rows(self, stream: int, sequence: _Sequence) -> list[tuple[int, int, int]]:
        """A call starting in `stream`: the prefix stream's copy, cut to what its prompt shares, and the
        rows of the rest of its prompt."""
        llama_cpp = binding()
        memory = llama_cpp.llama_get_memory(self.ctx)
        shared = next((i for i, (a, b) in enumerate(zip(self.prefix, sequence.prompt[:-1])) if a != b),
                      min(len(self.prefix), len(sequence.prompt) - 1))
        if shared >= MIN_SHARED:
            llama_cpp.llama_memory_seq_cp(memory, self.n_seq, stream, -1, -1)
            llama_cpp.llama_memory_seq_rm(memory, stream, shared, -1)
        else:
            shared = 0
        sequence.evaluated += len(sequence.prompt) - shared
        return [(stream, pos, sequence.prompt[pos]) for pos in range(shared, len(sequence.prompt))]

    def _run_and_sample(self, rows: list[tuple[int, int, int]], outputs: list[tuple[int, _Sequence]]) -> None:
        """Decode the rows at most `BATCH` at a time; each output row's sequence samples its
        next token from the decode call that held the row."""
        for at in range(0, len(rows), BATCH):
            mine = [(row - at, s) for row, s in outputs if at <= row < at + BATCH]
            self._run(rows[at:at + BATCH], {row for row, _ in mine})
            for row, sequence in mine:
                self._sample(sequence, row)

    def _sequence(self, call: Call) -> _Sequence:
        prompt, stop = self._chat_prompt(json.loads(call.messages), list(call.stop))
        n_ctx = self.llm.n_ctx()
        if len(prompt) >= n_ctx:  # as llama-cpp-python: an over-long prompt fails, max_tokens is cut to fit
            raise ValueError(f"Requested tokens ({len(prompt)}) exceed context window of {n_ctx}")
        max_tokens = min(call.max_tokens, n_ctx - len(prompt))
        return _Sequence(prompt, [s.encode("utf-8") for s in stop], max_tokens, self._sampler(call))

    def _chat_prompt(self, messages: list[dict], stop: list[str]) -> tuple[list[int], list[str]]:
        """The prompt tokens and stop strings llama-cpp-python's chat handler would pass on for
        `messages`: its `create_completion` is intercepted on this instance while the handler runs."""
        def capture(prompt, stop=None, **_):  # noqa: ANN001, ANN202
            raise _Captured(list(prompt), list(stop or []))

        self.llm.create_completion = capture
        try:
            self.llm.create_chat_completion(messages, stop=stop)
        except _Captured as captured:
            return captured.prompt, captured.stop
        finally:
            del self.llm.create_completion
        raise RuntimeError("the chat handler did not ask for a completion")

    def _sampler(self, call: Call):  # noqa: ANN202 - a llama_sampler pointer
        """llama-cpp-python's chain (`Llama._init_sampler`), the logit bias first as its processor is."""
        llama_cpp = binding()
        chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        links = []
        if call.logit_bias:
            biases = (llama_cpp.llama_logit_bias * len(call.logit_bias))(*call.logit_bias)
            links.append(llama_cpp.llama_sampler_init_logit_bias(self.n_vocab, len(call.logit_bias), biases))
        links.append(llama_cpp.llama_sampler_init_penalties(self.n_vocab, PENALTY_LAST_N, call.repeat_penalty, 0.0, 0.0))
        if call.temperature == 0:
            links.append(llama_cpp.llama_sampler_init_greedy())
        else:
            links += [llama_cpp.llama_sampler_init_top_k(call.top_k), llama_cpp.llama_sampler_init_typical(1.0, 1),
                      llama_cpp.llama_sampler_init_top_p(call.top_p, 1), llama_cpp.llama_sampler_init_min_p(call.min_p, 1),
                      llama_cpp.llama_sampler_init_temp(call.temperature), llama_cpp.llama_sampler_init_dist(call.seed)]
        for link in links:
            llama_cpp.llama_sampler_chain_add(chain, link)
        return chain

    def _ensure_context(self, needed: int) -> None:
        """A context with one KV stream of at least `needed` cells per sequence (made on first use)."""
        if self.ctx is not None and self.seq_ctx >= needed:
            return
        llama_cpp = binding()
        self.close_context()
        self.seq_ctx = max(SEQUENCE_CTX, -(-needed // 256) * 256)
        params = llama_cpp.llama_context_default_params()
        streams = self.n_seq + 1  # one per sequence, and the shared prefix's
        params.n_ctx, params.n_seq_max, params.kv_unified = self.seq_ctx * streams, streams, False
        params.n_batch = params.n_ubatch = BATCH
        params.n_threads, params.n_threads_batch = self.n_threads, self.n_threads_batch
        self.ctx = llama_cpp.llama_init_from_model(self.llm.model, params)
        if self.ctx is None:
            raise RuntimeError("llama.cpp could not make a context for batched decoding")
        if self.adapter is not None:
            adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(self.adapter)
            if llama_cpp.llama_set_adapters_lora(self.ctx, adapters, 1, (ctypes.c_float * 1)(1.0)):
                raise RuntimeError("llama.cpp could not apply the LoRA adapter")

    def _run(self, rows: list[tuple[int, int, int]], outputs: set[int]) -> None:
        """One llama_decode of (sequence, position, token) rows, logits kept for the `outputs` rows."""
        llama_cpp = binding()
        batch = llama_cpp.llama_batch_init(len(rows), 0, 1)
        try:
            for row, (seq, pos, token) in enumerate(rows):
                batch.token[row], batch.pos[row], batch.n_seq_id[row] = token, pos, 1
                batch.seq_id[row][0], batch.logits[row] = seq, row in outputs
            batch.n_tokens = len(rows)
            if llama_cpp.llama_decode(self.ctx, batch) != 0:
                raise RuntimeError("llama.cpp failed to decode a batch")
        finally:
            llama_cpp.llama_batch_free(batch)

    def _sample(self, sequence: _Sequence, row: int) -> None:
        llama_cpp = binding()
        token = llama_cpp.llama_sampler_sample(sequence.sampler, self.ctx, row)
        if llama_cpp.llama_vocab_is_eog(self.vocab, token):
            sequence.finish = "stop"
            return
        sequence.tokens.append(token)
        text = self.llm.detokenize(sequence.tokens, prev_tokens=sequence.prompt)
        if any(stop in text for stop in sequence.stops):
            sequence.finish = "stop"
        elif len(sequence.tokens) >= sequence.max_tokens:
            sequence.finish = "length"

    def _decoded(self, sequence: _Sequence) -> Decoded:
        text = self.llm.detokenize(sequence.tokens, prev_tokens=sequence.prompt)
        cut = next((text.index(stop) for stop in sequence.stops if stop in text), len(text))  # the first stop listed
        return Decoded(text[:cut].decode("utf-8", errors="ignore"), len(sequence.prompt), len(sequence.tokens),
                       sequence.finish or "length", sequence.evaluated)

    def close_context(self) -> None:
        if self.ctx is not None:
            binding().llama_free(self.ctx)
            self.ctx = None

    def close(self) -> None:
        self.close_context()
        if self.adapter is not None:
            binding().llama_adapter_lora_free(self.adapter)
            self.adapter = None
