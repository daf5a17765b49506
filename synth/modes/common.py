"""What the example-driven modes (fewshot, classify, rare, summarize, ner) share: rotating
example sets and the few-shot chat in which each example is an earlier answer of the model."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from synth.dataset import allocate
from synth.modes import Draft, Generate, Reject, Task
from synth.quality import clean, trim_to_sentence
from synth.steer import cut_to
from synth.structured import SchemaViolation, parse_record
from synth.templates import render_record_request, system_prompt

if TYPE_CHECKING:
    from synth.generate import SynthContext


def plan_examples(ctx: SynthContext, pool: list[int], targets: list | None = None) -> list[Task]:
    """One task per output: an anchor record (its conditions become the target's) plus k-1 more
    examples with the same conditions where the pool has them. With `targets` (label values), the
    anchor is drawn from records of that label; without, anchors follow the pool's conditions exactly.

    Up to `request.share_examples` tasks with the same conditions share one example set and run one
    after another, so the engine evaluates the shared prompt prefix (system prompt and examples)
    once for all of them; each task still asks for a different keyword when steering is on."""
    view, n, share = ctx.view, ctx.request.n, ctx.request.share_examples
    by_conditions: dict[str, list[int]] = {}
    for i in pool:
        by_conditions.setdefault(_key(view.conditions(view.records[i])), []).append(i)
    anchors = _anchors(ctx, by_conditions, n) if targets is None else None
    open_sets: dict[str, tuple[int, list[int], int]] = {}  # conditions → (group, examples, times used)
    tasks = []
    for slot in range(n):
        if anchors is not None:
            anchor = anchors[slot]
        else:
            label_pool = [i for i in pool if view.records[i].get(view.label_field) == targets[slot]]
            anchor = ctx.rng.choice(label_pool)
        conditions = view.conditions(view.records[anchor])
        key = _key(conditions)
        group, examples, used = open_sets.get(key, (0, [], share))
        if used >= share:
            peers = by_conditions[key]
            examples = ctx.rotation.draw(peers if len(peers) >= ctx.request.k else pool, first=anchor)
            ctx.rng.shuffle(examples)
            group, used = slot, 0
        open_sets[key] = (group, examples, used + 1)
        tasks.append(Task(slot, conditions, examples, {"group": group, **_steering(ctx, key)}))
    return sorted(tasks, key=lambda t: (t.data["group"], t.slot))


def _anchors(ctx: SynthContext, by_conditions: dict[str, list[int]], n: int) -> list[int]:
    """n anchor records whose conditions follow the pool's own distribution exactly (largest
    remainder: 40 records of 300 with 30 cardiology notes hold 4 cardiology anchors, not 1 by a
    random draw), each condition's records taken in a shuffled rotation: all anchor once before any
    anchors twice."""
    keys = allocate(n, {key: len(members) for key, members in by_conditions.items()}, ctx.rng)
    rotations: dict[str, list[int]] = {}
    anchors = []
    for key in keys:
        if not rotations.get(key):
            rotations[key] = ctx.rng.sample(by_conditions[key], len(by_conditions[key]))
        anchors.append(rotations[key].pop())
    return anchors


def _steering(ctx: SynthContext, key: str) -> dict:
    """What a task asks of its record beyond the conditions: a keyword to mention (`hint`) and the
    number of sentences to keep (`sentences`), each drawn from the real records (synth/steer.py)."""
    steering = {}
    if ctx.keywords and (hint := ctx.keywords.draw(key, ctx.rng)):
        steering["hint"] = hint
    if ctx.lengths and (count := ctx.lengths.draw(key, ctx.rng)):
        steering["sentences"] = count
    return steering


def _key(conditions: dict) -> str:
    return json.dumps(conditions, sort_keys=True, default=str)


def request_text(ctx: SynthContext, conditions: dict, hint: str | None = None) -> str:
    view = ctx.view
    fields = ctx.fields if ctx.structured else None
    return render_record_request(view.noun_for(conditions), view.shown_conditions(conditions), fields, hint)


def example_hint(ctx: SynthContext, record: dict) -> str | None:
    """The keyword an example is shown as answering: its own most characteristic one, so the model
    sees that a hint is a word the answer uses."""
    if ctx.keywords is None:
        return None
    text = " ".join(v for f in ctx.view.text_fields if isinstance(v := record.get(f), str))
    return ctx.keywords.of_text(text, _key(ctx.view.conditions(record)))


def answer_text(ctx: SynthContext, record: dict) -> str:
    """An example record written the way the model should answer."""
    if ctx.structured:
        return json.dumps({f: record[f] for f in ctx.fields if f in record}, ensure_ascii=False)
    return record[ctx.view.text_fields[0]]


def fewshot_messages(ctx: SynthContext, task: Task, request: str | None = None) -> list[dict]:
    """System prompt, then each example as a request answered by that example, then the request."""
    view = ctx.view
    messages = [{"role": "system", "content": system_prompt(ctx.what)}]
    for i in task.sources:
        record = view.records[i]
        messages.append({"role": "user", "content": request_text(ctx, view.conditions(record), example_hint(ctx, record))})
        messages.append({"role": "assistant", "content": answer_text(ctx, record)})
    messages.append({"role": "user", "content": request or request_text(ctx, task.conditions, task.data.get("hint"))})
    return messages


def text_reply(completion) -> str:
    """The reply as free text; a reply cut off by max_tokens keeps its complete sentences."""
    text = clean(completion.text)
    if completion.finish_reason == "length":
        text = trim_to_sentence(text)
        if text is None:
            raise Reject("truncated")
    return text


def record_reply(ctx: SynthContext, task: Task, generate: Generate, messages: list[dict]) -> Draft:
    """Ask for one record; structured replies are parsed, validated and label-checked."""
    view = ctx.view
    if not ctx.structured:
        text = text_reply(generate(messages))
        if count := task.data.get("sentences"):
            text = cut_to(text, count)
        return Draft({view.text_fields[0]: text}, [text])
    completion = generate(messages, schema=ctx.schema)
    try:
        body = parse_record(completion.text, ctx.schema)
    except SchemaViolation as error:
        raise Reject(str(error)) from None
    for name, value in task.conditions.items():
        if name in body and body[name] != value:
            raise Reject("label_mismatch")
    texts = [body[f] for f in view.text_fields if isinstance(body.get(f), str)]
    if not texts:
        texts = [v for v in body.values() if isinstance(v, str)]
    return Draft(body, texts)
