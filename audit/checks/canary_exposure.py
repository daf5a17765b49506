"""Canary exposure (audit mode): do planted canaries echo in the synthetic data?

An n-gram model fitted on the synthetic text scores every canary's random suffix; if the generator
saw the inserted canaries, they score higher than the never-inserted controls. The figure is the
AUC of inserted vs control canaries (0.5 = no echo). Applies only when canaries were planted.
"""

from __future__ import annotations

from audit.canaries import NgramModel, canary_scores
from audit.check import Check, CheckResult, CheckSettings, NotApplicable
from audit.context import AuditContext
from audit.stats import auc_with_ci, scaled_records_needed

METHOD = (
    "Meeus et al., 'The Canary's Echo: Auditing Privacy Risks of LLM-Generated Synthetic Text' "
    "(ICML 2025): in-distribution prefix + high-perplexity suffix canaries, scored by a trigram model "
    "fitted on the synthetic data; AUC of inserted vs control canaries, stratified bootstrap interval."
)


def run(context: AuditContext, settings: CheckSettings) -> CheckResult:
    canaries = context.inputs.canaries
    if canaries is None:
        raise NotApplicable("no canaries were planted in the training split before synthesis")
    model = NgramModel(context.tokens("synthetic"))
    inserted = canary_scores(canaries, canaries.inserted, model)
    control = canary_scores(canaries, canaries.control, model)
    figure, ci = auc_with_ci(
        inserted, control, confidence=settings.confidence, n_bootstrap=context.n_bootstrap, seed=context.seed
    )
    echoed = [
        str(record[canaries.id_field]) for record, score in zip(canaries.inserted, inserted) if score > control.max()
    ]
    summary = (
        f"Canaries planted in the training data score an AUC of {figure:.2f} (95% interval "
        f"{ci[0]:.2f}–{ci[1]:.2f}) against canaries that were never planted; 0.50 means the synthetic "
        f"data carries no echo of them. The limit is {settings.threshold:.2f}."
    )
    details = {
        "inserted": len(inserted),
        "control": len(control),
        "repeats": canaries.repeats,
        "echoed_above_every_control": echoed[:50],
    }
    needed = scaled_records_needed(figure, ci[1], min(len(inserted), len(control)), settings.threshold)
    unit = "planted canaries and as many controls"
    return settings.result(figure, ci, summary, details, METHOD, needed=lambda: needed and (needed, unit))


CHECK = Check(name="canary_exposure", title="Echo of planted canary records", run=run, default_threshold=0.6, order=50)
