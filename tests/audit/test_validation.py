"""Red team: the audit catches what it claims to catch, and does not cry wolf."""

from __future__ import annotations

import dataclasses
import json

import pytest

from audit.canaries import make_canaries
from audit.gate import run_audit
from audit.inputs import AuditInputs
from tests.audit.conftest import SAMPLE, SITE_KEY
from tests.audit.corpus import LABELS, make_records, near_copy


def _outcomes(report):
    return {o.name: o for o in report.checks}


def _full_inputs(synthetic, splits, scrubbed_sample, analyzer, sample_policy, **extra):
    manifest = [f for s in scrubbed_sample[1] for f in s.findings]
    return AuditInputs(synthetic, splits["train"], splits["holdout"], manifest=manifest, site_key=SITE_KEY,
                       analyzer=analyzer, privacy_policy=sample_policy.privacy, **extra)


def test_copies_of_training_records_fail(splits, policy):
    copies = [{**r, "id": f"S-{r['id']}"} for r in splits["train"][:150]]
    report = run_audit(AuditInputs(copies, splits["train"], splits["holdout"]), policy)
    checks = _outcomes(report)
    assert report.verdict == "quarantine"
    assert checks["memorization"].status == "failed"
    assert checks["memorization"].result.details["by_kind"] == {"exact copy": 150}
    assert checks["membership_inference"].status == "failed"
    assert checks["membership_inference"].result.ci[0] > 0.6
    assert any(r.startswith("memorization failed") for r in report.reasons)


def test_near_copies_fail(splits, policy):
    near = [near_copy(r, seed=i, changes=3) for i, r in enumerate(splits["train"][:150])]
    report = run_audit(AuditInputs(near, splits["train"], splits["holdout"]), policy)
    memorization = _outcomes(report)["memorization"]
    assert memorization.status == "failed"
    assert memorization.result.figure > 0.9
    # Details point at the copied training record by id, never by content.
    first = memorization.result.details["records"][0]
    assert first["train_record"] == first["record"].removeprefix("S-")
    assert _outcomes(report)["membership_inference"].status == "failed"


@pytest.fixture(scope="module")
def split_manifest(splits, sample_policy, analyzer):
    """The real Scrubber's findings on 240 sample records, assigned to the test's splits as if those
    records had been them: 180 to training records, 60 to holdout records."""
    from privacy.scrub import Scrubber

    raw = [json.loads(line) for line in (SAMPLE / "records.jsonl").read_text().splitlines()[:240]]
    ids = [r["id"] for r in splits["train"][:180]] + [r["id"] for r in splits["holdout"]]
    scrubbed = Scrubber(sample_policy.privacy, SITE_KEY, analyzer=analyzer).scrub(raw)
    return [dataclasses.replace(f, record_id=ids[i]) for i, s in enumerate(scrubbed) for f in s.findings]


def test_fresh_records_from_the_same_distribution_pass(splits, split_manifest, analyzer, sample_policy, policy):
    """Enough of them that every privacy check's 95% interval can sit below its limit."""
    inputs = AuditInputs(make_records(400, 3, "S"), splits["train"], splits["holdout"], manifest=split_manifest,
                         site_key=SITE_KEY, analyzer=analyzer, privacy_policy=sample_policy.privacy)
    report = run_audit(inputs, policy)
    checks = _outcomes(report)
    assert report.verdict == "pass", report.reasons
    low, high = checks["membership_inference"].result.ci
    assert low < 0.5 < high
    replay = checks["pii_replay"].result
    assert replay.details["identifiers_replayed"] == 0 and replay.details["control"]["holdout_only"] > 0
    assert all(c.result.gated_on == "upper_bound" for c in checks.values() if c.result and c.name != "utility")
    assert checks["pii_rescan"].status == "passed"
    assert checks["memorization"].result.figure == 0
    tstr = checks["utility"].result.details["train_on_synthetic_test_on_real"]
    assert tstr["train_on_synthetic_accuracy"] > 0.8 * tstr["train_on_real_accuracy"]


def test_degenerate_synthetic_text_fails_utility(splits, policy):
    degenerate = [{**r, "text": f"<PERSON_1> {' '.join([LABELS[r['label']][0]] * 30)}."} for r in splits["fresh"]]
    report = run_audit(AuditInputs(degenerate, splits["train"], splits["holdout"]), policy)
    utility = _outcomes(report)["utility"]
    assert utility.status == "failed"
    assert utility.result.ci[0] > 0.95
    assert utility.result.details["vocabulary_js_distance"] > 0.5


def test_a_replayed_source_pii_value_fails(splits, scrubbed_sample, analyzer, sample_policy, policy):
    raw, scrubbed = scrubbed_sample
    email = next(f for s in scrubbed for f in s.findings if f.entity_type == "EMAIL_ADDRESS")
    value = next(r for r in raw if r["id"] == email.record_id)[email.field][email.start : email.end]
    leaky = [dict(r) for r in splits["fresh"]]
    leaky[7]["text"] = leaky[7]["text"].replace("<EMAIL_ADDRESS_1>", value).replace(
        "<PERSON_1>", "<PERSON_1> (" + value.upper() + ")")
    report = run_audit(_full_inputs(leaky, splits, scrubbed_sample, analyzer, sample_policy), policy)
    replay = _outcomes(report)["pii_replay"]
    assert replay.status == "failed"
    assert replay.result.details["replayed_values"] == 1
    assert replay.result.details["replayed_by_entity"] == {"EMAIL_ADDRESS": 1}
    assert replay.result.details["occurrences"][0]["record"] == leaky[7]["id"]
    assert value not in report.to_json() and value not in report.render_html()


def test_planted_canaries_that_echo_fail_and_silent_ones_pass(splits, policy):
    canaries = make_canaries(splits["train"], seed=5, n=30)
    train = splits["train"] + canaries.training_records()
    echo = splits["fresh"] + [{**r, "id": f"S-{r['id']}"} for r in canaries.inserted]
    echoed = run_audit(AuditInputs(echo, train, splits["holdout"], canaries=canaries), policy)
    assert _outcomes(echoed)["canary_exposure"].status == "failed"
    assert _outcomes(echoed)["canary_exposure"].result.figure > 0.9

    silent = run_audit(AuditInputs(splits["fresh"], train, splits["holdout"], canaries=canaries), policy)
    exposure = _outcomes(silent)["canary_exposure"].result
    assert exposure.passed and exposure.ci[0] < 0.5 < exposure.ci[1]


@pytest.mark.slow
def test_minilm_embedder_separates_copies_from_fresh_records():
    """The real packaged MiniLM model, loaded offline, on a small set."""
    from audit.embed import MiniLMEmbedder
    from audit.policy import AuditPolicy

    embedder = MiniLMEmbedder.load()
    train, holdout = make_records(60, 11, "T"), make_records(30, 12, "H")
    policy = AuditPolicy(embedder="minilm", bootstrap=200, skip=["utility"], required=[])
    copies = run_audit(AuditInputs([dict(r) for r in train[:40]], train, holdout, embedder=embedder), policy)
    fresh = run_audit(AuditInputs(make_records(40, 13, "S"), train, holdout, embedder=embedder), policy)
    assert copies.inputs["embedder"] == "minilm"
    assert _outcomes(copies)["membership_inference"].result.figure > 0.7
    low, high = _outcomes(fresh)["membership_inference"].result.ci
    assert low < 0.5 < high
