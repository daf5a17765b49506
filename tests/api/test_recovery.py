"""A worker killed with SIGKILL mid-job loses nothing: its lease expires, a second worker process
claims the job and resumes after the last completed stage, and the job is released only after a
completed audit. Runs on PostgreSQL when the suite has one (SQLite otherwise)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import jobs
from tests.api.conftest import POSTGRES, as_jsonl, auth, planted_records, postgres_schema, write_policy

pytestmark = pytest.mark.slow
AIRLOCK = str(Path(sys.executable).with_name("airlock"))


@pytest.fixture
def recovery_db(data_dir):
    if POSTGRES:
        yield from postgres_schema(POSTGRES)
    else:
        yield f"sqlite:///{data_dir / 'airlock.db'}"


def _worker(data_dir: Path, database_url: str, name: str) -> subprocess.Popen:
    env = {**os.environ, "AIRLOCK_DATA_DIR": str(data_dir), "AIRLOCK_DATABASE_URL": database_url,
           "AIRLOCK_LEASE_SECONDS": "3", "AIRLOCK_POLL_SECONDS": "0.2", "AIRLOCK_LOG_FILE": str(data_dir / f"{name}.log")}
    return subprocess.Popen([AIRLOCK, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait(engine, job_id: str, until, timeout: float, worker: subprocess.Popen):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = jobs.get(engine, job_id)
        if until(job):
            return job
        if worker.poll() is not None:
            pytest.fail(f"the worker exited early: {worker.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)
    pytest.fail(f"timed out; job is {job.state} at {job.stage}")


def test_a_killed_worker_loses_nothing(data_dir, recovery_db, monkeypatch):
    from api.app import create_app
    from api.keys import create_key
    from api.settings import Settings

    monkeypatch.setenv("AIRLOCK_DATABASE_URL", recovery_db)
    write_policy(data_dir, "tiny")
    app = create_app(Settings(data_dir=data_dir, database_url=recovery_db))
    engine = app.state.engine
    keys = {"submitter": create_key(engine, "submitter"), "auditor": create_key(engine, "auditor")}
    with TestClient(app) as client:
        job_id = client.post("/v1/jobs", params={"policy": "tiny", "n": 2, "seed": 5}, content=as_jsonl(planted_records(27)),
                             headers={"Content-Type": "application/x-ndjson", **auth(keys, "submitter")}).json()["id"]

        first = _worker(data_dir, recovery_db, "first")
        try:
            running = _wait(engine, job_id, lambda j: j.stage == "synth", 240, first)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        assert running.state == jobs.RUNNING and running.completed_stages == ["scrub", "split"]
        assert not (jobs.job_dir(data_dir / "jobs", job_id) / "upload.enc").exists()

        second = _worker(data_dir, recovery_db, "second")
        try:
            finished = _wait(engine, job_id, lambda j: j.state in jobs.FINAL, 300, second)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)

        assert finished.state == jobs.PASSED and finished.verdict == "pass", finished.error
        assert finished.attempts == 2 and finished.completed_stages == ["scrub", "split", "synth", "audit", "release"]
        entries = client.get("/v1/audit-log", params={"job_id": job_id}, headers=auth(keys, "auditor")).json()["entries"]
        events = [e["event"] for e in entries]
        assert events.count("job.claimed") == 2 and events.count("stage.scrub") == 1 and events.count("stage.split") == 1
        resumed = next(e for e in entries if e["event"] == "run.resumed")
        assert resumed["details"]["after"] == "split"
        assert events.index("stage.audit") < events.index("release.published")
        release = client.get(f"/v1/jobs/{job_id}/release", headers=auth(keys, "submitter"))
        assert release.status_code == 200
    engine.dispose()
