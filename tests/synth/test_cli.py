"""`airlock synth` on real files: records written, or one-line errors with exit 2 and no output."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.settings import Settings
from synth.store import DEFAULT_MODEL_FILE
from tests.synth.conftest import SCRUBBED

runner = CliRunner()


def test_synth_writes_records_and_a_summary(data_dir, tmp_path):
    out, summary = tmp_path / "synthetic.jsonl", tmp_path / "summary.json"
    result = runner.invoke(app, ["synth", str(SCRUBBED), "-o", str(out), "--mode", "classify", "-n", "2",
                                 "--label-field", "label", "--labels", "billing,login", "--seed", "9",
                                 "--max-tokens", "40", "--summary", str(summary)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    stats = json.loads(summary.read_text())
    assert len(records) == stats["generated"] >= 1
    assert all(r["_synthetic"] and r["label"] in {"billing", "login"} for r in records)
    assert f"{stats['generated']} of 2 records written to synthetic.jsonl" in result.stderr


@pytest.fixture
def unscrubbed(tmp_path):
    path = tmp_path / "raw.jsonl"
    path.write_text(json.dumps({"id": "1", "text": "Call Jane on 415-555-0199 about her refund"}) + "\n")
    return path


@pytest.fixture
def bad_schema(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps({"type": "object", "properties": {"text": {"type": 5}}}))
    return path


@pytest.mark.parametrize(
    "args, message",
    [
        (["--mode", "poetry"], "unknown synthesis mode 'poetry'"),
        (["--model", "absent"], "model 'absent' is not in the model store"),
        (["--schema", "{bad_schema}"], "schema.json: not a valid JSON Schema"),
        (["--schema", "{missing}"], "missing.json: no such schema file"),
        (["--input", "{unscrubbed}"], "input does not look scrubbed: record 1 field 'text' holds a phone number"),
        (["--input", "{missing}.jsonl"], "no such file"),
        (["--label-target", "billing=lots"], "--label-target"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_output(args, message, data_dir, tmp_path, bad_schema, unscrubbed):
    paths = {"bad_schema": bad_schema, "unscrubbed": unscrubbed, "missing": tmp_path / "missing.json"}
    args = [a.format(**paths) for a in args]
    source = str(SCRUBBED)
    if args[0] == "--input":
        source, args = args[1], args[2:]
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["synth", source, "-o", str(out), "-n", "1", *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and message in result.stderr and result.stderr.count("\n") == 1
    assert "415" not in result.stderr and not out.exists()
    assert list(tmp_path.glob(".out.jsonl.*")) == []


def test_a_corrupted_model_stops_synth(data_dir, tmp_path):
    model = Settings().models_dir / DEFAULT_MODEL_FILE
    original = model.resolve()
    model.unlink()
    with open(original, "rb") as src, open(model, "wb") as dst:
        shutil.copyfileobj(src, dst)
        dst.seek(1000)
        dst.write(b"\0" * 16)
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["synth", str(SCRUBBED), "-o", str(out), "-n", "1"])
    assert result.exit_code == 2
    assert "fails its SHA-256 check" in result.stderr and not out.exists()


def test_pii_filter_rejects_drafts_the_policy_detectors_flag(data_dir, tmp_path):
    """A policy recognizer that flags every long word: with the filter no draft passes; without it they do."""
    policy = tmp_path / "policy.yaml"
    policy.write_text("privacy:\n  recognizers:\n    - {name: word, entity: WORD, regex: '\\b[A-Za-z]{4,}\\b', score: 0.9}\n")
    out = tmp_path / "synthetic.jsonl"
    args = ["synth", str(SCRUBBED), "-o", str(out), "-n", "1", "--max-tokens", "40", "--policy", str(policy)]
    filtered = runner.invoke(app, args)
    assert filtered.exit_code == 2 and "invented_pii" in filtered.stderr and not out.exists()
    unfiltered = runner.invoke(app, [*args, "--no-pii-filter"])
    assert unfiltered.exit_code == 0, unfiltered.output
    assert "1 of 1 records written" in unfiltered.stderr
