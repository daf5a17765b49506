"""One real job end to end through the HTTP API and a real worker, on SQLite: upload → scrub →
split → synthesize (bundled SmolLM2) → audit → gate → four-eyes review → release. Then the planted
PII is searched for everywhere the job left traces."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, select

from api import jobs
from api.keys import create_key
from tests.api.conftest import as_jsonl, auth, leaks, planted_records, write_policy

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    """Submit one job, let a real worker run it, and hand the environment to the tests below."""
    from api.app import create_app
    from api.settings import Settings
    from api.worker import Worker

    data_dir = tmp_path_factory.mktemp("e2e") / "airlock"
    shared = Settings().models_dir
    (data_dir / "models").mkdir(parents=True)
    for item in shared.iterdir():
        if item.suffix == ".gguf":
            (data_dir / "models" / item.name).symlink_to(item)
        elif item.is_file():
            shutil.copy2(item, data_dir / "models" / item.name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRLOCK_DATA_DIR", str(data_dir))
        patch.setenv("HF_HUB_OFFLINE", "1")
        settings = Settings(data_dir=data_dir, log_file=data_dir / "airlock.log")
        write_policy(data_dir, "reviewed", release={"require_approval": True},
                     retention={"keep_work_files": True})  # the resume tests below copy its work files
        app = create_app(settings)
        engine = app.state.engine
        keys = {role: create_key(engine, role, name=f"{role}-person") for role in ("submitter", "reviewer", "auditor")}
        keys["same_person"] = create_key(engine, "reviewer", name="submitter-person")
        with TestClient(app, raise_server_exceptions=False) as client:
            submitted = client.post("/v1/jobs", params={"policy": "reviewed", "n": 2, "seed": 5},
                                    content=as_jsonl(planted_records(27)),
                                    headers={"Content-Type": "application/x-ndjson", **auth(keys, "submitter")})
            assert submitted.status_code == 202, submitted.text
            job_id = submitted.json()["id"]
            assert Worker(settings, engine).run_once()
            yield {"client": client, "keys": keys, "job_id": job_id, "settings": settings, "app": app}
        engine.dispose()


def test_the_job_ran_every_stage_and_awaits_review(done):
    status = done["client"].get(f"/v1/jobs/{done['job_id']}", headers=auth(done["keys"], "submitter")).json()
    assert status["state"] == jobs.AWAITING_REVIEW and status["verdict"] == "pass", status["error"]
    assert status["completed_stages"] == ["scrub", "split", "synth", "audit", "release"]
    assert set(status["timings"]) == set(status["completed_stages"]) and status["progress"] == 100
    assert status["counts"]["records"] == 27 and status["counts"]["holdout"] == 8
    assert status["counts"]["synthetic"] >= 1 and status["counts"]["findings"] >= 27 // 3 * 3
    assert status["attempts"] == 1 and status["review"] == {"required": True, "state": "pending"}


def test_the_upload_is_gone_once_scrubbed(done):
    folder = jobs.job_dir(done["settings"].jobs_dir, done["job_id"])
    assert not (folder / "upload.enc").exists()
    assert jobs.get(done["app"].state.engine, done["job_id"]).wrapped_key is None


def test_reports_are_readable_before_review(done):
    client, keys, job_id = done["client"], done["keys"], done["job_id"]
    report = client.get(f"/v1/jobs/{job_id}/report", headers=auth(keys, "reviewer")).json()
    assert report["verdict"] == "pass"
    html = client.get(f"/v1/jobs/{job_id}/report.html", headers=auth(keys, "auditor"))
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")


def test_release_needs_a_second_persons_approval(done):
    client, keys, job_id = done["client"], done["keys"], done["job_id"]
    blocked = client.get(f"/v1/jobs/{job_id}/release", headers=auth(keys, "submitter"))
    assert blocked.status_code == 409 and "approval" in blocked.json()["detail"]
    assert client.post(f"/v1/jobs/{job_id}/approve", headers=auth(keys, "submitter")).status_code == 403
    same = client.post(f"/v1/jobs/{job_id}/approve", headers=auth(keys, "same_person"))
    assert same.status_code == 403 and "four-eyes" in same.json()["detail"]
    approved = client.post(f"/v1/jobs/{job_id}/approve", headers=auth(keys, "reviewer"))
    assert approved.status_code == 200 and approved.json()["state"] == jobs.PASSED
    assert client.post(f"/v1/jobs/{job_id}/reject", headers=auth(keys, "reviewer")).status_code == 409

    release = client.get(f"/v1/jobs/{job_id}/release", headers=auth(keys, "submitter"))
    assert release.status_code == 200 and release.headers["content-type"] == "application/zip"
    done["release"] = release.content
    bundle = zipfile.ZipFile(io.BytesIO(release.content))
    assert sorted(bundle.namelist()) == ["DATASET_CARD.md", "report.html", "report.json", "report.json.sig",
                                         "signing-key.pub", "synthetic.jsonl"]
    synthetic = [json.loads(line) for line in bundle.read("synthetic.jsonl").splitlines()]
    assert synthetic and all(r["_synthetic"] is True and r["_provenance"]["model_sha256"] for r in synthetic)
    card = bundle.read("DATASET_CARD.md").decode()
    assert "synthetic" in card and synthetic[0]["_provenance"]["model_sha256"] in card


def test_the_released_report_verifies_offline(done, tmp_path):
    from audit.report import read_public_key, verify_report

    zipfile.ZipFile(io.BytesIO(done["release"])).extractall(tmp_path)
    key = read_public_key(tmp_path / "signing-key.pub")
    assert verify_report(tmp_path / "report.json", tmp_path / "report.json.sig", key)
    report = json.loads((tmp_path / "report.json").read_text())
    report["verdict"] = "pass " if report["verdict"] == "pass" else "pass"
    (tmp_path / "report.json").write_text(json.dumps(report))
    assert not verify_report(tmp_path / "report.json", tmp_path / "report.json.sig", key)


def test_every_step_is_in_the_verified_audit_log(done):
    client, keys, job_id = done["client"], done["keys"], done["job_id"]
    events = [e["event"] for e in client.get("/v1/audit-log", params={"job_id": job_id},
                                             headers=auth(keys, "auditor")).json()["entries"]]
    assert events == ["job.submitted", "job.claimed", "run.started", "stage.scrub", "stage.split", "stage.synth",
                      "audit.verdict", "stage.audit", "release.published", "stage.release", "job.finished",
                      "review.approved", "release.downloaded"]
    assert client.get("/v1/audit-log/verify", headers=auth(keys, "auditor")).json()["ok"] is True


def test_metrics_report_the_finished_job(done):
    text = done["client"].get("/metrics", headers=auth(done["keys"], "auditor")).text
    assert 'airlock_jobs{state="passed"} 1.0' in text
    assert 'airlock_gate_verdicts_total{verdict="pass"} 1.0' in text
    assert "airlock_records_scrubbed_total 27.0" in text
    assert 'airlock_stage_duration_seconds_count{stage="synth"} 1.0' in text


def test_readiness_sees_the_database_and_model(done):
    assert done["client"].get("/readyz").json()["status"] == "ready"
    models = done["client"].get("/v1/models", headers=auth(done["keys"], "auditor")).json()["models"]
    assert models and all(len(m["sha256"]) == 64 for m in models)


def test_no_planted_pii_anywhere_the_job_left_traces(done):
    """Logs, the database (file and rows), job files, reports, the release: zero hits."""
    settings, engine = done["settings"], done["app"].state.engine
    found = {}
    for path in settings.data_dir.rglob("*"):
        if path.is_file() and path.suffix != ".gguf":
            if hits := leaks(path.read_bytes()):
                found[str(path.relative_to(settings.data_dir))] = hits
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            rows = connection.execute(select(table)).all()
            if hits := leaks(repr(rows).encode()):
                found[f"table {table.name}"] = hits
    for name in zipfile.ZipFile(io.BytesIO(done["release"])).namelist():
        if hits := leaks(zipfile.ZipFile(io.BytesIO(done["release"])).read(name)):
            found[f"release {name}"] = hits
    assert (settings.data_dir / "airlock.log").stat().st_size > 0
    assert found == {}


def _resume_from_synth(done, tmp_path) -> Path:
    """A copy of the job's work directory as it was before its audit ran."""
    work = tmp_path / "work"
    shutil.copytree(jobs.job_dir(done["settings"].jobs_dir, done["job_id"]) / "work", work)
    checkpoint = json.loads((work / "checkpoint.json").read_text())
    checkpoint["completed"] = ["scrub", "split", "synth"]
    (work / "checkpoint.json").write_text(json.dumps(checkpoint))
    return work


