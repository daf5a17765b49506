"""Training text: the generator's own "write one record" request, answered by a scrubbed record.

Requests are built by synth's context and few-shot message builder with zero examples, so the
fine-tuned model is asked at generation time exactly what it learned to answer. Tokens come from
llama.cpp's vocabulary of the base GGUF — the tokenizer that reads those prompts at generation
time and that the model-level audit scores with — so training, generation and audit agree.

Keyword requests (`hints`, off under DP), measured with bench/utility.py on BBC News ledes (LoRA, 3
epochs, n=100, 2026-12-04), without → with: dev draws 0 and 1 TSTR ratio 0.66 → 0.72 and 0.66 → 0.74,
discriminator AUC 0.80 → 0.72 and 0.82 → 0.71; held-out draws 0 and 1 (scored once) ratio 0.69 → 0.72
and 0.75 → 0.59, AUC 0.85 → 0.81 and 0.89 → 0.90. Over the four draws AUC falls by 0.055 on average and
the ratio does not move: each path trains its own adapter, and one training per draw is noisy.
Tried and not kept (dev draw 0, with hints): three source examples in the prompt of the fine-tuned
model (ratio 0.72, AUC 0.735, lift +0.006 against +0.032); six epochs (the model copies: 50% of
attempts rejected, 80 copies; ratio 0.72, AUC 0.76).
Two keywords per request instead of one (2026-12-06, Xeon 2 cores, `--path lora`, 3 epochs, fresh adapters,
two generations each; the record's two most characteristic words in training, two different words drawn
at generation, asked as `mentions "a" and "b"`; code not kept): dev draws 0 / 1 / 2 TSTR ratio 0.661 →
0.837, 0.848 → 0.796, 0.821 → 0.839, AUC 0.641 → 0.710, 0.724 → 0.681, 0.635 → 0.700; held-out draws 0 /
1 ratio 0.816 → 0.849, 0.845 → 0.778, AUC 0.656 → 0.733, 0.762 → 0.809; rejected 8.6% → 5.3% on average.
Over the five draws the ratio rose by 0.022 on average (moving both ways by up to 0.18) and the AUC by 0.043
(higher on four), away from the AUC goal; one keyword stays.

Whole records (`max_length`, 2026-12-06, AMD EPYC 2 cores): the request alone is 93 tokens, and a BBC lede
makes a median 170 (up to 215), so the earlier cap of 128 cut 99 of 100 training records after ~35 of their
~78 tokens: the model never saw a lede end, nor the end-of-turn token after it. With a cap of 256 (nothing
cut; the default is now 512, a cap only, as batches are padded to their longest sequence), `bench/utility.py
--path lora --generations 2 --train-set max_length=256` against 128, fresh adapters on the same records: dev
draw 0 TSTR ratio 0.691 → 0.749, AUC 0.653 → 0.584, rejected 12% → 7%; dev draw 1 ratio 0.776 → 0.793, AUC
0.718 → 0.559, rejected 7% → 11%; training 352–364 → 603–634 CPU s. Held-out draws 0 and 1 (scored once,
`--part heldout --path lora --generations 2`, the commit before against this one, same machine): ratio 0.747 →
0.758 and 0.844 → 0.778, AUC 0.694 → 0.554 and 0.780 → 0.639, rejected 4% → 5% and 11% → 3%. Over the four
draws the AUC fell on every one (−0.13 on average) and the ratio did not move (+0.005 on average, inside a
draw's run-to-run spread); generation kept 47–56 records per CPU-minute against 38–45.
Under DP whole records did worse (`--path dp8`, two generations each, fresh noise per training): dev draw 0
TSTR ratio 0.499 and 0.522 in two trainings with whole records against 0.603 cut at 128 (AUC 0.932 / 0.944
against 0.935); dev draw 1 0.622 against 0.692 (AUC 0.919 against 0.904). DP-LoRA keeps the cap of 128
(`FinetuneConfig.length_cap`; why was not measured).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

from privacy.errors import BadInput, ModelError
from synth.llama_log import binding

# Tokens an answer needs at the least beyond its prompt; below this, training learns nothing.
MIN_ANSWER_TOKENS = 8


@dataclass(frozen=True)
class Example:
    number: int  # 1-based record number in the caller's input
    messages: list[dict]  # system prompt + request: what the generator sends
    answer: str  # the record as the generator should reply


@dataclass(frozen=True)
class Encoded:
    number: int
    ids: list[int]
    n_prompt: int  # ids[n_prompt:] are the answer tokens the loss is taken over
    cut: int = 0  # answer tokens dropped at `max_length` (the model never sees the record's end)


def render_examples(
    records: list[dict],
    text_fields: list[str] | None = None,
    label_field: str | None = None,
    id_field: str = "id",
    noun: str = "record",
    prompt_format: dict | None = None,
    hints: bool = False,
) -> tuple[list[Example], dict]:
    """One example per record, and the prompt format (for provenance and for the generator).

    With `prompt_format` (a fine-tuned model's, from its provenance), records are rendered exactly
    as that model was trained, whatever fields and nouns these particular records would suggest.
    With `hints`, each request names the record's own most characteristic keyword (synth/steer.py,
    read from these records), as a steered few-shot request does: the model learns to write about
    the word it is given, and generation draws one per record from the real records' keywords.
    Re-rendered from a `prompt_format`, the keywords are read from the records given: the model-level
    audit passes members and non-members together, so both get their hints from one list (a member's
    hint can differ from the one it was trained with when the two lists rank words differently).
    """
    from synth.generate import SynthRequest, build_context, keyword_sampler
    from synth.modes import Task, get_mode
    from synth.modes.common import answer_text, fewshot_messages
    from synth.steer import condition_key

    mode = get_mode("fewshot")
    if prompt_format:
        text_fields = prompt_format["text_fields"]
        id_field, noun = prompt_format.get("id_field", id_field), prompt_format.get("noun", noun)
        hints = prompt_format.get("hints", False)
    request = SynthRequest(mode=mode.name, text_fields=text_fields, label_field=label_field, id_field=id_field, noun=noun)
    ctx = build_context(records, request, mode)
    if prompt_format:
        view = replace(ctx.view, text_fields=prompt_format["text_fields"], condition_fields=prompt_format["condition_fields"])
        ctx = replace(ctx, view=view, what=prompt_format["what"], structured=prompt_format["structured"], fields=prompt_format["fields"])
    keywords = keyword_sampler(ctx.view) if hints else None
    examples = []
    for number, record in enumerate(records, 1):
        conditions = ctx.view.conditions(record)
        try:
            answer = answer_text(ctx, record)
        except KeyError:
            raise BadInput(f"record {number}: text field {ctx.view.text_fields[0]!r} is missing") from None
        if not isinstance(answer, str) or not answer.strip():
            raise BadInput(f"record {number}: nothing to train on (empty text)")
        hint = keywords.of_text(answer, condition_key(conditions)) if keywords else None
        data = {"hint": hint} if hint else {}
        examples.append(Example(number, fewshot_messages(ctx, Task(0, conditions, [], data)), answer))
    used_format = {
        "templates": mode.template_version,
        "what": ctx.what,
        "noun": ctx.view.noun,
        "id_field": ctx.view.id_field,
        "text_fields": ctx.view.text_fields,
        "condition_fields": ctx.view.condition_fields,
        "structured": ctx.structured,
        "fields": ctx.fields,
        "examples_in_prompt": 0,
        "hints": bool(hints),
    }
    return examples, used_format


class Tokenizer:
    """llama.cpp's vocabulary of a GGUF file and its chat template (ChatML when it has none)."""

    def __init__(self, model_path: Path):
        llama_cpp = binding()
        from llama_cpp.llama_chat_format import CHATML_CHAT_TEMPLATE, Jinja2ChatFormatter

        try:
            self._vocab = llama_cpp.Llama(model_path=str(model_path), vocab_only=True, verbose=False)
        except (ValueError, RuntimeError, OSError):
            raise ModelError(f"llama.cpp could not read the vocabulary of {Path(model_path).name}") from None
        template = self._vocab.metadata.get("tokenizer.chat_template") or CHATML_CHAT_TEMPLATE
        self.eos = self._vocab.token_eos()
        eos_text = self._piece(self.eos)
        bos_text = self._piece(self._vocab.token_bos())
        self._prompt = Jinja2ChatFormatter(template, eos_text, bos_text, add_generation_prompt=True)
        self._full = Jinja2ChatFormatter(template, eos_text, bos_text, add_generation_prompt=False)

    def _piece(self, token: int) -> str:
        return self._vocab.detokenize([token], special=True).decode("utf-8", errors="replace") if token >= 0 else ""

    def tokenize(self, text: str) -> list[int]:
        return self._vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def encode(self, example: Example, max_length: int) -> Encoded:
        """Prompt + answer tokens, the answer ending at the end-of-turn token; cut to `max_length`."""
        prompt = self.tokenize(self._prompt(messages=example.messages).prompt)
        answered = [*example.messages, {"role": "assistant", "content": example.answer}]
        ids = self.tokenize(self._full(messages=answered).prompt)
        n_prompt = next((i for i, (a, b) in enumerate(zip(prompt, ids)) if a != b), len(prompt))
        if self.eos in ids[n_prompt:]:  # drop what the template writes after the end of the turn
            ids = ids[: len(ids) - ids[::-1].index(self.eos)]
        if n_prompt + MIN_ANSWER_TOKENS > max_length:
            raise BadInput(
                f"record {example.number}: the request alone takes {n_prompt} tokens; "
                f"raise --max-length to at least {n_prompt + 4 * MIN_ANSWER_TOKENS}"
            )
        return Encoded(example.number, ids[:max_length], n_prompt, max(0, len(ids) - max_length))

    def close(self) -> None:
        self._vocab.close()


def dataset_fingerprint(records: list[dict]) -> str:
    """SHA-256 over the sorted hashes of the records: the same set of records, in any order, gives
    the same fingerprint; it identifies the training data without containing any of it."""
    hashes = sorted(
        hashlib.sha256(json.dumps(r, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
        for r in records
    )
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()
