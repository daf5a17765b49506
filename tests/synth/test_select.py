"""Candidate selection (synth/select.py): per label, the candidates the label judge reads most surely
as their label are kept, the requested counts stay exact, and kept records take the plan's slots."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from synth.generate import SynthRequest, build_context, synthesize
from synth.judge import LabelJudge
from synth.modes import Task, get_mode
from synth.select import Selection
from synth.steer import condition_key

REAL = [("the striker scored a late goal in the match", "sport"), ("the team won the cup final", "sport"),
        ("the coach praised the goalkeeper after the match", "sport"), ("shares fell as the bank cut rates", "money"),
        ("the firm reported higher profits and sales", "money"), ("investors sold shares after the profit warning", "money")]
CANDIDATES = [("the match ended with a goal", "sport"), ("the weather was mild on tuesday", "sport"),
              ("the cup final drew a crowd and the team scored", "sport"), ("a report on the day", "money"),
              ("profits rose and shares gained as the bank lifted sales", "money"), ("shares of the firm", "money")]


def test_the_best_candidates_of_each_label_take_the_plans_slots():
    judge = LabelJudge([t for t, _ in REAL], [y for _, y in REAL])
    selection = Selection(3, judge, "label")
    wide = [Task(slot, {"label": label}, []) for slot, (_, label) in enumerate(CANDIDATES)]
    candidates = [{"id": f"syn-{slot + 1:06d}", "label": label, "text": text, "_provenance": {"slot": slot}}
                  for slot, (text, label) in enumerate(CANDIDATES)]
    scores = {task.slot: selection.score([CANDIDATES[task.slot][0]], task.conditions) for task in wide}
    ranking = {task.slot: (condition_key(task.conditions), scores[task.slot]) for task in wide}
    tasks = [Task(0, {"label": "sport"}, []), Task(1, {"label": "money"}, [])]

    kept = selection.choose(candidates, ranking, tasks, "id")

    best = {label: max((s for s in scores if CANDIDATES[s][1] == label), key=scores.get) for label in ("sport", "money")}
    assert [r["_provenance"]["candidate"] for r in kept] == [best["sport"], best["money"]]
    assert [r["label"] for r in kept] == ["sport", "money"]
    assert [r["id"] for r in kept] == ["syn-000001", "syn-000002"]
    assert [r["_provenance"]["slot"] for r in kept] == [0, 1]
    assert best == {"sport": 2, "money": 4}  # the texts full of the label's words, not the first ones written


def test_a_draft_of_another_label_becomes_a_candidate_of_that_label():
    """The judge's own label, as the records hold it (ints stay ints); None where it reads the asked one."""
    labels = {"sport": 1, "money": 2}
    selection = Selection(3, LabelJudge([t for t, _ in REAL], [labels[y] for _, y in REAL]), "label")
    assert selection.relabel(["profits rose and shares gained"], {"label": 1, "kind": "lede"}) == {"label": 2, "kind": "lede"}
    assert selection.relabel(["the team scored a goal in the final"], {"label": 1}) is None


def _tuned(model, n_parallel: int = 16):
    from synth.engine import Engine, RuntimeSettings

    return Engine(replace(model, provenance={**model.provenance, "prompt_format": {"hints": False}}),
                  RuntimeSettings(n_parallel=n_parallel))


def test_a_fine_tuned_model_writes_k_candidates_per_record_and_keeps_n_of_them(records, model):
    """Each candidate slot gets one try, as a run of k × n with one try per slot gives it; a slot that
    failed is tried again only when its label is short. A lenient judge relabels nothing here, so the
    first tries are exactly the unselected run's records (both decoded one at a time here: decoded
    together, the same calls agree up to float rounding, synth/batch.py)."""
    from synth.engine import Sampling

    tuned = _tuned(model, n_parallel=1)
    request = SynthRequest(mode="classify", n=4, seed=11, k=0, label_field="label", finetuned_candidates=3,
                           label_agreement=0.01, sampling=Sampling(max_tokens=40))
    try:
        selected = synthesize(records, request, tuned)
        once = synthesize(records, request.model_copy(update={"n": 12, "finetuned_candidates": 1, "slot_attempts": 1}), tuned)
    finally:
        tuned.close()
    written = {r["_provenance"]["slot"]: r for r in once.records}
    candidates = selected.summary["candidates"]
    assert candidates["per_record"] == 3 and candidates["relabelled"] == 0 and candidates["written"] >= len(once.records)
    assert "candidates" not in once.summary and selected.summary["attempts"] >= 12
    assert len(selected.records) == 4 and [r["id"] for r in selected.records] == [f"syn-{i:06d}" for i in range(1, 5)]
    plan = get_mode("classify").plan(build_context(records, request, get_mode("classify")))
    need = Counter(t.conditions["label"] for t in plan)
    assert Counter(r["label"] for r in selected.records) == need
    if all(Counter(r["label"] for r in once.records)[label] >= count for label, count in need.items()):
        assert selected.summary["attempts"] == 12  # no label was short: no failed candidate is retried
    for record in selected.records:
        slot = record["_provenance"]["candidate"]
        if record["_provenance"]["attempt"] == 0:
            assert record["text"] == written[slot]["text"] and record["label"] == written[slot]["label"]
        else:  # a retry, only of a slot whose first try failed
            assert slot not in written


