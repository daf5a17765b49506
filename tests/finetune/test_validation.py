"""The privacy claims, tested on real tiny models: an overfit model is caught by the model-level
membership attack and quarantined by the gate, the DP model at ε=8 is not; planted canaries are
exposed less under DP; an interrupted DP run resumes without spending extra budget; the exported
GGUF runs in llama.cpp."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest

from tests.finetune.conftest import MAX_LENGTH, tickets

pytestmark = pytest.mark.slow
CHECK = "model_membership_inference"


def _audit(splits, model, base):
    from audit.checks import CHECKS
    from audit.gate import run_audit
    from audit.inputs import AuditInputs
    from audit.policy import AuditPolicy

    synthetic = [{**r, "_synthetic": True} for r in tickets(3, seed=9)]
    inputs = AuditInputs(synthetic=synthetic, train=splits["train"], holdout=splits["holdout"],
                         models={"finetuned": model, "base": base})
    # Default thresholds; only the model-level check runs (the others judge synthetic data).
    policy = AuditPolicy(required=[CHECK], skip=[name for name in CHECKS if name != CHECK])
    report = run_audit(inputs, policy)
    (outcome,) = [o for o in report.checks if o.name == CHECK]
    return report, outcome


@pytest.fixture(scope="module")
def audits(splits, overfit_model, dp_run, base):
    return {"overfit": _audit(splits, overfit_model["model"], base), "dp": _audit(splits, dp_run["model"], base)}


def test_at_equal_settings_dp_removes_what_the_model_attack_finds_and_the_base_model_is_the_control(
    audits, overfit_model, dp_run
):
    """Same records, epochs, learning rate, batch, LoRA rank and seed; only DP differs. The base model,
    which saw none of the records, is the control: its own loss tells members from non-members no
    better than a coin flip, so the difference the attack finds is what fine-tuning taught."""
    tuned, dp_prov = overfit_model["model"].provenance, dp_run["model"].provenance
    for key in ("epochs", "learning_rate", "batch_size", "lora_r", "max_length", "seed", "dataset_fingerprint"):
        assert tuned[key] == dp_prov[key], key
    overfit, dp = audits["overfit"][1].result, audits["dp"][1].result
    assert overfit.figure > 0.85 and overfit.ci[0] > 0.6
    assert overfit.ci[0] > dp.ci[1]  # the intervals do not overlap
    # DP noise comes from os.urandom, so the estimate varies run to run; the attack never shows the DP
    # model past the limit (its interval reaches below it), where it shows the non-DP model far past it.
    assert dp.ci[0] < dp.threshold
    for name, result in (("non-DP", overfit), ("DP", dp)):  # shown with -rP: the figures a README quotes
        print(f"{name}: AUC {result.figure:.3f} {result.ci}; base model {result.details['base_model_auc']:.3f} "
              f"{result.details['base_model_ci']}; uncalibrated {result.details['uncalibrated_auc']:.3f}")
    # The adapter model is calibrated by its own weights without the adapter; the merged DP model by the base.
    assert overfit.details["reference"].startswith("the fine-tuned model's own weights") and dp.details["reference"] == "the base model"
    for result in (overfit, dp):
        low, high = result.details["base_model_ci"]
        assert low < 0.5 < high
        assert "The same attack on the base model alone" in result.summary


def test_gate_quarantines_the_overfit_model_and_judges_the_dp_model_by_its_interval(audits):
    """The overfit model fails outright. The DP model's noise comes from os.urandom, so its estimate
    varies from run to run around a coin flip; whatever it is, the gate passes it only when the whole
    interval sits within the limit, and otherwise says why: an estimate over the limit fails, an
    estimate within it on too few records names the records needed."""
    overfit_report, overfit = audits["overfit"]
    dp_report, dp = audits["dp"]
    assert overfit_report.verdict == "quarantine"
    assert overfit.status == "failed" and overfit.result.evidence == "sufficient"
    assert any(reason.startswith(f"{CHECK} failed") for reason in overfit_report.reasons)
    result = dp.result
    if result.ci[1] <= result.threshold:
        assert dp_report.verdict == "pass" and dp.status == "passed", dp_report.reasons
        return
    assert dp_report.verdict == "quarantine" and dp.status != "passed"
    if result.figure > result.threshold:
        assert result.evidence == "sufficient"
        assert any(r.startswith(f"{CHECK} failed") for r in dp_report.reasons)
    else:
        # The interval is as narrow as the smaller group allows: more than that many of each are needed.
        scored = min(result.details["members"], result.details["non_members"])
        assert result.evidence == "insufficient" and result.records_needed > scored
        assert any(r.startswith(f"{CHECK} has too little evidence") for r in dp_report.reasons)


def test_report_states_the_guarantee_in_plain_words(audits):
    dp, overfit = audits["dp"][1].result, audits["overfit"][1].result
    assert "trained with differential privacy, ε=8, δ=" in dp.summary
    assert dp.details["differential_privacy"] is True and dp.details["accountant"] == "rdp"
    assert dp.details["noise_source"].startswith("os.urandom")
    assert "WITHOUT differential privacy" in overfit.summary
    assert overfit.details["differential_privacy"] is False


def _exposure(model, base, splits) -> float:
    """Mean exposure (Carlini et al., 'The Secret Sharer', USENIX Security 2019) of the planted
    canaries, ranked by loss drop among never-planted controls: log2(candidates) − log2(rank)."""
    from synth.finetune.data import Tokenizer, render_examples
    from synth.finetune.scoring import answer_losses

    records = splits["planted"] + splits["controls"]
    examples, _ = render_examples(records, prompt_format=model.provenance["prompt_format"])
    tokenizer = Tokenizer(model.path)
    encoded = [tokenizer.encode(e, MAX_LENGTH) for e in examples]
    tokenizer.close()
    drop = answer_losses(base.path, encoded) - answer_losses(model.path, encoded, model.adapter)
    planted, controls = drop[: len(splits["planted"])], drop[len(splits["planted"]) :]
    candidates = len(controls) + 1
    return float(np.mean([math.log2(candidates) - math.log2(1 + np.sum(controls >= d)) for d in planted]))


def test_planted_canaries_are_less_exposed_under_dp(splits, overfit_model, dp_run, base):
    overfit = _exposure(overfit_model["model"], base, splits)
    dp = _exposure(dp_run["model"], base, splits)
    assert overfit > 4.0  # at or near the top of the ranking among 31 candidates
    # DP noise is os.urandom, so the DP figure varies; it fails only if both canaries rank at the very top.
    assert dp < overfit - 0.5


def test_interrupted_dp_run_resumes_without_spending_more_budget(dp_run):
    from opacus.accountants import RDPAccountant

    first, second, prov = dp_run["first"], dp_run["second"], dp_run["model"].provenance
    assert [s.step for s in first] == [1]
    assert dp_run["checkpoint"] is not None  # the interruption left a checkpoint
    assert second[0].step == 2 and second[-1].step == second[-1].total == prov["steps"]
    # What was recorded is exactly `steps` noisy steps at the planned noise and rate, no more.
    reference = RDPAccountant()
    reference.history = [(prov["noise_multiplier"], prov["sample_rate"], prov["steps"])]
    assert prov["epsilon_spent"] == pytest.approx(reference.get_epsilon(prov["delta"]), abs=1e-3)
    assert prov["epsilon_spent"] <= prov["epsilon"]
    assert second[-1].epsilon == pytest.approx(prov["epsilon_spent"], abs=1e-3)
    assert not (dp_run["config"].checkpoint_dir / "checkpoint.pt").exists()  # done: no stale checkpoint


def test_provenance_records_the_guarantee_and_the_data(dp_run, base, splits):
    from synth.finetune.data import dataset_fingerprint

    prov = dp_run["model"].provenance
    assert prov["base_model_sha256"] == base.sha256
    assert prov["differential_privacy"] is True
    assert prov["accountant"] == "rdp" and prov["epsilon"] == 8.0
    assert prov["delta"] == pytest.approx(1 / len(splits["train"]) ** 1.1)
    assert prov["sample_rate"] == pytest.approx(1 / 3) and prov["clip_norm"] == 1.0
    assert prov["noise_multiplier"] > 0 and prov["epochs"] == 4
    assert prov["noise_source"].startswith("os.urandom") and "seeded" not in prov["guarantee"]
    assert prov["dataset_size"] == len(splits["train"])
    assert prov["dataset_fingerprint"] == dataset_fingerprint(splits["train"])
    assert prov["prompt_format"]["hints"] is False  # keywords are read from all records: never under DP


def test_a_model_trained_under_dp_keeps_the_base_sampler(dp_run, overfit_model):
    from synth.engine import Engine, RuntimeSettings
    from synth.generate import SynthRequest, finetuned_sampling

    request = SynthRequest(mode="classify", n=1, k=0)
    assert request.sampling.min_p != request.finetuned_min_p
    for trained, min_p in ((dp_run["model"], request.sampling.min_p), (overfit_model["model"], request.finetuned_min_p)):
        engine = Engine(trained, RuntimeSettings(n_ctx=256))
        try:
            assert finetuned_sampling(request, engine).sampling.min_p == min_p
        finally:
            engine.close()


def test_exported_gguf_keeps_the_base_metadata_and_runs_in_llama_cpp(dp_run, overfit_model, base, splits):
    import gguf

    from synth.engine import Engine, RuntimeSettings, Sampling
    from synth.finetune.data import Tokenizer, render_examples
    from synth.finetune.scoring import answer_losses

    model = dp_run["model"]
    source, exported = gguf.GGUFReader(base.path), gguf.GGUFReader(model.path)
    for key in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.chat_template", "llama.block_count"):
        assert exported.fields[key].contents() == source.fields[key].contents()
    # Under DP the adapter is merged into Q8_0 weights (one file); without DP it is kept apart, beside the
    # base's Q4_1 block weights re-quantized to IQ4_NL, on which it was trained, and holds A and B of every
    # projection. Untrained tensors are the base's, byte for byte, in both.
    tensors, original = {t.name: t for t in exported.tensors}, {t.name: t for t in source.tensors}
    overfit = overfit_model["model"]
    fast = {t.name: t for t in gguf.GGUFReader(overfit.path).tensors}
    assert original["blk.0.attn_q.weight"].tensor_type == gguf.GGMLQuantizationType.Q4_1
    assert tensors["blk.0.attn_q.weight"].tensor_type == gguf.GGMLQuantizationType.Q8_0 and model.adapter is None
    assert fast["blk.0.attn_q.weight"].tensor_type == gguf.GGMLQuantizationType.IQ4_NL
    for untrained in (tensors, fast):
        assert bytes(untrained["token_embd.weight"].data) == bytes(original["token_embd.weight"].data)
    adapter = gguf.GGUFReader(overfit.adapter)
    assert adapter.fields["general.type"].contents() == "adapter" and adapter.fields["adapter.type"].contents() == "lora"
    assert len(adapter.tensors) == 2 * 7 * int(source.fields["llama.block_count"].contents())

    engine = Engine(model, RuntimeSettings(n_ctx=256))
    out = engine.complete([{"role": "user", "content": "Write one new ticket. Reply with the text only."}],
                          Sampling(max_tokens=16, temperature=0.0), seed=0)
    engine.close()
    assert out.completion_tokens > 0 and out.text.strip()

    # Rotary layout and tensor names right: a wrong layout makes every loss far worse than the base's.
    # The DP model scores unseen records no worse than its base (it may have learned the records' shared
    # format), and the overfit model's loss on its own training records collapsed.
    examples, _ = render_examples(splits["holdout"][:8] + splits["train"][:8], prompt_format=model.provenance["prompt_format"])
    tokenizer = Tokenizer(model.path)
    encoded = [tokenizer.encode(e, MAX_LENGTH) for e in examples]
    tokenizer.close()
    base_loss = answer_losses(base.path, encoded)
    assert np.all(answer_losses(model.path, encoded[:8], model.adapter) < base_loss[:8] + 0.3)
    overfit = overfit_model["model"]
    assert answer_losses(overfit.path, encoded[8:], overfit.adapter).mean() < base_loss[8:].mean() / 2


def test_cli_reports_a_model_without_dp_as_such(overfit_model):
    assert "registered tiny-overfit" in overfit_model["output"]
    assert "WITHOUT differential privacy" in overfit_model["output"]
    assert overfit_model["model"].provenance["differential_privacy"] is False
    assert overfit_model["model"].provenance["prompt_format"]["hints"] is True  # keyword requests, without DP


def _seed_forms(draw: bytes) -> list[bytes]:
    """How a drawn 64-bit seed could be written down: raw either way round, as digits, as hex."""
    forms = [draw, draw[::-1]]
    for order in ("little", "big"):
        number = int.from_bytes(draw, order)
        forms += [str(number).encode(), f"{number:x}".encode(), f"{number:016x}".encode()]
    return forms


def test_the_noise_seed_appears_nowhere(dp_run, audits):
    """Opacus's noise and sampling draw from a generator seeded by os.urandom, once per step; none of
    those seeds is in the model's provenance, the GGUF file, the checkpoint left by the interruption,
    the logs or output of training, or the audit report."""
    seeds = [d for d in dp_run["draws"] if len(d) == 8]
    assert len(seeds) >= dp_run["model"].provenance["steps"]  # one fresh seed per step at least
    report = audits["dp"][0]
    places = {
        "provenance": json.dumps(dp_run["model"].provenance, default=str).encode(),
        "gguf": dp_run["model"].path.read_bytes(),
        "checkpoint": dp_run["checkpoint"],
        "output": dp_run["output"].encode(),
        "report": report.to_json().encode() + report.render_html().encode(),
    }
    assert places["checkpoint"] is not None
    for name, blob in places.items():
        for seed in seeds:
            assert not any(form in blob for form in _seed_forms(seed) if len(form) >= 8), name


def test_a_checkpoint_holds_no_noise_generator_state(dp_run):
    import torch

    state = torch.load(io.BytesIO(dp_run["checkpoint"]), weights_only=False)
    assert state["noise_rng"] is None
    assert state["accountant"]["history"]  # what was spent is kept, the noise source is not


def test_reproducible_noise_is_a_test_mode_reported_as_not_differentially_private(splits, base, store, tmp_path):
    import gguf

    from synth.finetune import FinetuneConfig, describe_guarantee, finetune
    from synth.finetune.export import base_weights, write_base

    config = FinetuneConfig(dp=True, epsilon=8.0, epochs=1, batch_size=8, lora_r=4, max_length=MAX_LENGTH,
                            seeded_noise=True, lora_targets=["v_proj"])
    model = finetune(splits["train"], base, store, config, name="tiny-seeded")
    prov = model.provenance
    # An adapter on the value projections only, merged: the query projections are those of the Q8_0 copy of
    # the base it was trained on, byte for byte; the value projections are not.
    assert prov["lora_targets"] == ["v_proj"]
    write_base(base.path, tmp_path / "trained-on.gguf", base_weights(dp=True))
    trained_on, exported = ({t.name: t for t in gguf.GGUFReader(p).tensors} for p in (tmp_path / "trained-on.gguf", model.path))
    assert bytes(exported["blk.0.attn_q.weight"].data) == bytes(trained_on["blk.0.attn_q.weight"].data)
    assert bytes(exported["blk.0.attn_v.weight"].data) != bytes(trained_on["blk.0.attn_v.weight"].data)
    assert exported["blk.0.attn_v.weight"].tensor_type == gguf.GGMLQuantizationType.Q8_0
    assert prov["differential_privacy"] is False and prov["dp_sgd"] is True
    assert "NOT differentially private" in prov["noise_source"]
    assert prov["guarantee"].startswith("fine-tuned with DP-SGD using REPRODUCIBLE, SEEDED noise")
    assert "NOT differentially private" in describe_guarantee(prov)
    assert "ε=" not in prov["guarantee"]
