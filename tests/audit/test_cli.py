"""`airlock audit`, `airlock report …` and `airlock log …` through the real CLI, on real files."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from api.cli import app
from privacy.records import write_records
from tests.audit.conftest import SAMPLE

runner = CliRunner()


@pytest.fixture
def files(data_dir, tmp_path, splits, scrubbed_sample):
    """Splits, a manifest under this data directory's site key, and a fast policy, as files."""
    from api.secrets import load_secret
    from api.settings import Settings
    from privacy.manifest import ManifestWriter

    paths = {name: tmp_path / f"{name}.jsonl" for name in ("train", "holdout", "fresh", "copies")}
    for name in ("train", "holdout", "fresh"):
        write_records(paths[name], splits[name])
    write_records(paths["copies"], [{**r, "id": f"S-{r['id']}"} for r in splits["train"][:120]])
    paths["manifest"] = tmp_path / "manifest.jsonl"
    with ManifestWriter(paths["manifest"], load_secret("site", Settings())) as writer:
        for record in scrubbed_sample[1]:
            writer.add(record.findings)
    policy = yaml.safe_load((SAMPLE / "policy.yaml").read_text())
    # These tests are about the CLI, signatures and the log: 200 fresh records and a 40-record manifest
    # are too few for upper-bound gating (see test_gate), so privacy checks are judged on estimates here.
    policy["audit"] = {"embedder": "tfidf", "bootstrap": 200, "gate_on": "estimate",
                       "checks": {"pii_rescan": {"params": {"sample": 60}}, "utility": {"params": {"sample": 200}}}}
    paths["policy"] = tmp_path / "policy.yaml"
    paths["policy"].write_text(yaml.safe_dump(policy))
    # Without the re-scan no analyzer loads: for tests about signatures and the log, not the checks.
    policy["audit"].update(skip=["pii_rescan"], required=["pii_replay", "memorization", "membership_inference"])
    paths["fast_policy"] = tmp_path / "fast_policy.yaml"
    paths["fast_policy"].write_text(yaml.safe_dump(policy))
    return paths


def _audit(files, synthetic: str, out, policy: str = "policy"):
    return runner.invoke(app, [
        "audit", "--synthetic", str(files[synthetic]), "--train", str(files["train"]), "--holdout",
        str(files["holdout"]), "--manifest", str(files["manifest"]), "--policy", str(files[policy]), "-o", str(out),
    ])


def test_audit_signs_reports_that_verify_and_logs_each_verdict(files, tmp_path):
    passed = _audit(files, "fresh", tmp_path / "pass")
    assert passed.exit_code == 0, passed.output
    assert "verdict: PASS" in passed.output
    assert {p.name for p in (tmp_path / "pass").iterdir()} == {"report.json", "report.html", "report.json.sig"}

    quarantined = _audit(files, "copies", tmp_path / "quarantine")
    assert quarantined.exit_code == 3, quarantined.output
    assert "memorization failed" in quarantined.output
    report = tmp_path / "quarantine" / "report.json"
    assert json.loads(report.read_text())["verdict"] == "quarantine"

    verified = runner.invoke(app, ["report", "verify", str(report)])
    assert verified.exit_code == 0, verified.output
    assert "signature valid" in verified.output

    log = runner.invoke(app, ["log", "show"])
    entries = [json.loads(line) for line in log.output.splitlines()]
    assert [(e["event"], e["details"]["verdict"]) for e in entries] == [
        ("audit.completed", "pass"), ("audit.completed", "quarantine")]
    assert runner.invoke(app, ["log", "verify"]).exit_code == 0


def test_tampering_with_a_report_is_detected(files, tmp_path):
    assert _audit(files, "copies", tmp_path, "fast_policy").exit_code == 3
    report = tmp_path / "report.json"
    document = json.loads(report.read_text())
    document["verdict"], document["reasons"] = "pass", []
    report.write_text(json.dumps(document, indent=2))
    result = runner.invoke(app, ["report", "verify", str(report)])
    assert result.exit_code == 3
    assert "report.json was changed after it was signed" in result.output


def test_a_tampered_log_row_fails_log_verify(files, tmp_path):
    from sqlalchemy import create_engine, text

    from api.settings import Settings

    assert _audit(files, "copies", tmp_path / "a", "fast_policy").exit_code == 3
    assert _audit(files, "fresh", tmp_path / "b", "fast_policy").exit_code == 0
    engine = create_engine(Settings().effective_database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET details = replace(details, 'quarantine', 'pass') WHERE seq = 1"))
    engine.dispose()
    result = runner.invoke(app, ["log", "verify"])
    assert result.exit_code == 3
    assert "entry 1 was changed after it was written" in result.output


def test_public_key_export_verifies_and_another_key_does_not(files, tmp_path):
    assert _audit(files, "fresh", tmp_path / "r", "fast_policy").exit_code == 0
    exported = runner.invoke(app, ["report", "public-key", "-o", str(tmp_path / "site.pem")])
    assert exported.exit_code == 0
    assert (tmp_path / "site.pem").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    report = str(tmp_path / "r" / "report.json")
    assert runner.invoke(app, ["report", "verify", report, "--public-key", str(tmp_path / "site.pem")]).exit_code == 0
    (tmp_path / "other.pub").write_text("ab" * 32)
    wrong = runner.invoke(app, ["report", "verify", report, "--public-key", str(tmp_path / "other.pub")])
    assert wrong.exit_code == 3
    assert "not with the given public key" in wrong.output


def test_a_manifest_from_another_site_key_is_refused(files, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRLOCK_SITE_KEY", "11" * 32)
    result = _audit(files, "fresh", tmp_path / "out")
    assert result.exit_code == 2
    assert "another site key" in result.output
    assert not (tmp_path / "out").exists()


def test_a_holdout_below_the_policy_minimum_is_bad_input(files, tmp_path):
    write_records(files["holdout"], [{"id": "H-1", "kind": "ticket", "label": "billing", "text": "x" * 40}] * 5)
    result = _audit(files, "fresh", tmp_path / "out", "fast_policy")
    assert result.exit_code == 2
    assert "holdout split has 5 records" in result.output
    assert not (tmp_path / "out").exists()