def test_candidates_first_tries_are_decoded_together(records, model):
    """Every candidate slot's first try is served by the batched decode (two sequences for eighteen
    slots: two windows), though the vocabulary bias moves as records are kept: each window's calls are
    made, bias included, as it begins, and a try asks for exactly that. Retries are decoded alone; the
    plan's label counts stay exact, and one at a time the same request gives as many records. A DP
    model's candidates are decoded one at a time (synth/select.py)."""
    from synth.engine import Sampling
    from synth.generate import TOGETHER_PER_SEQUENCE

    assert TOGETHER_PER_SEQUENCE * 2 < 18

    request = SynthRequest(mode="classify", n=6, seed=11, k=0, label_field="label", finetuned_candidates=3,
                           sampling=Sampling(max_tokens=40))
    summaries = {}
    dp_model = replace(model, provenance={**model.provenance, "dp_sgd": True})
    for n_parallel, base in ((2, model), (1, model), ("dp", dp_model)):
        tuned = _tuned(base, n_parallel=2 if n_parallel == "dp" else n_parallel)
        try:
            result = synthesize(records, request, tuned)
        finally:
            tuned.close()
        plan = get_mode("classify").plan(build_context(records, request, get_mode("classify")))
        assert Counter(r["label"] for r in result.records) == Counter(t.conditions["label"] for t in plan)
        summaries[n_parallel] = result.summary
    assert request.balance_vocabulary and summaries[2]["decoded_together"] == 18 and summaries[2]["attempts"] >= 18
    assert summaries[1]["decoded_together"] == 0 and summaries[1]["generated"] == summaries[2]["generated"] == 6
    assert summaries["dp"]["decoded_together"] == 0  # a DP model's candidates are decoded one at a time


def test_a_strict_judge_relabels_candidates_instead_of_rejecting_them(records, model):
    """With the asked label required to be the judge's first choice, the bundled (not fine-tuned) model
    writes drafts the judge reads as another label: none is rejected for it, each is a candidate of the
    judge's label, and the plan's label counts stay exact. `relabel_candidates: false` rejects them."""
    from synth.engine import Sampling

    tuned = _tuned(model)
    request = SynthRequest(mode="classify", n=6, seed=5, k=0, label_field="label", finetuned_candidates=3,
                           label_agreement=1.0, sampling=Sampling(max_tokens=40))
    try:
        result = synthesize(records, request, tuned)
        rejecting = synthesize(records, request.model_copy(update={"relabel_candidates": False}), tuned)
    finally:
        tuned.close()
    assert result.summary["candidates"]["relabelled"] > 0
    assert "label_inconsistent" not in result.summary["rejected"]
    assert rejecting.summary["candidates"]["relabelled"] == 0 and rejecting.summary["rejected"]["label_inconsistent"] > 0
    plan = get_mode("classify").plan(build_context(records, request, get_mode("classify")))
    assert Counter(r["label"] for r in result.records) == Counter(t.conditions["label"] for t in plan)
    for record in result.records:
        if asked := record["_provenance"].get("asked"):
            assert asked["label"] != record["label"]


def test_nothing_selects_without_the_label_check_or_in_a_mode_that_answers_a_source_record(records, model):
    """`label_check: false` (a DP site that wants ε to cover every use of the records) turns selection off
    too; paraphrase writes one record per source record, so it has nothing to choose among."""
    from synth.engine import Engine, Sampling

    tuned = Engine(replace(model, provenance={**model.provenance, "prompt_format": {}, "dp_sgd": True}))
    request = SynthRequest(mode="classify", n=2, seed=11, k=0, label_field="label", finetuned_candidates=3,
                           sampling=Sampling(max_tokens=40))
    try:
        results = [synthesize(records, request.model_copy(update=update), tuned)
                   for update in ({"label_check": False}, {"mode": "paraphrase"})]
    finally:
        tuned.close()
    for result in results:
        assert "candidates" not in result.summary and result.summary["attempts"] <= 2 * request.max_attempts
        assert all("candidate" not in r["_provenance"] for r in result.records)