def test_a_failed_gate_leaves_only_the_report_and_a_quarantine_marker(done, tmp_path):
    from api.pipeline import PipelineOptions, run_pipeline
    from api.policy import load_policy

    policy = load_policy(write_policy(done["settings"].data_dir, "strict",
                                      audit={"required": ["pii_rescan", "no_such_check"]}))
    out = tmp_path / "out"
    result = run_pipeline(tmp_path / "unused.jsonl", out, policy, done["settings"],
                          PipelineOptions(workdir=_resume_from_synth(done, tmp_path)),
                          audit_log=done["app"].state.audit_log)
    assert result.verdict == "quarantine" and not result.released
    assert sorted(p.name for p in out.iterdir()) == ["QUARANTINE.json", "report.html", "report.json", "report.json.sig"]
    assert "no_such_check" in json.loads((out / "report.json").read_text())["reasons"][-1]


def test_a_crash_in_the_audit_never_releases(done, tmp_path):
    from api.pipeline import PipelineOptions, run_pipeline
    from api.policy import load_policy
    from audit.errors import AuditError

    work = _resume_from_synth(done, tmp_path)
    (work / "holdout.jsonl").unlink()  # the audit cannot read its non-members
    out = tmp_path / "out"
    out.mkdir()
    (out / "synthetic.jsonl").write_text("stale output of an earlier run\n")
    policy = load_policy(done["settings"].data_dir / "policies" / "reviewed.yaml")
    with pytest.raises(AuditError, match="the audit did not complete"):
        run_pipeline(tmp_path / "unused.jsonl", out, policy, done["settings"], PipelineOptions(workdir=work),
                     audit_log=done["app"].state.audit_log)
    assert sorted(p.name for p in out.iterdir()) == ["QUARANTINE.json"]
    assert json.loads((out / "QUARANTINE.json").read_text())["reason"] == "the audit did not complete"
