"""`airlock run` chooses to fine-tune from the training split's size and the estimated CPU time;
the decision and its reason reach the dataset card, and a run that does not fine-tune reads as a
few-shot run."""

from __future__ import annotations

import pytest

from api.finetune_choice import FinetuneChoice, decide, estimate_cpu_minutes
from synth.finetune.config import FinetuneConfig

BUNDLED = 98_362_432


def test_auto_needs_enough_records_and_a_budget_that_fits():
    choice = FinetuneChoice(min_records=1000, cpu_minutes=240)
    few = decide(999, FinetuneConfig(), choice, BUNDLED, asked=False)
    assert not few.finetune and "fewer than the 1000" in few.reason
    enough = decide(2000, FinetuneConfig(epochs=2), choice, BUNDLED, asked=False)
    assert enough.finetune and enough.estimated_cpu_minutes <= 240
    # A model ten times the size, or DP-SGD's slower steps, can take the same data past the budget.
    big = decide(2000, FinetuneConfig(epochs=2), choice, 10 * BUNDLED, asked=False)
    assert not big.finetune and "over the budget" in big.reason
    assert estimate_cpu_minutes(2000, FinetuneConfig(dp=True, max_length=512), choice, BUNDLED) > enough.estimated_cpu_minutes


def test_longer_records_cost_more_up_to_the_length_training_keeps():
    from api.finetune_choice import tokens_per_record

    short = [{"id": "a", "text": "x" * 40, "label": "l"}] * 3
    long = [{"id": "a", "text": "x" * 4000, "label": "l"}] * 3
    assert tokens_per_record(short, ["text"]) == pytest.approx(93 + 10)
    assert tokens_per_record(long, ["text"]) == pytest.approx(93 + 1000)
    choice, config = FinetuneChoice(), FinetuneConfig()
    few, many = (estimate_cpu_minutes(1000, config, choice, BUNDLED, tokens_per_record(r, ["text"])) for r in (short, long))
    assert many == pytest.approx(few * config.length_cap / 103)  # cut at max_length: no cost beyond it
    assert estimate_cpu_minutes(1000, config.model_copy(update={"max_length": 2048}), choice, BUNDLED, 1093) > many


def test_asking_and_the_policy_override_the_estimate():
    tiny = FinetuneChoice(min_records=10**6, cpu_minutes=0.001)
    assert decide(5, FinetuneConfig(), tiny, BUNDLED, asked=True).finetune
    assert decide(10**6, FinetuneConfig(), tiny.model_copy(update={"when": "always"}), BUNDLED, asked=False).finetune
    assert not decide(10**6, FinetuneConfig(), FinetuneChoice(when="never"), BUNDLED, asked=False).finetune


def test_a_bad_choice_is_one_line(tmp_path):
    from api.policy import load_policy
    from privacy.errors import PolicyError

    path = tmp_path / "bad.yaml"
    path.write_text("finetune_choice: {when: sometimes}\n")
    with pytest.raises(PolicyError) as error:
        load_policy(path)
    assert "\n" not in str(error.value) and "finetune_choice.when" in str(error.value)


def _choice_of_a_run(tmp_path, text: str) -> dict:
    """The finetune choice `run_pipeline` records for a training split of 20 records of `text`: a work
    folder as the split leaves it, a policy whose budget declines, and a stop when the synth stage starts."""
    import json

    from api.db import open_database
    from api.pipeline import Interrupted, PipelineOptions, run_pipeline
    from api.policy import load_policy
    from api.settings import Settings
    from audit.log import AuditLog
    from tests.api.conftest import write_policy

    work = tmp_path / f"work-{len(text)}"
    work.mkdir()
    checkpoint = {"run_id": "run-1", "completed": ["scrub", "split"], "counts": {}, "timings": {}, "state": {}}
    (work / "checkpoint.json").write_text(json.dumps(checkpoint))
    (work / "train.jsonl").write_text("".join(json.dumps({"id": f"rid-{i}", "kind": "note", "label": "a", "text": text})
                                              + "\n" for i in range(20)))
    policy = load_policy(write_policy(Settings().data_dir, "budget", finetune_choice={"min_records": 1, "cpu_minutes": 0.001}))

    def stop_at_synth(stage: str, percent: float) -> None:
        if stage == "synth":
            raise Interrupted("stopped by the test")

    engine = open_database(f"sqlite:///{tmp_path / 'log.db'}")
    with pytest.raises(Interrupted):
        run_pipeline(tmp_path / "unused.jsonl", tmp_path / "out", policy, Settings(), PipelineOptions(workdir=work),
                     stop_at_synth, audit_log=AuditLog(engine))
    engine.dispose()
    return json.loads((work / "checkpoint.json").read_text())["state"]["finetune_choice"]


def test_a_run_estimates_from_its_own_records_length(data_dir, tmp_path):
    """`airlock run` hands the training split's length to the estimate: 20 records of 2,000 characters
    (93 + 500 tokens, cut at the cap of 512) cost 512 / 103 times as much as 20 of 40 characters."""
    short, long = _choice_of_a_run(tmp_path, "x" * 40), _choice_of_a_run(tmp_path, "x" * 2000)
    assert not short["finetune"] and "over the budget" in short["reason"]
    assert long["estimated_cpu_minutes"] == pytest.approx(short["estimated_cpu_minutes"] * 512 / 103, rel=0.05)
