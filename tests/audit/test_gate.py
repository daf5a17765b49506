"""The gate is fail-closed, and bad input never reaches a verdict."""

from __future__ import annotations

import pytest

from audit.checks import CHECKS
from audit.gate import run_audit
from audit.inputs import AuditInputs
from audit.policy import AuditPolicy, CheckRule
from audit.stats import wilson_records_needed
from privacy.errors import BadInput
from tests.audit.corpus import make_records


@pytest.fixture(scope="module")
def fresh():
    """Fresh records enough to bound memorization below 1% at the upper bound (0 of 400: ≤ 0.95%)."""
    return make_records(400, 3, "S")


def _outcomes(report):
    return {o.name: o for o in report.checks}


def _policy(**changes) -> AuditPolicy:
    return AuditPolicy(embedder="tfidf", bootstrap=100, skip=["utility"],
                       required=["memorization", "membership_inference"]).model_copy(update=changes)


def test_registry_finds_every_check_module():
    assert {"pii_rescan", "pii_replay", "memorization", "membership_inference", "canary_exposure",
            "utility"} <= set(CHECKS)


def test_a_missing_required_check_quarantines(splits, fresh):
    policy = _policy(required=["memorization", "no_such_check"])
    report = run_audit(AuditInputs(fresh, splits["train"], splits["holdout"]), policy)
    assert report.verdict == "quarantine"
    assert _outcomes(report)["no_such_check"].status == "missing"
    assert report.reasons == ("no_such_check is required by the policy but was missing: "
                              "no check of this name is installed",)


def test_a_required_check_that_does_not_apply_quarantines_but_an_optional_one_does_not(splits, fresh):
    inputs = AuditInputs(fresh, splits["train"], splits["holdout"])
    optional = run_audit(inputs, _policy())
    assert optional.verdict == "pass", optional.reasons
    assert _outcomes(optional)["canary_exposure"].status == "not_applicable"
    required = run_audit(inputs, _policy(required=["canary_exposure"]))
    assert required.verdict == "quarantine"
    assert "canary_exposure is required by the policy but was not applicable" in required.reasons[0]


def test_an_error_inside_a_check_quarantines_without_quoting_data(splits, fresh):
    policy = _policy(checks={"memorization": CheckRule(params={"ngram": "ten"})})
    report = run_audit(AuditInputs(fresh, splits["train"], splits["holdout"]), policy)
    memorization = _outcomes(report)["memorization"]
    assert memorization.status == "error"
    assert report.verdict == "quarantine"
    assert "ValueError" in memorization.reason


def test_a_failed_optional_check_still_quarantines(splits):
    copies = [dict(r) for r in splits["train"][:100]]
    report = run_audit(AuditInputs(copies, splits["train"], splits["holdout"]), _policy(required=[]))
    assert report.verdict == "quarantine"


def test_upper_bound_gating_is_stricter_than_the_estimate(splits, fresh):
    inputs = AuditInputs(fresh, splits["train"], splits["holdout"])
    strict = _policy(checks={"membership_inference": CheckRule(threshold=0.5)})
    lenient = strict.model_copy(update={"gate_on": "estimate"})
    assert _outcomes(run_audit(inputs, lenient))["membership_inference"].status == "passed"
    assert _outcomes(run_audit(inputs, strict))["membership_inference"].status == "failed"


def test_privacy_checks_gate_on_the_upper_bound_and_utility_on_the_estimate_by_default(splits):
    policy = AuditPolicy(embedder="tfidf", bootstrap=100)
    report = run_audit(AuditInputs(make_records(400, 3, "S"), splits["train"], splits["holdout"]), policy)
    gated = {o.name: o.result.gated_on for o in report.checks if o.result}
    assert gated["memorization"] == gated["membership_inference"] == "upper_bound"
    assert gated["utility"] == "estimate"
    assert CHECKS["utility"].kind == "utility"
    assert all(c.kind == "privacy" for name, c in CHECKS.items() if name != "utility")
    assert not any("gate_on: estimate" in note for note in report.notes)


