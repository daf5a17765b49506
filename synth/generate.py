"""`synthesize`: scrubbed records in, synthetic records out, through one mode and one engine.

Every slot of the plan gets up to `max_attempts` tries, each with its own seed derived from the
job seed, so the same request on the same model gives the same records. A draft is kept only if
it passes the filters (degenerate, broken placeholders, copies of input records, duplicates of
earlier outputs, schema, labels, and — given a PII detector — real-looking values the model invented
outside placeholders, synth/pii.py); rejections are counted by reason in the run summary. For
structured records the last attempt uses the grammar sampler, so a valid record is all but certain.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Literal

from jsonschema import validators
from pydantic import BaseModel, ConfigDict, Field

from privacy.errors import BadInput
from privacy.placeholders import find_placeholders
from synth.dataset import DatasetView, ExampleRotation, describe
from synth.engine import Completion, Engine, Sampling
from synth.fill import Filler, known_type
from synth.modes import Mode, Reject, get_mode
from synth.pii import PiiDetector, invented_pii
from synth.quality import NearDuplicateIndex, copy_reason, degenerate_reason, has_broken_placeholder
from synth.scrubbed import require_scrubbed
from synth.seeds import derive_seed
from synth.structured import check_schema, schema_fields, text_schema

ProgressFn = Callable[[int, int | None], None]


class SynthRequest(BaseModel):
    """What to generate. Field names not given are inferred from the records (synth/dataset.py)."""

    model_config = ConfigDict(extra="forbid")
    mode: str = "fewshot"
    n: int = Field(100, ge=1, le=1_000_000)
    seed: int = 0
    text_fields: list[str] | None = None
    label_field: str | None = None
    labels: list[str] | None = None
    label_target: Literal["balanced", "as-is"] | dict[str, float] | None = None
    where: dict[str, str | int | bool] | None = None  # rare mode: the condition to upsample
    schema_: dict | None = Field(None, alias="schema")
    sampling: Sampling = Field(default_factory=Sampling)
    k: int = Field(3, ge=0, le=16)  # examples per prompt (0: e.g. for a model fine-tuned on the task)
    max_attempts: int = Field(3, ge=1, le=20)
    structured_path: Literal["fast", "grammar"] = "fast"  # grammar: constrain every attempt
    fill_placeholders: bool = True
    locale: str = "en_US"
    id_field: str = "id"
    noun: str = "record"
    roles: tuple[str, str] = ("customer", "agent")

    @property
    def schema(self) -> dict | None:
        return self.schema_


@dataclass
class SynthResult:
    records: list[dict]
    summary: dict


@dataclass
class SynthContext:
    """What a mode sees while planning and producing."""

    request: SynthRequest
    view: DatasetView
    rng: random.Random
    rotation: ExampleRotation
    structured: bool
    schema: dict | None
    fields: list[str]
    what: str


@dataclass
class _Tally:
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    constrained_calls: int = 0
    rejected: Counter = field(default_factory=Counter)


def synthesize(
    records: list[dict], request: SynthRequest, engine: Engine, progress: ProgressFn | None = None,
    *, source_values: Callable[[str], bool] | None = None,
    pii_detector: PiiDetector | None = None, pii_ignore: Collection[str] = (),
) -> SynthResult:
    """Generate up to `request.n` synthetic records from scrubbed `records`. `source_values`
    (synth.fill.SourceValues over the privacy manifest) says which fake values would repeat a source
    PII value; placeholders are never filled with one. With `pii_detector`, a draft whose free text
    has a detection of a type not in `pii_ignore` outside the surrogates it was filled with is
    rejected as `invented_pii` (pass the audit re-scan's ignored types, so both count alike)."""
    mode = get_mode(request.mode)
    require_scrubbed(records)
    ctx = _context(records, request, mode)
    tasks = mode.plan(ctx)
    provenance_base = {
        "model": engine.model.name,
        "model_sha256": engine.model.sha256,
        "mode": mode.name,
        "template_version": mode.template_version,
        "job_seed": request.seed,
        "sampling": request.sampling.model_dump(),
    }
    sources = NearDuplicateIndex()
    for record in records:
        sources.add(" ".join(v for f in ctx.view.text_fields if isinstance(v := record.get(f), str)))
    outputs = NearDuplicateIndex()
    filler = Filler(request.locale, avoid=source_values)
    tally = _Tally()
    started = time.perf_counter()
    out: list[dict] = []
    validator = validators.validator_for(ctx.schema)(ctx.schema) if ctx.schema else None
    for done, task in enumerate(tasks, 1):
        for attempt in range(request.max_attempts):
            seed = derive_seed(request.seed, task.slot, attempt)
            last = attempt == request.max_attempts - 1
            generate = _generator(engine, request, seed, constrain=last or request.structured_path == "grammar", tally=tally)
            tally.attempts += 1
            try:
                draft = mode.produce(task, ctx, generate)
                _check(draft.texts, sources, outputs)
                filler.start_record(seed)
                body = mode.finish(draft, filler) if request.fill_placeholders else draft.body
                record = {request.id_field: f"syn-{task.slot + 1:06d}"} if _allowed(ctx, request.id_field) else {}
                record.update({k: v for k, v in task.conditions.items() if _allowed(ctx, k)})
                record.update(body)
                if validator is not None and not validator.is_valid(record):
                    raise Reject("schema_mismatch")  # e.g. a filled value broke a length limit
                texts = _free_text(ctx, draft.body)
                if pii_detector and invented_pii(record, texts, filler.filled, pii_detector, pii_ignore):
                    raise Reject("invented_pii")
            except Reject as reason:
                tally.rejected[str(reason)] += 1
                continue
            outputs.add(" ".join(draft.texts))
            record["_synthetic"] = True
            record["_provenance"] = {**provenance_base, "seed": seed, "attempt": attempt, "surrogates": filler.filled}
            out.append(record)
            break
        if progress:
            progress(done, len(tasks))
    seconds = time.perf_counter() - started
    summary = {
        "mode": mode.name,
        "model": engine.model.name,
        "requested": request.n,
        "generated": len(out),
        "missing": request.n - len(out),
        "attempts": tally.attempts,
        "rejected": dict(sorted(tally.rejected.items())),
        "prompt_tokens": tally.prompt_tokens,
        "completion_tokens": tally.completion_tokens,
        "constrained_calls": tally.constrained_calls,
        "surrogates_redrawn": filler.redrawn,
        "seconds": round(seconds, 3),
        "tokens_per_second": round(tally.completion_tokens / seconds, 1) if seconds else 0.0,
    }
    return SynthResult(out, summary)


def _context(records: list[dict], request: SynthRequest, mode: Mode) -> SynthContext:
    view = describe(records, request.text_fields, request.label_field, request.id_field, request.noun)
    if request.schema is not None and not mode.structured_output:
        raise BadInput(f"--schema does not apply to {mode.name} mode (it writes free text)")
    schema = check_schema(request.schema) if request.schema is not None else None
    if schema is None and mode.structured_output and len(view.text_fields) > 1:
        schema = text_schema(view.text_fields)
    fields = [f for f in schema_fields(schema) if f != request.id_field] if schema else []
    nouns = sorted({view.noun_for(view.conditions(r)) for r in records})
    what = " and ".join(nouns) + (" records" if nouns != ["record"] else "s")
    rng = random.Random(derive_seed(request.seed, "plan"))
    return SynthContext(request, view, rng, ExampleRotation(request.k, rng), schema is not None, schema, fields, what)


def _free_text(ctx: SynthContext, body: dict) -> list[str]:
    """The generated fields that hold free text: not the conditions or the label."""
    return [k for k in body if k not in ctx.view.condition_fields and k != ctx.view.label_field]


def _allowed(ctx: SynthContext, name: str) -> bool:
    """Whether a field Airlock adds (id, conditions) may appear in a record of the schema."""
    if ctx.schema is None:
        return True
    return name in ctx.schema.get("properties", {}) or ctx.schema.get("additionalProperties", True) is not False


def _generator(engine: Engine, request: SynthRequest, seed: int, constrain: bool, tally: _Tally):
    """The model call a mode makes for one attempt; its n-th call uses the n-th derived seed."""
    calls = 0

    def generate(messages, schema: dict | None = None, stop: list[str] | None = None) -> Completion:
        nonlocal calls
        calls += 1
        use_grammar = schema is not None and constrain
        completion = engine.complete(
            messages, request.sampling, derive_seed(seed, calls), schema=schema if use_grammar else None, stop=stop
        )
        tally.prompt_tokens += completion.prompt_tokens
        tally.completion_tokens += completion.completion_tokens
        tally.constrained_calls += use_grammar
        return completion

    return generate


def _check(texts: list[str], sources: NearDuplicateIndex, outputs: NearDuplicateIndex) -> None:
    joined = " ".join(texts)
    for text in (joined, *texts):
        if reason := degenerate_reason(text, min_chars=12 if text is joined else 1):
            raise Reject(reason)
        if has_broken_placeholder(text):
            raise Reject("broken_placeholder")
        if any(known_type(t) is None for t, *_ in find_placeholders(text)):
            raise Reject("unknown_placeholder")
    if reason := copy_reason(joined, sources, outputs):
        raise Reject(reason)
