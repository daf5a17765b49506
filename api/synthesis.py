"""The synthesis step as every entry point runs it: `airlock synth`, the pipeline (`airlock run` and the
service's jobs) and the Ray workers load the model, build the PII filter from the privacy policy and
call synth.generate.synthesize here, so they cannot drift apart."""

from __future__ import annotations

from typing import Any, Callable

from api.policy import Policy


def pii_filters(policy: Policy) -> dict:
    """synthesize()'s PII filter arguments: the privacy stage's detectors, and the entity types the
    audit's re-scan ignores (so generation drops what the re-scan would count, and nothing else)."""
    from api.detector import pii_detector, rescan_ignored
    from privacy.analyzer import build_analyzer

    return {"pii_detector": pii_detector(build_analyzer(policy.privacy), policy), "pii_ignore": rescan_ignored(policy)}


def run_synthesis(records: list[dict], request: Any, model: Any, runtime: Any, policy: Policy,
                  progress: Callable[[int, int | None], None] | None = None, pii_filter: bool = True,
                  source_values: Any = None) -> Any:
    """synth.generate.SynthResult for `request` on `records` with `model` (synth.store.ModelInfo) under
    `runtime` (synth.engine.RuntimeSettings); the engine is closed whatever happens."""
    from synth.engine import Engine
    from synth.generate import synthesize

    filters = pii_filters(policy) if pii_filter else {}
    engine = Engine(model, runtime)
    try:
        return synthesize(records, request, engine, progress, source_values=source_values, **filters)
    finally:
        engine.close()


GENERATION_FIELDS = ("mode", "model", "requested", "attempts", "attempt_budget", "rejection_rate", "rejected",
                     "repaired", "missing_reasons", "candidates")


def generation_summary(summary: dict) -> dict:
    """What the report and the dataset card say of the synthesis stage: counts only, never text."""
    return {"delivered": summary.get("generated"), **{k: summary[k] for k in GENERATION_FIELDS if k in summary}}
