"""`synthesize`: scrubbed records in, synthetic records out, through one mode and one engine.

Every slot of the plan gets tries, each with its own seed derived from the job seed, so the same
request on the same model gives the same records. The job has a bounded budget of `max_attempts` × n
attempts; a slot may use up to `slot_attempts` of them, so a hard slot borrows from easy ones and
requests are met. Drafts are first repaired at the source (synth/repair.py: malformed or invented
placeholder types rewritten, PII the model invented replaced by placeholders that get surrogates),
then kept only if they pass the draft filters (synth/filters/: degenerate text, broken placeholders,
copies of input records and of earlier outputs, embedding near-duplicates, label consistency with a
classifier trained on the real records), the schema, and — given a PII detector — leave no
real-looking value outside the surrogates once filled (synth/cover.py); rejections and repairs are
counted in the run summary. For structured
records a slot's last attempt uses the grammar sampler, so a valid record is all but certain.
A model fine-tuned on labelled records writes `finetuned_candidates` drafts per record, and the ones
the label judge reads most surely as their label are kept (synth/select.py).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

from jsonschema import validators
from pydantic import BaseModel, ConfigDict, Field

from privacy.errors import BadInput
from synth.balance import VocabularyBalance
from synth.copyguard import CopyGuard
from synth.dataset import DatasetView, ExampleRotation, describe
from synth.cover import possessive_cover, resurrogate
from synth.engine import FINETUNED_MIN_P, Completion, Engine, Sampling
from synth.fill import Filler
from synth.modes import Draft, Mode, Reject, get_mode
from synth.pii import PiiDetector, uncovered
from synth.filters import first_reason, job_filters
from synth.judge import LabelJudge
from synth.repair import FALLBACK_TYPE, FallbackType, repair_placeholders, replace_invented_pii
from synth.scrubbed import require_scrubbed
from synth.select import FINETUNED_CANDIDATES, Selection
from synth.seeds import derive_seed
from synth.steer import KeywordSampler, LengthSampler, condition_key
from synth.structured import check_schema, schema_fields, text_schema

ProgressFn = Callable[[int, int | None], None]

# The request settings that reproduce generation as it stood before issue 12 (bench/ compares it):
# a fresh example set and a full prompt per record, no repair, no steering, no label check,
# de-duplication or vocabulary balance, and a slot given up after max_attempts.
TODAY: dict = {"share_examples": 1, "reuse_prefix": False, "repair": False, "steer": False,
               "label_check": False, "dedupe": False, "slot_attempts": None, "retry_temperature_step": 0.0,
               "balance_vocabulary": False, "copy_guard_tokens": None, "finetuned_min_p": None}


# A fine-tuned model's candidates are decoded together in windows of this many calls per parallel sequence
# (synth/batch.py): held-out LoRA draw 0, one adapter, windows of 128 read TSTR ratio 0.922 and 0.864 in two
# runs (four generations, 0.853–0.958) where calls made one by one as sequences freed read 0.848 (0.838 /
# 0.859) (synth/select.py).
TOGETHER_PER_SEQUENCE = 8


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
    # A model fine-tuned on the task without DP samples with this min-p (`finetuned_sampling`); None: `sampling`.
    finetuned_min_p: float | None = Field(FINETUNED_MIN_P, ge=0, le=1)
    # A model fine-tuned on the task writes this many candidates per labelled record (synth/select.py).
    finetuned_candidates: int = Field(FINETUNED_CANDIDATES, ge=1, le=16)
    k: int = Field(3, ge=0, le=16)  # examples per prompt (0: e.g. for a model fine-tuned on the task)
    max_attempts: int = Field(3, ge=1, le=20)  # the job's budget: max_attempts × n attempts in all
    slot_attempts: int | None = Field(12, ge=1, le=100)  # tries one slot may use (None: max_attempts)
    share_examples: int = Field(10, ge=1, le=100)  # records asked for under one example set (prefix reuse)
    reuse_prefix: bool = True  # keep the engine's evaluated prompt prefix between calls
    repair: bool = True  # fix placeholders and replace invented PII instead of rejecting the draft
    scrub_like_source: bool = True  # repair also replaces detections the re-scan ignores (dates, nationalities)
    steer: bool = True  # ask each record to mention a keyword drawn from the real records
    shape_length: bool = False  # cut each free-text reply after a sentence count drawn from the real records
    label_check: bool = True  # reject drafts a classifier trained on the real records reads as another label
    label_agreement: float = Field(0.5, gt=0, le=1)  # the asked label's probability, at least this × the top one's
    relabel_candidates: bool = True  # under candidate selection, a draft read as another label is a candidate of it
    balance_vocabulary: bool = True  # bias the model away from words the kept records overuse (synth/balance.py)
    balance_types: bool = True  # fill made-up placeholder types as the name type kept records lack most (synth/repair.py)
    dedupe: bool = True  # reject drafts closer to a kept record than real records are to each other (synth/dedup.py)
    dedupe_similarity: float | None = Field(None, gt=0, le=1)  # the cosine that counts as a duplicate (None: from the real records)
    copy_guard_tokens: int | None = Field(6, ge=2, le=64)  # forbid continuing a copied run this long (synth/copyguard.py)
    retry_temperature_step: float = Field(0.15, ge=0, le=0.5)  # a retry samples hotter, away from a copy
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
    keywords: KeywordSampler | None = None
    lengths: LengthSampler | None = None


@dataclass
class _Tally:
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    constrained_calls: int = 0
    decoded_together: int = 0  # model calls served by a batched decode (synth/batch.py)
    model_cpu_seconds: float = 0.0
    prompt_evaluated: int = 0
    relabelled: int = 0  # candidates kept under the label the judge read instead of the one asked
    rejected: Counter = field(default_factory=Counter)
    repaired: Counter = field(default_factory=Counter)


def synthesize(
    records: list[dict], request: SynthRequest, engine: Engine, progress: ProgressFn | None = None,
    *, source_values: Callable[[str], bool] | None = None,
    pii_detector: PiiDetector | None = None, pii_ignore: Collection[str] = (),
) -> SynthResult:
    """Generate `request.n` synthetic records from scrubbed `records` (fewer only when the attempt
    budget runs out; the summary's `missing_reasons` says why). `source_values`
    (synth.fill.SourceValues over the privacy manifest) says which fake values would repeat a source
    PII value; placeholders are never filled with one. With `pii_detector`, values the model invented
    in free text are replaced by surrogates (`repair`; types in `pii_ignore` too, unless
    `scrub_like_source` is off: the real records had their dates and nationalities scrubbed) and any
    left outside the surrogates, not of a `pii_ignore` type, reject the draft as `invented_pii` (pass
    the audit re-scan's ignored types, so both count alike)."""
    mode = get_mode(request.mode)
    require_scrubbed(records)
    request = finetuned_sampling(request, engine)
    hints = trained_with_hints(engine)
    ctx = build_context(records, request, mode, steer_without_examples=hints)
    tasks = wide = mode.plan(ctx)
    selection = candidate_selection(ctx, engine) if mode.selects_candidates else None
    if selection:  # plan k × n candidates, keep n of them
        ctx = build_context(records, request.model_copy(update={"n": request.n * selection.k}), mode, hints)
        wide = mode.plan(ctx)
    run = _Run(ctx, mode, engine, source_values, pii_detector, pii_ignore, selection)
    started = time.perf_counter()
    budget = request.max_attempts * request.n * (selection.k if selection else 1)
    with engine.prefix_reuse(request.reuse_prefix):
        out = _candidates(run, wide, tasks, budget, progress) if selection else _records(run, wide, budget, progress)
    written = len(out)
    if selection:
        out = selection.choose(out, run.ranking, tasks, request.id_field)
    out.sort(key=lambda r: r["_provenance"]["slot"])
    summary = _summary(run, request, mode, engine, len(out), time.perf_counter() - started, budget)
    if selection:
        summary["candidates"] = {"per_record": selection.k, "written": written, "relabelled": run.tally.relabelled}
    return SynthResult(out, summary)


def _records(run: _Run, tasks: list, budget: int, progress: ProgressFn | None) -> list[dict]:
    """Each slot's record, its tries spent until one is kept."""
    out = []
    for done, task in enumerate(tasks, 1):
        if (record := run.slot(task, budget)) is not None:
            out.append(record)
        else:
            run.missing[run.last_reason] += 1
        if progress:
            progress(done, len(tasks))
    return out


def _candidates(run: _Run, wide: list, tasks: list, budget: int, progress: ProgressFn | None) -> list[dict]:
    """Candidates for selection: one try per candidate slot, then more tries on the failed slots of a
    condition whose candidates fall short of the records the plan asks of it, then new slots for one
    still short. A rejected candidate is only retried when it is needed: the others are spares."""
    need = Counter(condition_key(task.conditions) for task in tasks)
    out, failed = [], []
    for done, (task, record) in enumerate(run.first_tries(wide, budget), 1):
        if record is not None:
            out.append(record)
        else:
            failed.append(task)
        if progress:
            progress(done, len(wide))
    have = Counter(run.ranking[r["_provenance"]["slot"]][0] for r in out)
    last: dict[str, str] = {}
    for task in failed:
        key = condition_key(task.conditions)
        if have[key] < need[key]:
            if (record := run.slot(task, budget, first_only=False, first=1)) is not None:
                out.append(record)
                have[run.ranking[task.slot][0]] += 1
            else:
                last[key] = run.last_reason
    out += _spares(run, wide, need, have, last, budget)
    for key, count in need.items():
        if have[key] < count:
            run.missing[last.get(key, "attempt_budget_spent")] += count - have[key]
    return out


def _spares(run: _Run, wide: list, need: Counter, have: Counter, last: dict, budget: int) -> list[dict]:
    """New candidate slots (numbered after the plan's) for a condition still short: its candidates can
    have been relabelled away with none of its slots failing. Each is tried until the condition has
    its candidates or the job's attempt budget is spent."""
    out, spare = [], len(wide)
    for key, count in need.items():
        template = next(task for task in wide if condition_key(task.conditions) == key)
        while have[key] < count and run.tally.attempts < budget:
            task, spare = replace(template, slot=spare), spare + 1
            if (record := run.slot(task, budget)) is not None:
                out.append(record)
                have[run.ranking[task.slot][0]] += 1
            else:
                last[key] = run.last_reason
    return out


def candidate_selection(ctx: SynthContext, engine: Engine) -> Selection | None:
    """Candidate selection (synth/select.py) for a model fine-tuned on the task, writing labelled
    records with the label check on; None otherwise. Only modes that write each record anew select."""
    request, view = ctx.request, ctx.view
    if request.finetuned_candidates < 2 or not fine_tuned(engine) or not (request.label_check and view.label_field):
        return None
    judge = LabelJudge.fit(view.texts(), [r.get(view.label_field) for r in view.records], seed=request.seed)
    return Selection(request.finetuned_candidates, judge, view.label_field) if judge else None


def finetuned_sampling(request: SynthRequest, engine: Engine) -> SynthRequest:
    """`request` with the min-p of `finetuned_min_p` when the engine's model was fine-tuned on the task
    without DP (a DP-SGD model keeps `sampling`: at min-p 0.02 it did worse, see below).

    Its distribution is learned from the training records; the base model's cut-off (min-p 0.1: only
    tokens at least a tenth as likely as the top one) keeps less of it, and the discriminator then tells
    the records from real ones more easily (the figures below; why was not measured).
    Measured with bench/utility.py (LoRA, 3 epochs, dev draws 0 and 1, two generations each, the same
    adapters, 2026-12-06, AMD EPYC 2 cores; `--set 'sampling={"min_p": …}'`): min-p 0.1 → TSTR ratio
    0.764 / 0.814, discriminator AUC 0.702 / 0.720, 10% / 8% rejected; 0.05 → 0.721 / 0.862, AUC 0.698 /
    0.698; 0.02 → 0.719 / 0.846, AUC 0.645 / 0.708, 7% / 3% rejected; 0 → 0.728 / 0.759, AUC 0.665 /
    0.690. 0.02 lowers the AUC by 0.03 on average for the same ratio; with no cut-off the ratio falls.
    Held-out draws 0 and 1 (scored once, `--generations 2`, the same fresh adapters generating with 0.1
    from the commit before, AMD EPYC): TSTR ratio 0.815 → 0.787 and 0.834 → 0.805, lift +0.049 → +0.067
    and +0.080 → +0.056, AUC 0.756 → 0.686 and 0.786 → 0.759, rejected 4% → 5% and 9% → 6%. Over the
    four draws the AUC fell on every one (−0.036 on average) and the ratio by 0.018 on average, inside a
    draw's run-to-run spread (its generations differ by up to 0.12).
    DP-LoRA at ε = 8 (dev draws 0 and 1, two generations each, the same adapters): 0.1 → TSTR ratio 0.618 /
    0.609, AUC 0.939 / 0.928, 13% / 11% rejected; 0.02 → 0.478 / 0.486, AUC 0.905 / 0.893, 19% / 15%
    rejected: a lower ratio and more rejected on both draws, so DP models keep the base sampler (why was
    not measured).
    Temperature 0.8 for adapters trained on whole records (`--set 'sampling={"temperature": 0.8}'`, dev draws 0
    and 1, two generations each, the same adapters, 2026-12-06, AMD EPYC; code not kept): TSTR ratio 0.749 →
    0.755 and 0.793 → 0.836, AUC 0.584 → 0.635 and 0.559 → 0.596 — the trade every sharper sampler made here
    (+0.025 ratio for +0.044 AUC), short of a ratio of 0.85; temperature 1 stays. Both sharper at once (min-p 0.1
    and temperature 0.8, `--set finetuned_min_p=0.1 --set 'sampling={"temperature": 0.8}'`, 3-epoch whole-record
    adapters, dev draws 0 / 1, 2026-12-07, AMD EPYC): ratio 0.783 → 0.775 and 0.804 → 0.828, AUC 0.559 → 0.706
    and 0.526 → 0.648 — no ratio for a draw's worth of AUC; not kept."""
    if request.finetuned_min_p is None or not fine_tuned(engine) or engine.model.provenance.get("dp_sgd"):
        return request
    sampling = request.sampling.model_copy(update={"min_p": request.finetuned_min_p})
    return request.model_copy(update={"sampling": sampling})


def fine_tuned(engine: Engine) -> bool:
    """Was the engine's model fine-tuned on the task (synth/finetune; its provenance names the prompt format)?"""
    model = getattr(engine, "model", None)
    return bool(getattr(model, "provenance", None) and "prompt_format" in model.provenance)


def trained_with_hints(engine: Engine) -> bool:
    """Was the engine's model fine-tuned on requests that name a keyword (synth/finetune/data.py)?"""
    return fine_tuned(engine) and bool((engine.model.provenance["prompt_format"] or {}).get("hints"))


class _Run:
    """One job's state: filters, indexes of sources and outputs, surrogate filler, counters."""

    def __init__(self, ctx, mode, engine, source_values, pii_detector, pii_ignore, selection=None):
        request = ctx.request
        self.ctx, self.mode, self.engine, self.request = ctx, mode, engine, request
        self.detector, self.ignore = pii_detector, pii_ignore
        self.filters = job_filters(ctx)
        self.filler = Filler(request.locale, avoid=source_values)
        self.tally = _Tally()
        self.validator = validators.validator_for(ctx.schema)(ctx.schema) if ctx.schema else None
        real_texts = ctx.view.texts() if request.balance_vocabulary or request.balance_types else []
        self.balance = VocabularyBalance(real_texts, engine.tokenize) if request.balance_vocabulary else None
        self.fallback = FallbackType(real_texts) if request.balance_types else None
        self.missing: Counter = Counter()
        self.selection = selection
        self.ranking: dict[int, tuple[str, float]] = {}  # candidate slot → its condition key, the judge's probability
        self.last_reason = "attempt_budget_spent"
        self._guard: tuple[tuple[int, ...], CopyGuard | None] = ((), None)
        self._first_bias: dict[int, dict[int, float]] = {}  # slot → the bias its first try was decoded with
        self.provenance = {
            "model": engine.model.name, "model_sha256": engine.model.sha256,
            **({"adapter_sha256": engine.model.adapter_sha256} if getattr(engine.model, "adapter", None) else {}),
            "mode": mode.name,
            "template_version": mode.template_version, "job_seed": request.seed,
            "sampling": request.sampling.model_dump(),
        }

    def slot(self, task, budget: int, first_only: bool = False, first: int = 0) -> dict | None:
        """The slot's record, or None when its tries or the job's budget ran out (`last_reason` says
        why). `first_only`: the first try only; `first`: the try to start from."""
        tries = self.request.slot_attempts or self.request.max_attempts
        self.last_reason = "attempt_budget_spent"
        for attempt in range(first, 1 if first_only else tries):
            if self.tally.attempts >= budget:
                break
            self.tally.attempts += 1
            try:
                # from the slot's max_attempts-th try on, structured output is constrained by the grammar
                last = attempt >= min(tries, self.request.max_attempts) - 1 or self.tally.attempts == budget
                return self.attempt(task, attempt, last)
            except Reject as reason:
                self.tally.rejected[str(reason)] += 1
                self.last_reason = str(reason)
        return None

    def attempt(self, task, attempt: int, last: bool) -> dict:
        ctx, request = self.ctx, self.request
        seed = derive_seed(request.seed, task.slot, attempt)
        sampling = _retry_sampling(request, attempt)
        bias = self._first_bias.pop(task.slot, None) if attempt == 0 else None
        bias = self.logit_bias() if bias is None else bias
        draft = self.mode.produce(task, ctx, self.generator(task, seed, sampling, last, self.engine, bias))
        if request.repair:
            replaced = () if request.scrub_like_source else self.ignore
            draft = _repaired(draft, _free_text(ctx, draft.body), self.detector, replaced, self.tally.repaired,
                              self.fallback() if self.fallback else FALLBACK_TYPE)
        asked = task
        if reason := first_reason(self.filters, draft.texts, task):
            task = self.relabelled(task, draft.texts, reason)
        self.filler.start_record(seed, draft.shapes)
        body = self.mode.finish(draft, self.filler) if request.fill_placeholders else draft.body
        record = {request.id_field: f"syn-{task.slot + 1:06d}"} if _allowed(ctx, request.id_field) else {}
        record.update({k: v for k, v in task.conditions.items() if _allowed(ctx, k)})
        record.update(body)
        if self.detector:
            self.clear_invented_pii(record, _free_text(ctx, draft.body))
        if self.validator is not None and not self.validator.is_valid(record):
            raise Reject("schema_mismatch")  # e.g. a filled value broke a length limit
        for active in self.filters:
            active.keep(draft.texts)
        if self.balance:
            self.balance.keep(draft.texts)
        if self.fallback:
            self.fallback.keep(s["entity_type"] for s in self.filler.filled)
        if self.selection:
            self.ranking[task.slot] = (condition_key(task.conditions), self.selection.score(draft.texts, task.conditions))
        relabelled = {"asked": asked.conditions} if task is not asked else {}
        self.tally.relabelled += bool(relabelled)
        record["_synthetic"] = True
        record["_provenance"] = {**self.provenance, "sampling": sampling.model_dump(), "seed": seed,
                                 "attempt": attempt, "slot": task.slot, **relabelled,
                                 **{k: task.data[k] for k in ("hint", "sentences") if k in task.data},
                                 "surrogates": self.filler.filled}
        return record

    def generator(self, task, seed: int, sampling: Sampling, last: bool, engine: Engine | _Recorder,
                  bias: dict[int, float] | None):
        request = self.request
        return _generator(engine, request, seed, constrain=last or request.structured_path == "grammar",
                          tally=self.tally, sampling=sampling, logit_bias=bias, guard=self.guard(task))

    def logit_bias(self) -> dict[int, float] | None:
        return self.balance.logit_bias() if self.balance else None

    def first_tries(self, tasks: list, budget: int) -> Iterator[tuple]:
        """(task, its first try's record or None), in slot order. The engine decodes the first tries
        together (Engine.decode_together) in windows of `TOGETHER_PER_SEQUENCE` × `n_parallel` calls, each
        call made as its window begins, vocabulary bias included; a try then asks for exactly what was
        decoded. A model fine-tuned under DP, or an engine with `n_parallel` 1, decodes them one at a time."""
        if self.engine.model.provenance.get("dp_sgd") or self.engine.runtime.n_parallel < 2:  # see synth/select.py
            yield from ((task, self.slot(task, budget, first_only=True)) for task in tasks)
            return
        window = TOGETHER_PER_SEQUENCE * self.engine.runtime.n_parallel
        for at in range(0, len(tasks), window):
            part = tasks[at:at + window]
            started = time.process_time()
            self.engine.decode_together([call for _, call in self._first_calls(part) if call is not None])
            self.tally.model_cpu_seconds += time.process_time() - started
            try:
                yield from ((task, self.slot(task, budget, first_only=True)) for task in part)
            finally:
                self.engine.forget_decoded()

    def _first_calls(self, tasks: list) -> Iterator[tuple[int, dict | None]]:
        """Each task's first model call, as `attempt` will make it (None: the mode rejected it first)."""
        for task in tasks:
            self._first_bias[task.slot] = bias = self.logit_bias() or {}
            seed = derive_seed(self.request.seed, task.slot, 0)
            generate = self.generator(task, seed, _retry_sampling(self.request, 0), False, _Recorder(), bias)
            try:
                self.mode.produce(task, self.ctx, generate)
            except _Recorded as recorded:
                yield task.slot, recorded.call
            except Reject:
                yield task.slot, None

    def relabelled(self, task, texts: list[str], reason: str):
        """Under candidate selection, a draft the label judge reads as another label becomes a
        candidate of that label (the selection ranks it there); any other reason rejects it."""
        conditions = None
        if self.selection and reason == "label_inconsistent" and self.request.relabel_candidates:
            conditions = self.selection.relabel(texts, task.conditions)
        if conditions is None:
            raise Reject(reason)
        return replace(task, conditions=conditions)

    def guard(self, task) -> CopyGuard | None:
        """The copy guard over the examples this task's prompt shows (tasks of a group share it)."""
        length = self.request.copy_guard_tokens
        if not length or not task.sources:
            return None
        if self._guard[0] != tuple(task.sources):
            view = self.ctx.view
            texts = [view.text_of(view.records[i]) for i in task.sources]
            self._guard = (tuple(task.sources), CopyGuard(texts, self.engine.tokenize, length))
        return self._guard[1]

    def clear_invented_pii(self, record: dict, texts: list[str]) -> None:
        """Reject the record if a detection reaches past its surrogates and repair (synth/cover.py)
        cannot move it onto one."""
        filler, detector, ignore = self.filler, self.detector, self.ignore
        if not uncovered(record, texts, filler.filled, detector, ignore):
            return
        if not self.request.repair:
            raise Reject("invented_pii")
        if possessive_cover(record, texts, filler, detector, ignore):
            self.tally.repaired["possessive_covered"] += 1
        elif not resurrogate(record, texts, filler, detector, ignore, self.tally.repaired):
            raise Reject("invented_pii")


def _summary(run: _Run, request: SynthRequest, mode: Mode, engine: Engine, generated: int, seconds: float,
             budget: int) -> dict:
    tally = run.tally
    rejected = sum(tally.rejected.values())
    return {
        "mode": mode.name,
        "model": engine.model.name,
        "requested": request.n,
        "generated": generated,
        "missing": request.n - generated,
        "missing_reasons": dict(sorted(run.missing.items())),
        "attempts": tally.attempts,
        "attempt_budget": budget,
        "rejected": dict(sorted(tally.rejected.items())),
        "rejection_rate": round(rejected / tally.attempts, 3) if tally.attempts else 0.0,
        "repaired": dict(sorted(tally.repaired.items())),
        "prompt_tokens": tally.prompt_tokens,
        "prompt_tokens_evaluated": tally.prompt_evaluated,
        "completion_tokens": tally.completion_tokens,
        "constrained_calls": tally.constrained_calls,
        "decoded_together": tally.decoded_together,
        "model_cpu_seconds": round(tally.model_cpu_seconds, 1),
        "surrogates_redrawn": run.filler.redrawn,
        "seconds": round(seconds, 3),
        "tokens_per_second": round(tally.completion_tokens / seconds, 1) if seconds else 0.0,
    }


def _repaired(draft: Draft, free_fields: list[str], detector: PiiDetector | None, ignore: Collection[str],
              counts: Counter, fallback: str = FALLBACK_TYPE) -> Draft:
    """The draft with placeholders repaired in every string, and invented PII in its free-text
    fields replaced by placeholders (synth/repair.py)."""
    done: dict[tuple[str, bool], str] = {}
    shapes: dict[str, str] = {}

    def fix(text: str, free: bool) -> str:
        if (text, free) not in done:
            fixed = repair_placeholders(text, counts, fallback)
            if free and detector is not None:
                fixed = replace_invented_pii(fixed, detector, ignore, counts, shapes)
            done[(text, free)] = fixed
        return done[(text, free)]

    def walk(value, free: bool):
        if isinstance(value, str):
            return fix(value, free)
        if isinstance(value, dict):
            return {k: walk(v, free) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, free) for v in value]
        return value

    body = {k: walk(v, k in free_fields) for k, v in draft.body.items()}
    return Draft(body, [fix(t, True) for t in draft.texts], shapes)


def build_context(
    records: list[dict], request: SynthRequest, mode: Mode, steer_without_examples: bool = False
) -> SynthContext:
    """What every draft of a request shares: the dataset view, schema, nouns, seeded plan and samplers.
    Keywords steer prompts with examples, and prompts without any when `steer_without_examples` (a
    model fine-tuned on keyword requests, synth/finetune/data.py)."""
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
    keywords = keyword_sampler(view) if request.steer and (request.k > 0 or steer_without_examples) else None
    lengths = _lengths(view) if request.shape_length and schema is None else None
    return SynthContext(request, view, rng, ExampleRotation(request.k, rng), schema is not None, schema, fields, what,
                        keywords, lengths)


def _lengths(view: DatasetView) -> LengthSampler:
    return LengthSampler(view.texts(), [condition_key(view.conditions(r)) for r in view.records])


def keyword_sampler(view: DatasetView) -> KeywordSampler:
    return KeywordSampler(view.texts(), [condition_key(view.conditions(r)) for r in view.records])


def _free_text(ctx: SynthContext, body: dict) -> list[str]:
    """The generated fields that hold free text: not the conditions or the label."""
    return [k for k in body if k not in ctx.view.condition_fields and k != ctx.view.label_field]


def _allowed(ctx: SynthContext, name: str) -> bool:
    """Whether a field Airlock adds (id, conditions) may appear in a record of the schema."""
    if ctx.schema is None:
        return True
    return name in ctx.schema.get("properties", {}) or ctx.schema.get("additionalProperties", True) is not False


def _retry_sampling(request: SynthRequest, attempt: int) -> Sampling:
    """A retry after a copy, a duplicate or a bad draft samples a little hotter (at most 1.2): the
    same prompt at the same temperature tends to repeat the same mistake."""
    if not attempt or not request.retry_temperature_step:
        return request.sampling
    hotter = min(1.2, request.sampling.temperature + request.retry_temperature_step * attempt)
    return request.sampling.model_copy(update={"temperature": max(hotter, request.sampling.temperature)})


class _Recorded(Exception):
    def __init__(self, call: dict):
        self.call = call


class _Recorder:
    """Stands in for the engine while `_Run.together` asks a mode for the call it would make."""

    def complete(self, messages, sampling, seed, **options) -> Completion:  # noqa: ANN001
        raise _Recorded({"messages": messages, "sampling": sampling, "seed": seed, **options})


def _generator(engine: Engine | _Recorder, request: SynthRequest, seed: int, constrain: bool, tally: _Tally,
               sampling: Sampling | None = None, logit_bias: dict[int, float] | None = None,
               guard: CopyGuard | None = None):
    """The model call a mode makes for one attempt; its n-th call uses the n-th derived seed."""
    calls = 0
    sampling = sampling or request.sampling

    def generate(messages, schema: dict | None = None, stop: list[str] | None = None) -> Completion:
        nonlocal calls
        calls += 1
        use_grammar = schema is not None and constrain
        started = time.process_time()
        completion = engine.complete(
            messages, sampling, derive_seed(seed, calls), schema=schema if use_grammar else None, stop=stop,
            logit_bias=logit_bias, guard=guard,
        )
        tally.model_cpu_seconds += time.process_time() - started
        tally.prompt_evaluated += completion.prompt_tokens if completion.prompt_evaluated is None else completion.prompt_evaluated
        tally.prompt_tokens += completion.prompt_tokens
        tally.completion_tokens += completion.completion_tokens
        tally.constrained_calls += use_grammar
        tally.decoded_together += completion.together
        return completion

    return generate
