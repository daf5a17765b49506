"""Running the audit and the fail-closed gate.

Quarantine unless every check that ran passed and every check the policy requires ran: a failed
check, an error inside a check, a check module that cannot load, or a required check that is
missing, skipped or not applicable each quarantine, and each is named in the report's reasons.
"""

from __future__ import annotations

import hashlib
import json
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from audit.check import Check, CheckResult, CheckSettings, NotApplicable
from audit.context import AuditContext
from audit.embed import load_embedder
from audit.inputs import SPLITS, AuditInputs, Fields, check_schema, check_splits, resolve_fields
from audit.policy import AuditPolicy
from audit.report import SCHEMA, SCHEMA_VERSION, CheckOutcome, Report
from privacy.errors import AirlockError

Progress = Callable[[int, int | None], None]
BLOCKING_WHEN_REQUIRED = ("not_applicable", "missing", "skipped")
ESTIMATE_NOTE = (
    "this policy judges privacy checks on their point estimates (gate_on: estimate), not on the upper "
    "bound of their 95% interval: a pass does not show that any risk is below its limit"
)


def run_audit(
    inputs: AuditInputs, policy: AuditPolicy, progress: Progress | None = None, *,
    embedder_factory: Callable[[str], object] = load_embedder,
) -> Report:
    """Validate the inputs (BadInput on empty splits, mismatched schemas, a small holdout), run every
    registered check that applies, and gate the result."""
    from audit.checks import BROKEN, CHECKS

    check_splits(inputs, policy.min_holdout)
    fields = resolve_fields(inputs)
    check_schema(inputs, fields)
    context = AuditContext(inputs, fields, policy, embedder_factory)
    to_run = [name for name in CHECKS if name not in policy.skip]
    outcomes: list[CheckOutcome] = []
    for done, name in enumerate(to_run):
        outcomes.append(_run_check(CHECKS[name], context, policy, name in policy.required))
        if progress:
            progress(done + 1, len(to_run))
    for name in policy.skip:
        if name in CHECKS:
            outcomes.append(CheckOutcome(name, CHECKS[name].title, "skipped", name in policy.required,
                                         "the policy skips this check"))
    for module, why in BROKEN.items():
        outcomes.append(CheckOutcome(module, module, "error", module in policy.required,
                                     f"the check module could not be loaded ({why})"))
    known = {o.name for o in outcomes}
    for name in policy.required:
        if name not in known:
            outcomes.append(CheckOutcome(name, name, "missing", True, "no check of this name is installed"))
    notes = [f"the policy sets thresholds for {name!r}, which is not an installed check"
             for name in policy.checks if name not in CHECKS and name not in BROKEN]
    if policy.gate_on != "upper_bound":
        notes.append(ESTIMATE_NOTE)
    reasons = [_reason(o) for o in outcomes if _blocks(o)]
    return Report(
        schema=SCHEMA,
        schema_version=SCHEMA_VERSION,
        report_id=uuid.uuid4().hex,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        verdict="quarantine" if reasons else "pass",
        reasons=tuple(reasons),
        checks=tuple(outcomes),
        inputs=_describe_inputs(inputs, fields, context),
        policy=policy.model_dump(mode="json"),
        notes=tuple(notes),
    )


def _run_check(check: Check, context: AuditContext, policy: AuditPolicy, required: bool) -> CheckOutcome:
    rule = policy.rule(check.name)
    settings = CheckSettings(
        name=check.name,
        threshold=check.default_threshold if rule.threshold is None else rule.threshold,
        params=rule.params,
        gate_on=policy.gate_on if check.kind == "privacy" else policy.utility_gate_on,
        confidence=policy.confidence,
    )
    started = time.perf_counter()
    try:
        result = check.run(context, settings)
    except NotApplicable as why:
        return CheckOutcome(check.name, check.title, "not_applicable", required, str(why),
                            seconds=time.perf_counter() - started)
    except AirlockError as error:
        return CheckOutcome(check.name, check.title, "error", required, f"{type(error).__name__}: {error}",
                            seconds=time.perf_counter() - started)
    except Exception as error:  # noqa: BLE001 - an error inside a check must quarantine, not crash
        # Only the error's type and where it happened: a library's message could quote record content.
        frame = traceback.extract_tb(error.__traceback__)[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        return CheckOutcome(check.name, check.title, "error", required,
                            f"the check failed with {type(error).__name__} at {where}",
                            seconds=time.perf_counter() - started)
    status = "passed" if result.passed else "failed"
    return CheckOutcome(check.name, check.title, status, required, "", result, time.perf_counter() - started)


def _blocks(outcome: CheckOutcome) -> bool:
    return outcome.status in ("failed", "error") or (outcome.required and outcome.status in BLOCKING_WHEN_REQUIRED)


def _reason(outcome: CheckOutcome) -> str:
    if outcome.status == "failed":
        return _failure(outcome.name, outcome.result)
    if outcome.status == "error":
        return f"{outcome.name} could not be completed: {outcome.reason}"
    return f"{outcome.name} is required by the policy but was {outcome.status.replace('_', ' ')}: {outcome.reason}"


def _failure(name: str, r: CheckResult) -> str:
    """Why a failed check blocks: a zero-tolerance rule, too little evidence, or a risk above its limit."""
    interval = f"95% interval {r.ci[0]:.4g}–{r.ci[1]:.4g}"
    if r.blocked_by:
        return f"{name} failed: {r.blocked_by}"
    if r.evidence == "insufficient":
        needed = (f"about {r.records_needed:,} {r.records_unit} would be needed" if r.records_needed
                  else "no sample size would do at the observed rate")
        return (f"{name} has too little evidence: the estimate {r.figure:.4g} is within the limit of "
                f"{r.threshold:.4g}, but the {interval} is not, so the risk is not shown to be below it; {needed}")
    if r.gated_on == "upper_bound":
        return (f"{name} failed: the upper bound {r.ci[1]:.4g} is above the limit of {r.threshold:.4g} "
                f"(estimate {r.figure:.4g}, {interval})")
    return f"{name} failed: {r.figure:.4g} is above the limit of {r.threshold:.4g} ({interval})"


def digest_records(records: list[dict]) -> str:
    """SHA-256 of the records as canonical JSON lines: names the exact data a report is about."""
    h = hashlib.sha256()
    for record in records:
        h.update(json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


def _describe_inputs(inputs: AuditInputs, fields: Fields, context: AuditContext) -> dict:
    described = {split: {"records": len(getattr(inputs, split)), "sha256": digest_records(getattr(inputs, split))}
                 for split in SPLITS}
    described["text_fields"] = fields.text
    described["label_field"] = fields.label
    described["manifest_findings"] = None if inputs.manifest is None else len(inputs.manifest)
    described["canaries"] = None if inputs.canaries is None else {
        "inserted": len(inputs.canaries.inserted), "control": len(inputs.canaries.control)}
    described["models"] = sorted(inputs.models) if inputs.models else None
    embedder = context.__dict__.get("embedder")
    described["embedder"] = getattr(embedder, "name", None)
    return described
