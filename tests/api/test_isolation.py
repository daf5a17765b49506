"""Native code never takes the service down: the job's child process is killed with SIGSEGV in the
middle of synthesis (as a llama.cpp crash would end it); the server keeps answering, the job fails
with a clear error and an audit-log entry, nothing is released, and a retry resumes and succeeds."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from fastapi.testclient import TestClient

from api import jobs
from api.worker import PID_FILE
from tests.api.conftest import as_jsonl, auth, leaks, planted_records, write_policy

pytestmark = pytest.mark.slow


def _wait(client, keys, job_id: str, until, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}", headers=auth(keys, "submitter")).json()
        if until(job):
            return job
        time.sleep(0.2)
    pytest.fail(f"timed out: {job['state']} at {job['stage']}")


def test_a_segfault_in_generation_fails_the_job_not_the_service(data_dir):
    from api.app import create_app
    from api.keys import create_key
    from api.settings import Settings

    write_policy(data_dir, "tiny")
    settings = Settings(data_dir=data_dir, poll_seconds=0.1, rate_limit_per_minute=10_000)
    app = create_app(settings, worker=True)
    keys = {"submitter": create_key(app.state.engine, "submitter", name="sam"),
            "auditor": create_key(app.state.engine, "auditor", name="ada")}
    with TestClient(app) as client:
        job_id = client.post("/v1/jobs", params={"policy": "tiny", "n": 2, "seed": 5}, content=as_jsonl(planted_records(27)),
                             headers={"Content-Type": "application/x-ndjson", **auth(keys, "submitter")}).json()["id"]
        _wait(client, keys, job_id, lambda j: j["stage"] == "synth")
        pid = int((jobs.job_dir(settings.jobs_dir, job_id) / PID_FILE).read_text())
        os.kill(pid, signal.SIGSEGV)

        failed = _wait(client, keys, job_id, lambda j: j["state"] in jobs.FINAL)
        assert client.get("/healthz").json() == {"status": "ok"}
        assert failed["state"] == jobs.FAILED and failed["verdict"] is None
        assert failed["error"]["title"] == "Engine crashed" and "SIGSEGV" in failed["error"]["detail"]
        assert "synth" in failed["error"]["detail"] and not leaks(json.dumps(failed).encode())
        assert client.get(f"/v1/jobs/{job_id}/release", headers=auth(keys, "submitter")).status_code == 409
        assert not (jobs.job_dir(settings.jobs_dir, job_id) / jobs.BUNDLE / "synthetic.jsonl").exists()
        entries = client.get("/v1/audit-log", params={"job_id": job_id}, headers=auth(keys, "auditor")).json()["entries"]
        crash = [e for e in entries if e["event"] == "job.failed"]
        assert crash and crash[-1]["details"]["signal"] == "SIGSEGV" and crash[-1]["details"]["stage"] == "synth"

        retried = client.post(f"/v1/jobs/{job_id}/retry", headers=auth(keys, "submitter"))
        assert retried.status_code == 202 and retried.json()["state"] == jobs.QUEUED
        done = _wait(client, keys, job_id, lambda j: j["state"] in jobs.FINAL)
        assert done["state"] == jobs.PASSED and done["verdict"] == "pass", done["error"]
        assert done["completed_stages"] == ["scrub", "split", "synth", "audit", "release"]
        assert client.get(f"/v1/jobs/{job_id}/release", headers=auth(keys, "submitter")).status_code == 200
        again = client.post(f"/v1/jobs/{job_id}/retry", headers=auth(keys, "submitter"))
        assert again.status_code == 409  # only failed jobs are retried
    app.state.engine.dispose()
