"""The utility check on small data: a result whenever the data can support one, never a crash."""

from __future__ import annotations

from audit.gate import run_audit
from audit.inputs import AuditInputs


def _utility(report):
    return next(o for o in report.checks if o.name == "utility")


def test_too_few_synthetic_records_do_not_apply_and_quarantine(splits, policy):
    report = run_audit(AuditInputs(splits["fresh"][:4], splits["train"], splits["holdout"]), policy)
    utility = _utility(report)
    assert utility.status == "not_applicable"
    assert "needs at least 10" in utility.reason
    assert report.verdict == "quarantine"
    assert any(r.startswith("utility is required by the policy but was not applicable") for r in report.reasons)


def test_a_small_synthetic_set_gets_a_figure(splits, policy):
    utility = _utility(run_audit(AuditInputs(splits["fresh"][:12], splits["train"], splits["holdout"]), policy))
    assert utility.status == "passed", utility.reason
    assert utility.result.details["discriminator_records_per_side"] == 12
    assert utility.result.ci[0] <= utility.result.figure <= utility.result.ci[1]