def test_too_small_a_sample_quarantines_and_says_how_many_records_would_be_needed(splits):
    """The demo's case: 30 synthetic records, none a copy — memorization 0 [0, 0.11] against 0.01."""
    policy = _policy(required=["memorization"], skip=["utility", "membership_inference"])
    small = run_audit(AuditInputs(splits["fresh"][:30], splits["train"], splits["holdout"]), policy)
    memorization = _outcomes(small)["memorization"]
    assert memorization.result.figure == 0 and memorization.result.ci[1] > 0.1
    assert small.verdict == "quarantine" and memorization.status == "failed"
    assert memorization.result.evidence == "insufficient"
    assert memorization.result.records_needed == wilson_records_needed(0, 30, 0.01)
    assert memorization.result.records_unit == "synthetic records"
    reason = next(r for r in small.reasons if r.startswith("memorization"))
    assert "too little evidence" in reason and "381 synthetic records would be needed" in reason
    assert "Too little evidence" in memorization.result.summary
    document = small.to_dict()
    (check,) = [c for c in document["checks"] if c["name"] == "memorization"]
    assert check["records_needed"] == 381 and check["evidence"] == "insufficient"
    assert "381 synthetic records" in small.render_html()

    enough = run_audit(AuditInputs(make_records(400, 3, "S"), splits["train"], splits["holdout"]), policy)
    assert _outcomes(enough)["memorization"].status == "passed", enough.reasons


def test_judging_privacy_on_estimates_is_allowed_but_the_report_says_so(splits):
    policy = _policy(required=["memorization"], skip=["utility", "membership_inference"], gate_on="estimate")
    report = run_audit(AuditInputs(splits["fresh"][:30], splits["train"], splits["holdout"]), policy)
    assert report.verdict == "pass"
    assert any("gate_on: estimate" in note and "does not show" in note for note in report.notes)


@pytest.mark.parametrize("change, message", [
    (lambda s: {"holdout": []}, "the holdout split is empty"),
    (lambda s: {"train": []}, "the train split is empty"),
    (lambda s: {"holdout": s["holdout"][:10]}, "holdout split has 10 records"),
    (lambda s: {"holdout": [{**r, "extra": 1} for r in s["holdout"]]}, "only in holdout: extra"),
    (lambda s: {"holdout": [{k: v for k, v in r.items() if k != "label"} for r in s["holdout"]]},
     "missing from holdout: label"),
    (lambda s: {"synthetic": [{**r, "text": None} for r in s["fresh"]]}, "synthetic record 1: text field 'text'"),
    (lambda s: {"synthetic": [{**r, "secret": "x"} for r in s["fresh"]]}, "fields the training split lacks: secret"),
])
def test_bad_input_is_refused_with_a_clear_message(splits, change, message):
    parts = {"synthetic": splits["fresh"], "train": splits["train"], "holdout": splits["holdout"]}
    parts.update(change(splits))
    with pytest.raises(BadInput, match=message):
        run_audit(AuditInputs(**parts), _policy())


def test_report_json_is_versioned_and_html_is_self_contained(splits, fresh):
    report = run_audit(AuditInputs(fresh, splits["train"], splits["holdout"]), _policy())
    document = report.to_dict()
    assert (document["schema"], document["schema_version"]) == ("airlock.audit-report", 1)
    assert document["inputs"]["train"]["records"] == 240
    page = report.render_html()
    assert page.index("Release allowed") < page.index("Copies of training records")
    assert "<svg" in page and "<script" not in page
    assert "http://" not in page and "https://" not in page and "src=" not in page
    assert "Keys and audit log" not in page  # nothing to show outside a pipeline run


def test_html_names_the_keys_and_the_audit_log_entry_the_report_was_issued_at(splits, fresh):
    from dataclasses import replace

    report = run_audit(AuditInputs(fresh, splits["train"], splits["holdout"]), _policy())
    issued = replace(report, keys={"site": "site-3f9a1c", "signing": "signing-77b2e0"},
                     log_head={"seq": 41, "hash": "ab" * 32})
    page = issued.render_html()
    section = page[page.index("Keys and audit log"):]
    assert "site-3f9a1c" in section and "signing-77b2e0" in section
    assert "41" in section and "abababababababab…" in section and "ab" * 32 not in section
