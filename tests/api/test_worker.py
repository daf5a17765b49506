"""The worker inside `airlock serve` (the app's in-process worker): a job whose data the pipeline
refuses fails cleanly — a problem document without content, the upload destroyed, nothing released."""

from __future__ import annotations

import json
import time

from fastapi.testclient import TestClient

from api import jobs
from tests.api.conftest import PLANTED, auth, leaks, write_policy


def test_a_refused_job_fails_cleanly_in_the_serving_process(data_dir):
    from api.app import create_app
    from api.keys import create_key
    from api.settings import Settings

    write_policy(data_dir, "tiny")
    settings = Settings(data_dir=data_dir, poll_seconds=0.1)
    app = create_app(settings, worker=True)
    keys = {"submitter": create_key(app.state.engine, "submitter")}
    # The policy requires a `text` field; record 2 lacks it (and carries PII elsewhere).
    body = "".join(json.dumps(r) + "\n" for r in [
        {"id": "R-1", "kind": "note", "label": "a", "text": "Seen today."},
        {"id": "R-2", "kind": "note", "label": "a", "comment": f"mail {PLANTED['email']}"},
    ]).encode()
    with TestClient(app) as client:
        job_id = client.post("/v1/jobs", params={"policy": "tiny"}, content=body,
                             headers={"Content-Type": "application/x-ndjson", **auth(keys, "submitter")}).json()["id"]
        deadline = time.monotonic() + 120
        while (job := client.get(f"/v1/jobs/{job_id}", headers=auth(keys, "submitter")).json())["state"] not in jobs.FINAL:
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert job["state"] == jobs.FAILED and job["verdict"] is None
        assert job["error"]["status"] == 400 and "record 2" in job["error"]["detail"]
        assert "text" in job["error"]["detail"] and not leaks(json.dumps(job).encode())
        assert client.get(f"/v1/jobs/{job_id}/release", headers=auth(keys, "submitter")).status_code == 409
    folder = jobs.job_dir(settings.jobs_dir, job_id)
    assert not (folder / "upload.enc").exists() and jobs.get(app.state.engine, job_id).wrapped_key is None
    assert not (folder / jobs.BUNDLE / "synthetic.jsonl").exists()
    events = [e.event for e in app.state.audit_log.entries(job_id=job_id)]
    assert events[-2:] == ["run.failed", "job.failed"]
    app.state.engine.dispose()
