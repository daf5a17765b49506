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
from dataclasses import dataclass, field

from synth.llama_log import binding

PENALTY_LAST_N = 64  # llama-cpp-python's default last_n_tokens_size: the window of the repeat penalty
BATCH = 512  # tokens per llama_decode call
MIN_SHARED = 8  # prompts sharing fewer first tokens evaluate them in each stream
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
        self.adapter = None
        if adapter:
            self.adapter = llama_cpp.llama_adapter_lora_init(llm.model, adapter.encode("utf-8"))
            if self.adapter is None:
                raise RuntimeError("llama.cpp could not load the LoRA adapter")

    def decode(self, calls: list[Call]) -> list[Decoded]:
        """The completions of `calls`, in order. `n_seq` decode at a time; when one ends, the next call
        takes its place in the following decode step, so the batch stays full until the calls run out.
        The prompts' common beginning is evaluated once, in a stream of its own, and copied into each
        stream a call starts in (llama.cpp copies a whole stream: `llama_memory_seq_cp`)."""
        llama_cpp = binding()
        sequences: list[_Sequence] = []
        try:
            for call in calls:
                sequences.append(self._sequence(call))
            if sequences:
                self._ensure_context(max(len(s.prompt) + s.max_tokens for s in sequences))
                self._run_all(sequences, self._shared_prefix(sequences))
        finally:
            for sequence in sequences:
                llama_cpp.llama_sampler_free(sequence.sampler)
            if self.ctx is not None:
                llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(self.ctx), True)
        return [self._decoded(s) for s in sequences]

    def _shared_prefix(self, sequences: list[_Sequence]) -> int:
        """Evaluate the prompts' common first tokens (all but each prompt's last, whose logits a call
        samples from) in the prefix stream; their count (0 when fewer than `MIN_SHARED`)."""
        first = sequences[0].prompt
        shared = min(len(s.prompt) for s in sequences) - 1
        for s in sequences[1:]:
            shared = next((i for i, (a, b) in enumerate(zip(first[:shared], s.prompt)) if a != b), shared)
        if shared < MIN_SHARED:
            return 0
        rows = [(self.n_seq, pos, token) for pos, token in enumerate(first[:shared])]
        for at in range(0, shared, BATCH):
            self._run(rows[at:at + BATCH], set())
        sequences[0].evaluated += shared
        return shared

    def _run_all(self, sequences: list[_Sequence], shared: int) -> None:
        llama_cpp = binding()
        memory = llama_cpp.llama_get_memory(self.ctx)
        waiting = list(range(len(sequences)))[::-1]
        slots: list[int | None] = [None] * self.n_seq  # the sequence each KV stream holds
        while waiting or any(i is not None for i in slots):
            rows, outputs = [], []  # (stream, position, token); (row, sequence) pairs to sample
            for stream, i in enumerate(slots):
                if i is None and waiting:  # a free stream takes the next call: the shared prefix, then the rest
                    i = slots[stream] = waiting.pop()
                    if shared:
                        llama_cpp.llama_memory_seq_cp(memory, self.n_seq, stream, -1, -1)
                    rows += [(stream, pos, sequences[i].prompt[pos]) for pos in range(shared, len(sequences[i].prompt))]
                    sequences[i].evaluated += len(sequences[i].prompt) - shared
                elif i is not None:
                    s = sequences[i]
                    rows.append((stream, len(s.prompt) + len(s.tokens) - 1, s.tokens[-1]))
                if i is not None:
                    outputs.append((len(rows) - 1, sequences[i]))
            self._run_and_sample(rows, outputs)
            for stream, i in enumerate(slots):
                if i is not None and sequences[i].finish is not None:
                    llama_cpp.llama_memory_seq_rm(memory, stream, -1, -1)
                    slots[stream] = None

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
