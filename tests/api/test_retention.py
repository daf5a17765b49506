"""What a run leaves behind: work files go once a run is released or quarantined (unless the policy
keeps them), and record ids are pseudonymized from the scrub on, so no split or report carries them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.pipeline import PipelineOptions, run_pipeline
from api.policy import RetentionPolicy, load_policy
from privacy.records import read_records, write_records

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
STAGES = ["scrub", "split", "synth", "audit", "release"]


@pytest.fixture
def log(data_dir):
    from api.db import open_database
    from audit.log import AuditLog

    engine = open_database(f"sqlite:///{data_dir / 'airlock.db'}")
    yield AuditLog(engine)
    engine.dispose()


def _work(tmp_path, completed: list[str], verdict: str) -> Path:
    """A job's work folder as a run leaves it after `completed` stages."""
    work = tmp_path / "work"
    (work / "finetune").mkdir(parents=True)
    checkpoint = {"run_id": "run-1", "completed": completed, "counts": {}, "timings": {}, "state": {"verdict": verdict}}
    (work / "checkpoint.json").write_text(json.dumps(checkpoint))
    for name in ("scrubbed.jsonl", "train.jsonl", "holdout.jsonl", "manifest.jsonl", "synthetic.jsonl"):
        (work / name).write_text('{"id": "P-1"}\n')
    (work / "finetune" / "step-1.pt").write_bytes(b"weights")
    return work


def _run(tmp_path, work: Path, log, keep: bool = False, source: Path | None = None):
    from api.settings import Settings

    policy = load_policy(SAMPLE / "policy.yaml")
    policy = policy.model_copy(update={"retention": RetentionPolicy(keep_work_files=keep)})
    return run_pipeline(source or tmp_path / "unused.jsonl", tmp_path / "bundle", policy, Settings(),
                        PipelineOptions(workdir=work), audit_log=log)


@pytest.mark.parametrize("verdict", ["pass", "quarantine"])
def test_work_files_are_deleted_once_a_run_is_released_or_quarantined(tmp_path, log, verdict):
    work = _work(tmp_path, STAGES, verdict)
    result = _run(tmp_path, work, log)
    assert result.verdict == verdict
    assert [p.name for p in work.iterdir()] == ["checkpoint.json"]  # a resumed run still knows it is done
    [entry] = [e for e in log.entries() if e.event == "retention.work_deleted"]
    assert entry.details == {"files": 6}
    assert _run(tmp_path, work, log).verdict == verdict  # resuming a finished run deletes nothing more


def test_the_policy_can_keep_work_files(tmp_path, log):
    kept = _work(tmp_path, STAGES, "pass")
    _run(tmp_path, kept, log, keep=True)
    assert {p.name for p in kept.iterdir()} >= {"scrubbed.jsonl", "manifest.jsonl", "finetune"}
    assert not [e for e in log.entries() if e.event == "retention.work_deleted"]


def test_record_ids_are_pseudonymized_from_the_scrub_on(tmp_path, log):
    from api.secrets import load_secret
    from api.settings import Settings
    from privacy.manifest import read_manifest

    records = list(read_records(SAMPLE / "records.jsonl"))[:40]
    source = write_records(tmp_path / "in.jsonl", records) and tmp_path / "in.jsonl"
    work = _work(tmp_path, ["synth", "audit", "release"], "pass")  # run the scrub and the split only
    _run(tmp_path, work, log, keep=True, source=source)
    ids = {str(r["id"]) for r in records}
    scrubbed = list(read_records(work / "scrubbed.jsonl"))
    pseudonyms = [r["id"] for r in scrubbed]
    assert len(set(pseudonyms)) == len(records) and all(p.startswith("rid-") for p in pseudonyms)
    splits = [r["id"] for name in ("train.jsonl", "holdout.jsonl") for r in read_records(work / name)]
    assert sorted(splits) == sorted(pseudonyms)
    findings = read_manifest(work / "manifest.jsonl", load_secret("site", Settings()))
    assert findings and {f.record_id for f in findings} <= set(pseudonyms)
    for name in ("scrubbed.jsonl", "train.jsonl", "holdout.jsonl", "manifest.jsonl"):
        text = (work / name).read_text()
        assert not [i for i in ids if f'"{i}"' in text], name
