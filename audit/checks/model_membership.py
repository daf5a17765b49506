"""Model-based membership inference: did fine-tuning make the model remember its training records?

Applies when a fine-tuned model produced the synthetic data. Each training record (member) and
holdout record (non-member) is rendered exactly as the model was trained — the generator's request
answered by the record — and scored by how much fine-tuning lowered the loss of its answer: loss
under the base model minus loss under the fine-tuned model. Calibrating by the base model removes
how easy a record is anyway, leaving what the model learned from that record. A model exported as a
LoRA adapter (synth/finetune/export.py) is calibrated by its own weights without the adapter: the copy
of the base the adapter was trained on, so the difference is the adapter's alone (the registered base
differs from that copy by its re-quantization too). The figure is the
attack's AUC (0.5 = a coin flip). The same attack on the base model's own loss is reported as the
control (it saw none of the records, so it should score a coin flip: if not, members and non-members
differ in difficulty and the holdout is not a fair control), beside the uncalibrated loss attack. The summary states the model's privacy guarantee in plain words.
Parameter: `records` (at most this many members and non-members are scored; default 200).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from audit.check import Check, CheckResult, CheckSettings, NotApplicable
from audit.context import AuditContext
from audit.stats import auc_with_ci, scaled_records_needed, tpr_at_fpr
from audit.errors import AuditError

METHOD = (
    "Reference-calibrated loss attack (Carlini et al., 'Membership Inference Attacks From First "
    "Principles', S&P 2022; Watson et al., 'On the Importance of Difficulty Calibration in Membership "
    "Inference Attacks', ICLR 2022): per-record answer loss under the fine-tuned model minus under its "
    "base model, computed with llama.cpp; AUC of members vs holdout non-members with a stratified "
    "bootstrap interval, and TPR at 1% FPR."
)
DEFAULT_RECORDS = 200
PROVENANCE_SHOWN = ("epsilon", "epsilon_spent", "delta", "accountant", "noise_multiplier", "noise_source",
                    "sample_rate", "clip_norm", "steps", "epochs", "learning_rate", "batch_size", "dataset_size")


def run(context: AuditContext, settings: CheckSettings) -> CheckResult:
    from synth.finetune.guarantee import describe_guarantee

    models = context.inputs.models or {}
    if not models.get("finetuned"):
        raise NotApplicable("no fine-tuned model produced the synthetic data")
    if not models.get("base"):
        raise AuditError("model membership inference needs the fine-tuned model's base model as well")
    tuned_path, tuned_adapter, tuned = _model(models["finetuned"])
    base_path, base_adapter, _ = _model(models["base"])
    if tuned_adapter is not None:  # the reference is exactly the weights the adapter was trained on
        base_path, base_adapter = tuned_path, None
    if not tuned.get("prompt_format"):
        raise AuditError("the fine-tuned model's provenance lacks its prompt format; it was not made by `airlock finetune`")

    rng = np.random.default_rng(context.seed)
    limit = int(settings.param("records", DEFAULT_RECORDS))
    members = _sample(context.records("train"), limit, rng)
    nonmembers = _sample(context.records("holdout"), limit, rng)
    base_loss, tuned_loss = _losses(members + nonmembers, (tuned_path, tuned_adapter), tuned, (base_path, base_adapter))
    m = len(members)
    auc = {  # higher score = "member"; only the calibrated score is the check's figure
        name: auc_with_ci(score[:m], score[m:], confidence=settings.confidence,
                          n_bootstrap=context.n_bootstrap, seed=context.seed)
        for name, score in (("calibrated", base_loss - tuned_loss), ("uncalibrated", -tuned_loss),
                            ("base", -base_loss))
    }
    figure, ci = auc["calibrated"]
    guarantee = describe_guarantee(tuned)
    base_figure, base_ci = auc["base"]
    summary = (
        f"The fine-tuned model was {guarantee}. An attacker holding the model tells its training records "
        f"from unseen ones with an AUC of {figure:.2f} (95% interval {ci[0]:.2f}–{ci[1]:.2f}), by how much "
        f"fine-tuning lowered each record's loss relative to the base model; 0.50 is a coin flip and the "
        f"limit is {settings.threshold:.2f}. The same attack on the base model alone, which saw none of "
        f"these records, scores {base_figure:.2f} ({base_ci[0]:.2f}–{base_ci[1]:.2f}): the control."
    )
    drop = base_loss - tuned_loss
    details = {
        "members": m,
        "non_members": len(nonmembers),
        "mean_loss_drop_members": round(float(drop[:m].mean()), 4),
        "mean_loss_drop_non_members": round(float(drop[m:].mean()), 4),
        "tpr_at_1pct_fpr": tpr_at_fpr(drop[:m], drop[m:], 0.01),
        "uncalibrated_auc": auc["uncalibrated"][0], "uncalibrated_ci": list(auc["uncalibrated"][1]),
        "base_model_auc": base_figure, "base_model_ci": list(base_ci),
        "model_sha256": tuned.get("sha256"),
        "base_model_sha256": tuned.get("base_model_sha256"),
        "reference": "the fine-tuned model's own weights without its LoRA adapter" if tuned_adapter is not None
                     else "the base model",
        "differential_privacy": bool(tuned.get("differential_privacy")),
        **{k: tuned.get(k) for k in PROVENANCE_SHOWN if k in tuned},
        "guarantee": guarantee,
    }
    needed = scaled_records_needed(figure, ci[1], min(m, len(nonmembers)), settings.threshold)
    unit = "holdout records scored (param `records`), with as many training records"
    return settings.result(figure, ci, summary, details, METHOD, needed=lambda: needed and (needed, unit))


def _losses(records: list[dict], tuned_model: tuple, tuned: dict, base_model: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Each record's answer loss under the base and the fine-tuned model ((GGUF, adapter or None) each),
    rendered as it was trained."""
    from synth.finetune.data import Tokenizer, render_examples
    from synth.finetune.scoring import answer_losses

    examples, _ = render_examples(records, prompt_format=tuned["prompt_format"])
    tokenizer = Tokenizer(tuned_model[0])
    try:
        max_length = int(tuned.get("max_length") or 512)
        encoded = [tokenizer.encode(example, max_length) for example in examples]
    finally:
        tokenizer.close()
    return answer_losses(base_model[0], encoded, base_model[1]), answer_losses(tuned_model[0], encoded, tuned_model[1])


def _model(model) -> tuple[Path, Path | None, dict]:
    """A ModelInfo or a GGUF path → (path, its LoRA adapter or None, provenance); a path's provenance is
    read from the file."""
    if hasattr(model, "path"):
        return Path(model.path), model.adapter, {**model.provenance, "sha256": model.sha256}
    from gguf import GGUFReader

    from synth.finetune.export import PROVENANCE_KEY

    path = Path(model)
    if not path.is_file():
        raise AuditError(f"model file {path.name} is missing")
    field = GGUFReader(path).fields.get(PROVENANCE_KEY)
    return path, None, json.loads(field.contents()) if field is not None else {}


def _sample(records: list[dict], limit: int, rng: np.random.Generator) -> list[dict]:
    if len(records) <= limit:
        return list(records)
    return [records[i] for i in sorted(rng.choice(len(records), limit, replace=False))]


CHECK = Check(
    name="model_membership_inference",
    title="Training records remembered by the fine-tuned model",
    run=run,
    default_threshold=0.6,
    order=45,
)
