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


def _with_utility_params(policy, **params):
    from audit.policy import CheckRule

    return policy.model_copy(update={"checks": {**policy.checks, "utility": CheckRule(params=params)}})


def test_components_carry_figures_intervals_and_thresholds(splits, policy):
    utility = _utility(run_audit(AuditInputs(splits["fresh"][:80], splits["train"], splits["holdout"]), policy))
    components = utility.result.details["components"]
    for name in ("tstr_ratio", "augmentation_lift", "label_js_distance", "length_js_distance",
                 "vocabulary_js_distance", "embedding_precision", "embedding_recall", "embedding_coverage",
                 "holdout_discriminator_auc"):
        c = components[name]
        assert c["ci"][0] - 1e-9 <= c["figure"] <= c["ci"][1] + 1e-9, (name, c)
        assert c["direction"] in ("min", "max") and isinstance(c["threshold"], float)
    # records from the real distribution are about as useful as the real ones, and where real ones are
    assert components["tstr_ratio"]["figure"] > 0.7 and components["embedding_coverage"]["figure"] > 0.5
    assert "macro-F1" in utility.result.summary
    assert components["holdout_discriminator_auc"]["figure"] < 0.8  # same distribution as the holdout


def test_the_holdout_discriminator_tells_other_text_from_the_real_records(splits, policy):
    other = [{**r, "text": r["text"].replace(" ", " indeed ")} for r in splits["fresh"][:40]]
    utility = _utility(run_audit(AuditInputs(other, splits["train"], splits["holdout"]), policy))
    unseen = utility.result.details["components"]["holdout_discriminator_auc"]
    assert unseen["figure"] > 0.95 and not unseen["passed"] and not unseen["enforced"]


def test_wrongly_labelled_synthetic_records_fail_tstr_only_when_enforced(splits, policy):
    labels = sorted({r["label"] for r in splits["train"]})
    shifted = [{**r, "label": labels[(labels.index(r["label"]) + 1) % len(labels)]} for r in splits["fresh"][:80]]
    inputs = AuditInputs(shifted, splits["train"], splits["holdout"])
    advisory = _utility(run_audit(inputs, policy))
    tstr = advisory.result.details["components"]["tstr_ratio"]
    assert tstr["figure"] < 0.5 and not tstr["passed"] and advisory.status == "passed"
    enforced = _utility(run_audit(inputs, _with_utility_params(policy, enforce=["tstr_ratio"])))
    assert enforced.status == "failed" and "tstr_ratio" in enforced.result.blocked_by


def test_collapsed_synthetic_data_covers_less_of_the_real_data():
    import numpy as np

    from audit.fidelity import embedding_fidelity

    rng = np.random.default_rng(0)
    real = rng.normal(size=(150, 8))
    fresh = rng.normal(size=(150, 8))
    collapsed = real[:3][rng.integers(0, 3, 150)] + rng.normal(scale=0.01, size=(150, 8))
    good, bad = embedding_fidelity(real, fresh, seed=1), embedding_fidelity(real, collapsed, seed=1)
    assert bad["coverage"]["figure"] < 0.2 < good["coverage"]["figure"]
    assert bad["recall"]["figure"] < good["recall"]["figure"]
    assert bad["precision"]["figure"] > 0.9  # each collapsed record still looks real


def test_the_html_report_shows_components_and_the_length_chart(splits, policy):
    report = run_audit(AuditInputs(splits["fresh"][:40], splits["train"], splits["holdout"]), policy)
    html = report.render_html()
    assert "Record length, real (training) vs synthetic" in html
    assert "tstr ratio" in html and "embedding coverage" in html and "95% interval" in html
