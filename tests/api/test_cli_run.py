"""`airlock run` on real files: the pipeline end to end to a release bundle whose report verifies."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.api.conftest import as_jsonl, planted_records, write_policy

pytestmark = pytest.mark.slow


def test_run_releases_a_verifiable_bundle(data_dir, tmp_path):
    records = tmp_path / "records.jsonl"
    records.write_bytes(as_jsonl(planted_records(27)))
    policy = write_policy(tmp_path, "tiny")
    out = tmp_path / "out"
    runner = CliRunner()
    result = runner.invoke(app, ["run", str(records), "-o", str(out), "--policy", str(policy), "-n", "2", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "released" in result.output and f"report: {out / 'report.html'}" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["DATASET_CARD.md", "report.html", "report.json",
                                                     "report.json.sig", "signing-key.pub", "synthetic.jsonl"]
    assert not list(data_dir.glob("run-*"))  # the scrubbed stage artifacts went with the run
    # The policy's finetune_choice (auto) declined on 19 training records: no finetune stage ran,
    # and the card says so and why.
    assert "finetune" not in result.output
    card = (out / "DATASET_CARD.md").read_text()
    assert "model was sampled on" in card and "Fine-tuning: " in card and "fewer than the 1000" in card
    # The signed report says how the records were made: the request met, the attempts, the rejections.
    generation = json.loads((out / "report.json").read_text())["generation"]
    delivered = len((out / "synthetic.jsonl").read_text().splitlines())
    assert generation["requested"] == 2 and generation["delivered"] == delivered
    assert generation["attempts"] == delivered + sum(generation["rejected"].values())
    assert generation["rejection_rate"] == round(sum(generation["rejected"].values()) / generation["attempts"], 3)
    assert "How the synthetic records were made" in (out / "report.html").read_text()
    assert f"{delivered} of 2 requested records in {generation['attempts']} attempts" in card
    assert f"synth: {delivered} of 2 records in {generation['attempts']} attempts" in result.output
    verified = runner.invoke(app, ["report", "verify", str(out / "report.json"),
                                   "--public-key", str(out / "signing-key.pub")])
    assert verified.exit_code == 0 and "signature valid" in verified.output
    log = runner.invoke(app, ["log", "verify"])
    assert log.exit_code == 0, log.output


def test_run_refuses_dp_without_finetune(data_dir, tmp_path):
    result = CliRunner().invoke(app, ["run", str(tmp_path / "x.jsonl"), "-o", str(tmp_path / "out"), "--dp"])
    assert result.exit_code == 2 and "--finetune" in result.output
    assert not (tmp_path / "out").exists()


def test_keys_and_config_commands(data_dir, monkeypatch):
    from api.secrets import load_secret
    from api.settings import Settings

    monkeypatch.setenv("AIRLOCK_DATABASE_URL", "sqlite:///" + str(data_dir / "cli.db"))
    monkeypatch.setenv("AIRLOCK_SIGNING_KEY", "ab" * 32)
    runner = CliRunner()
    created = runner.invoke(app, ["keys", "create", "--role", "reviewer", "--name", "rita"])
    assert created.exit_code == 0 and created.stdout.startswith("ak_")
    key_id = created.stdout.split("_")[1]
    assert f"{key_id}  reviewer   active   rita" in runner.invoke(app, ["keys", "list"]).output
    assert runner.invoke(app, ["keys", "revoke", key_id]).exit_code == 0
    assert "revoked" in runner.invoke(app, ["keys", "list"]).output
    assert runner.invoke(app, ["keys", "create", "--role", "root"]).exit_code == 2
    shown = runner.invoke(app, ["config", "show"])
    assert shown.exit_code == 0
    config = json.loads(shown.stdout)
    assert config["host"] == "127.0.0.1" and config["secrets"]["signing"]["source"] == "environment"
    assert len(config["secrets"]["signing"]["key_ids"]) == 1
    site = load_secret("site", Settings()).hex()
    assert site not in shown.output and "ab" * 32 not in shown.output and created.stdout.strip() not in shown.output
