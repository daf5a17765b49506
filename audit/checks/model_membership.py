"""Model-based membership inference: did fine-tuning make the model remember its training records?

Applies when a fine-tuned model produced the synthetic data. Each training record (member) and
holdout record (non-member) is rendered exactly as the model was trained — the generator's request
answered by the record — and scored by how much fine-tuning lowered the loss of its answer: loss
under the base model minus loss under the fine-tuned model. Calibrating by the base model removes
how easy a record is anyway, leaving what the model learned from that record. The figure is the
attack's AUC (0.5 = a coin flip). The summary states the model's privacy guarantee in plain words.
Parameter: `records` (at most this many members and non-members are scored; default 200).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from audit.check import Check, CheckResult, CheckSettings, NotApplicable
from audit.context import AuditContext
from audit.stats import auc_with_ci, tpr_at_fpr
from privacy.errors import AuditError

METHOD = (
    "Reference-calibrated loss attack (Carlini et al., 'Membership Inference Attacks From First "
    "Principles', S&P 2022; Watson et al., 'On the Importance of Difficulty Calibration in Membership "
    "Inference Attacks', ICLR 2022): per-record answer loss under the fine-tuned model minus under its "
    "base model, computed with llama.cpp; AUC of members vs holdout non-members with a stratified "
    "bootstrap interval, and TPR at 1% FPR."
)
DEFAULT_RECORDS = 200


def run(context: AuditContext, settings: CheckSettings) -> CheckResult:
    from synth.finetune.data import Tokenizer, render_examples
    from synth.finetune.guarantee import describe_guarantee
    from synth.finetune.scoring import answer_losses

    models = context.inputs.models or {}
    if not models.get("finetuned"):
        raise NotApplicable("no fine-tuned model produced the synthetic data")
    if not models.get("base"):
        raise AuditError("model membership inference needs the fine-tuned model's base model as well")
    tuned_path, tuned = _model(models["finetuned"])
    base_path, _ = _model(models["base"])
    prompt_format = tuned.get("prompt_format")
    if not prompt_format:
        raise AuditError("the fine-tuned model's provenance lacks its prompt format; it was not made by `airlock finetune`")

    rng = np.random.default_rng(context.seed)
    limit = int(settings.param("records", DEFAULT_RECORDS))
    members = _sample(context.records("train"), limit, rng)
    nonmembers = _sample(context.records("holdout"), limit, rng)
    examples, _ = render_examples(members + nonmembers, prompt_format=prompt_format)
    tokenizer = Tokenizer(tuned_path)
    try:
        max_length = int(tuned.get("max_length") or 512)
        encoded = [tokenizer.encode(example, max_length) for example in examples]
    finally:
        tokenizer.close()
    drop = answer_losses(base_path, encoded) - answer_losses(tuned_path, encoded)
    member_drop, nonmember_drop = drop[: len(members)], drop[len(members) :]
    figure, ci = auc_with_ci(
        member_drop, nonmember_drop, confidence=settings.confidence, n_bootstrap=context.n_bootstrap, seed=context.seed
    )
    guarantee = describe_guarantee(tuned)
    summary = (
        f"The fine-tuned model was {guarantee}. An attacker holding the model tells its training records "
        f"from unseen ones with an AUC of {figure:.2f} (95% interval {ci[0]:.2f}–{ci[1]:.2f}), by how much "
        f"fine-tuning lowered each record's loss; 0.50 is a coin flip and the limit is {settings.threshold:.2f}."
    )
    details = {
        "members": len(members),
        "non_members": len(nonmembers),
        "mean_loss_drop_members": round(float(member_drop.mean()), 4),
        "mean_loss_drop_non_members": round(float(nonmember_drop.mean()), 4),
        "tpr_at_1pct_fpr": tpr_at_fpr(member_drop, nonmember_drop, 0.01),
        "model_sha256": tuned.get("sha256"),
        "base_model_sha256": tuned.get("base_model_sha256"),
        "differential_privacy": bool(tuned.get("differential_privacy")),
        **{k: tuned.get(k) for k in ("epsilon", "epsilon_spent", "delta", "accountant", "noise_multiplier",
                                      "sample_rate", "clip_norm", "steps", "epochs", "dataset_size") if k in tuned},
        "guarantee": guarantee,
    }
    return settings.result(figure, ci, summary, details, METHOD)


def _model(model) -> tuple[Path, dict]:
    """A ModelInfo or a GGUF path → (path, provenance); a path's provenance is read from the file."""
    if hasattr(model, "path"):
        return Path(model.path), {**model.provenance, "sha256": model.sha256}
    from gguf import GGUFReader

    from synth.finetune.export import PROVENANCE_KEY

    path = Path(model)
    if not path.is_file():
        raise AuditError(f"model file {path.name} is missing")
    field = GGUFReader(path).fields.get(PROVENANCE_KEY)
    return path, json.loads(field.contents()) if field is not None else {}


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
